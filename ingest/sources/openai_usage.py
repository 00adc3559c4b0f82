"""OpenAI Usage API (completions) and Costs API, through the official SDK or from saved JSON.

The SDK returns one page per call; we follow ``next_page`` ourselves. Pages are read
through ``with_raw_response`` so the JSON text is parsed here with ``parse_float=Decimal``
(cost amounts keep every digit) and unknown or missing fields never break a run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ingest.base import SourceError
from ingest.records import CostLine, UsageHourly
from ingest.sources import charge_kinds
from ingest.sources._common import (
    SavedResponseSource,
    aligned_bucket,
    bucket_width,
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


def _bucket_spans(buckets: list[dict], where: str) -> list[tuple[datetime, datetime]]:
    return [(utc_from_unix(b.get("start_time"), where, field=f"data[{i}].start_time"),
             utc_from_unix(b.get("end_time"), where, field=f"data[{i}].end_time")) for i, b in enumerate(buckets)]


def usage_records(buckets: list[dict], where: str, account_id: str, width_s: int | None = None) -> Iterator[UsageHourly]:
    """UsageHourly records from completions-usage buckets (nulls become '', batch -> is_batch).

    Each bucket is stored as the whole bucket of `width_s` (inferred from the page when not
    given) that holds it: a short first or last bucket and its later full re-pull share one key.
    """
    spans = _bucket_spans(buckets, where)
    width = width_s or bucket_width(spans)
    for i, bucket in enumerate(buckets):
        start, end = aligned_bucket(spans[i][0], width)
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


_LINE_ITEM = re.compile(r"^\s*(?P<model>[^,]+?)\s*,\s*(?P<kind>[^,]+?)\s*$")


def line_item_fields(line_item: str) -> tuple[str, str, str, str]:
    """(ai_class, charge_kind, model, token_type) from a Costs API line item.

    'gpt-4o-2024-08-06, cached input' is tokens of that model; 'GPT-4o, input' of gpt-4o;
    'web search tool calls', 'file search tool calls', 'Code Interpreter sessions', 'Image
    models', fine-tuning and storage lines are non-token charges in their own kind.
    """
    match = _LINE_ITEM.match(line_item)
    if match:
        token_type = charge_kinds.token_type_from_text(match.group("kind"))
        other = charge_kinds.non_token_kind(match.group("kind"))
        if token_type and other is None:
            return "token", "tokens", match.group("model").lower().replace(" ", "-"), token_type
    other = charge_kinds.non_token_kind(line_item)
    if other is not None:
        return "other_ai", other, "", ""
    return "token", "tokens", "", charge_kinds.token_type_from_text(line_item)


def cost_records(buckets: list[dict], where: str, account_id: str, width_s: int | None = None) -> Iterator[CostLine]:
    """CostLine records (basis cost_api) from costs buckets; amounts are Decimal dollars.

    The key is the whole day's bucket and the result's dimensions: a bucket repeated in a file or
    re-pulled with another start replaces the stored line instead of adding to it.
    """
    spans = _bucket_spans(buckets, where)
    width = width_s or bucket_width(spans)
    for i, bucket in enumerate(buckets):
        start, end = aligned_bucket(spans[i][0], width)
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
            quantity = res.get("quantity")
            quantity = None if quantity is None else parse_decimal(quantity, where, field=f"{path}.quantity")
            unit = str_or_empty(res.get("quantity_unit"))
            ai_class, kind, model, token_type = line_item_fields(line_item)
            yield CostLine(
                basis="cost_api",
                provider="openai",
                account_id=account_id,
                source_line_key=stable_key(int(start.timestamp()), project, key_id, line_item),
                charge_period_start_at=start,
                charge_period_end_at=end,
                billed_cost=value,
                currency=currency,
                project_id=project,
                api_key_id=key_id,
                model=model,
                line_item=line_item,
                service_name="OpenAI API",
                consumed_quantity=quantity,
                consumed_unit=unit,
                ai_class=ai_class,
                charge_kind=kind,
                token_type=token_type,
                tokens=charge_kinds.tokens_in(quantity, unit) if kind == "tokens" else 0,
            )


class _OpenAIPager:
    """Shared page loop: call the SDK raw, parse JSON text, follow next_page, track progress."""

    kind = ""
    bucket_width = "1d"

    def __init__(self, client: Any, account_id: str, start_time: datetime | int, end_time: datetime | int | None,
                 page: str | None, limit: int | None, on_page: Callable[[PageProgress], None] | None,
                 bucket_width: str = "1d"):
        self.client, self.account_id = client, account_id
        self.bucket_width = bucket_width
        width = self.width_s
        # Windows start and end on bucket boundaries: a short first bucket would be stored as the
        # whole one, and a short last one is the unfinished bucket "up to now".
        self.start_ts = _to_unix(start_time) // width * width
        self.end_ts = None if end_time is None else _to_unix(end_time) // width * width
        self.first_page, self.limit, self.on_page = page, limit, on_page
        self.progress: PageProgress | None = None

    @property
    def width_s(self) -> int:
        """The bucket width in seconds."""
        return _WIDTH_SECONDS.get(self.bucket_width, 86400)

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
        if self.end_ts is not None and self.end_ts <= self.start_ts:
            return  # no whole bucket in the window yet
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
        super().__init__(client, account_id, start_time, end_time, page, limit, on_page, bucket_width)
        self.group_by = list(group_by)

    def _call(self, params: dict) -> Any:
        usage = self.client.admin.organization.usage.with_raw_response
        return usage.completions(bucket_width=self.bucket_width, group_by=self.group_by, **params)

    def collect(self) -> Iterator[UsageHourly]:
        """Yield usage records page by page, following next_page."""
        for where, buckets in self._pages():
            yield from usage_records(buckets, where, self.account_id, self.width_s)


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
            yield from cost_records(buckets, where, self.account_id, self.width_s)


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
