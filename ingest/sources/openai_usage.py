"""OpenAI Usage API (completions) and Costs API, through the official SDK or from saved JSON.

The SDK returns one page per call; we follow ``next_page`` ourselves. Pages are read
through ``with_raw_response`` so the JSON text is parsed here with ``parse_float=Decimal``
(cost amounts keep every digit) and unknown or missing fields never break a run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ingest.base import SourceError
from ingest.records import CostLine, UsageHourly
from ingest.sources._common import (
    SavedResponseSource,
    currency_code,
    loads_json,
    parse_decimal,
    stable_key,
    str_or_empty,
    token_count,
    utc_from_unix,
)
from models import bounds

DEFAULT_GROUP_BY = ("project_id", "api_key_id", "model", "batch")
_WIDTH_SECONDS = {"1m": 60, "1h": 3600, "1d": 86400}


@dataclass(frozen=True, slots=True)
class PageProgress:
    """What the collector knows after fully reading one page: where to resume from."""

    page_number: int
    resume_from: datetime  # start_time for a re-run that misses nothing already read
    next_page: str | None  # the API cursor for the following page, if any


def make_client(admin_key: str | None = None, base_url: str | None = None, max_retries: int = 4) -> Any:
    """An OpenAI SDK client for the Admin API (key and URL default to OPENAI_ADMIN_KEY, OPENAI_BASE_URL)."""
    import openai

    return openai.OpenAI(api_key="unused-admin-only", admin_api_key=admin_key, base_url=base_url,
                         max_retries=max_retries)


def _to_unix(value: datetime | int) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise SourceError("openai", f"naive datetime {value} (give a time zone)", field="start_time/end_time")
        return int(value.timestamp())
    return int(value)


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def _buckets_of(doc: Any, where: str) -> list[dict]:
    """The bucket list of a page ({object: page, data: [...]}) or of a merged list."""
    if isinstance(doc, list):
        buckets = doc
    elif isinstance(doc, dict) and isinstance(doc.get("data"), list):
        buckets = doc["data"]
    else:
        raise SourceError(where, "expected a page object with 'data' or a list of buckets", field="data")
    for i, bucket in enumerate(buckets):
        if not isinstance(bucket, dict) or not isinstance(bucket.get("results", []), list):
            raise SourceError(where, "bucket is not an object with a 'results' list", field=f"data[{i}]")
    return buckets


def usage_records(buckets: list[dict], where: str, account_id: str) -> Iterator[UsageHourly]:
    """UsageHourly records from completions-usage buckets (nulls become '', batch -> is_batch)."""
    for i, bucket in enumerate(buckets):
        start = utc_from_unix(bucket.get("start_time"), where, field=f"data[{i}].start_time")
        end = utc_from_unix(bucket.get("end_time"), where, field=f"data[{i}].end_time")
        for j, res in enumerate(bucket.get("results") or []):
            path = f"data[{i}].results[{j}]"

            def count(key: str) -> int:
                return token_count(res.get(key), where, field=f"{path}.{key}")

            yield UsageHourly(
                provider="openai",
                account_id=account_id,
                bucket_start_at=start,
                bucket_end_at=end,
                model=str_or_empty(res.get("model")),
                project_id=str_or_empty(res.get("project_id")),
                api_key_id=str_or_empty(res.get("api_key_id")),
                user_id=str_or_empty(res.get("user_id")),
                is_batch=bool(res.get("batch")),
                service_tier=str_or_empty(res.get("service_tier")),
                input_tokens=count("input_tokens"),
                cached_input_tokens=count("input_cached_tokens"),
                cache_write_input_tokens=count("input_cache_write_tokens"),
                output_tokens=count("output_tokens"),
                num_requests=count("num_model_requests"),
            )


def cost_records(buckets: list[dict], where: str, account_id: str) -> Iterator[CostLine]:
    """CostLine records (basis cost_api) from costs buckets; amounts are Decimal dollars."""
    seen: dict[str, int] = {}
    for i, bucket in enumerate(buckets):
        start = utc_from_unix(bucket.get("start_time"), where, field=f"data[{i}].start_time")
        end = utc_from_unix(bucket.get("end_time"), where, field=f"data[{i}].end_time")
        for j, res in enumerate(bucket.get("results") or []):
            path = f"data[{i}].results[{j}]"
            amount = res.get("amount")
            if not isinstance(amount, dict):
                raise SourceError(where, "missing amount object", field=f"{path}.amount")
            value = parse_decimal(amount.get("value"), where, field=f"{path}.amount.value")
            bounds.check("amount", value, field=f"{path}.amount.value", where=where)
            currency = currency_code(amount.get("currency"), where, field=f"{path}.amount.currency")
            project, key_id = str_or_empty(res.get("project_id")), str_or_empty(res.get("api_key_id"))
            line_item = str_or_empty(res.get("line_item"))
            base = stable_key(int(start.timestamp()), project, key_id, line_item)
            seen[base] = seen.get(base, 0) + 1
            quantity = res.get("quantity")
            yield CostLine(
                basis="cost_api",
                provider="openai",
                account_id=account_id,
                source_line_key=base if seen[base] == 1 else f"{base}#{seen[base]}",
                charge_period_start_at=start,
                charge_period_end_at=end,
                billed_cost=value,
                currency=currency,
                project_id=project,
                api_key_id=key_id,
                line_item=line_item,
                service_name="OpenAI API",
                consumed_quantity=None if quantity is None else parse_decimal(quantity, where, field=f"{path}.quantity"),
                consumed_unit=str_or_empty(res.get("quantity_unit")),
            )


class _OpenAIPager:
    """Shared page loop: call the SDK raw, parse JSON text, follow next_page, track progress."""

    kind = ""
    bucket_width = "1d"

    def __init__(self, client: Any, account_id: str, start_time: datetime | int, end_time: datetime | int | None,
                 page: str | None, limit: int | None, on_page: Callable[[PageProgress], None] | None):
        self.client, self.account_id = client, account_id
        self.start_ts = _to_unix(start_time)
        self.end_ts = None if end_time is None else _to_unix(end_time)
        self.first_page, self.limit, self.on_page = page, limit, on_page
        self.progress: PageProgress | None = None

    @property
    def last_page_cursor(self) -> datetime | None:
        """Where a re-run should start: the bucket end of the last fully read page (None before any)."""
        return None if self.progress is None else self.progress.resume_from

    def describe(self) -> str:
        """Say which API and window this source reads."""
        end = _iso(self.end_ts) if self.end_ts is not None else "now"
        return f"api openai {self.kind} {_iso(self.start_ts)}..{end}"

    def _call(self, params: dict) -> Any:
        raise NotImplementedError

    def _resume_point(self, buckets: list[dict]) -> datetime:
        width = _WIDTH_SECONDS.get(self.bucket_width, 86400)
        best = self.start_ts if self.progress is None else int(self.progress.resume_from.timestamp())
        for bucket in buckets:
            start, end = int(bucket.get("start_time", 0)), int(bucket.get("end_time", 0))
            # A bucket that ends off a boundary is the partial "up to now" one: resume at its start.
            best = max(best, end if end % width == 0 else start)
        return datetime.fromtimestamp(best, tz=timezone.utc)

    def _pages(self) -> Iterator[tuple[str, list[dict]]]:
        cursor, number = self.first_page, 0
        seen_cursors: set[str] = set()
        while True:
            number += 1
            where = f"{self.describe()} page {number}" + (f" (cursor {cursor})" if cursor else "")
            params: dict[str, Any] = {"start_time": self.start_ts}
            if self.end_ts is not None:
                params["end_time"] = self.end_ts
            if self.limit is not None:
                params["limit"] = self.limit
            if cursor:
                params["page"] = cursor
            doc = self._fetch(params, where)
            buckets = _buckets_of(doc, where)
            yield where, buckets
            cursor = doc.get("next_page") if doc.get("has_more", bool(doc.get("next_page"))) else None
            self.progress = PageProgress(number, self._resume_point(buckets), cursor)
            if self.on_page is not None:
                self.on_page(self.progress)
            if not cursor:
                return
            if cursor in seen_cursors:
                raise SourceError(where, f"API returned the same next_page cursor twice: {cursor!r}", field="next_page")
            seen_cursors.add(cursor)

    def _fetch(self, params: dict, where: str) -> dict:
        import openai

        try:
            raw = self._call(params)
        except openai.APIStatusError as exc:
            raise SourceError(where, f"HTTP {exc.status_code}: {exc.message}") from exc
        except openai.APIConnectionError as exc:
            raise SourceError(where, f"connection failed: {exc}") from exc
        doc = loads_json(raw.text, where)
        if not isinstance(doc, dict):
            raise SourceError(where, "response is not a JSON object")
        return doc


class OpenAIUsageSource(_OpenAIPager):
    """Completions usage from the OpenAI Admin API, one UsageHourly per bucket and dimension set."""

    name = "openai_usage"
    kind = "usage"

    def __init__(self, client: Any, account_id: str, start_time: datetime | int, end_time: datetime | int | None = None,
                 bucket_width: str = "1h", group_by: tuple[str, ...] | list[str] = DEFAULT_GROUP_BY, *,
                 page: str | None = None, limit: int | None = None,
                 on_page: Callable[[PageProgress], None] | None = None):
        """Read [start_time, end_time) with the given SDK client (``OpenAI(admin_api_key=...)``)."""
        if bucket_width not in _WIDTH_SECONDS:
            raise SourceError("openai usage", f"bucket_width must be one of {sorted(_WIDTH_SECONDS)}", field="bucket_width")
        super().__init__(client, account_id, start_time, end_time, page, limit, on_page)
        self.bucket_width, self.group_by = bucket_width, list(group_by)

    def _call(self, params: dict) -> Any:
        usage = self.client.admin.organization.usage.with_raw_response
        return usage.completions(bucket_width=self.bucket_width, group_by=self.group_by, **params)

    def collect(self) -> Iterator[UsageHourly]:
        """Yield usage records page by page, following next_page."""
        for where, buckets in self._pages():
            yield from usage_records(buckets, where, self.account_id)


class OpenAICostsSource(_OpenAIPager):
    """Daily costs from the OpenAI Admin API as CostLine (basis cost_api, dollars as Decimal)."""

    name = "openai_costs"
    kind = "costs"

    def __init__(self, client: Any, account_id: str, start_time: datetime | int, end_time: datetime | int | None = None,
                 group_by: tuple[str, ...] | list[str] = ("project_id", "line_item", "api_key_id"), *,
                 page: str | None = None, limit: int | None = None,
                 on_page: Callable[[PageProgress], None] | None = None):
        """Read daily cost buckets for [start_time, end_time) with the given SDK client."""
        super().__init__(client, account_id, start_time, end_time, page, limit, on_page)
        self.group_by = list(group_by)

    def _call(self, params: dict) -> Any:
        usage = self.client.admin.organization.usage.with_raw_response
        return usage.costs(bucket_width="1d", group_by=self.group_by, **params)

    def collect(self) -> Iterator[CostLine]:
        """Yield cost lines page by page, following next_page."""
        for where, buckets in self._pages():
            yield from cost_records(buckets, where, self.account_id)


class OpenAIUsageFileSource(SavedResponseSource):
    """Completions usage from a saved page JSON or the cookbook's merged bucket list."""

    name = "openai_usage_file"
    buckets_of = staticmethod(_buckets_of)
    records = staticmethod(usage_records)


class OpenAICostsFileSource(SavedResponseSource):
    """Costs from a saved costs page JSON (or a merged bucket list)."""

    name = "openai_costs_file"
    buckets_of = staticmethod(_buckets_of)
    records = staticmethod(cost_records)
