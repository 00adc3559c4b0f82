"""Anthropic Admin API: messages usage report and cost report, over httpx or from saved JSON.

Cost amounts are decimal STRINGS in cents ("123.45" USD is $1.2345). Total input tokens
are uncached + cache creation (1h + 5m) + cache read. Pages loop while ``has_more``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ingest.base import SourceError
from ingest.records import CostLine, UsageHourly
from ingest.sources import charge_kinds
from ingest.sources._common import (
    SavedResponseSource,
    aligned_bucket,
    bucket_width,
    currency_code,
    floor_to,
    loads_json,
    parse_decimal,
    parse_utc,
    stable_key,
    str_or_empty,
    token_count,
)
from models import bounds

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
USAGE_PATH = "/v1/organizations/usage_report/messages"
COST_PATH = "/v1/organizations/cost_report"
USAGE_GROUP_BY = ("api_key_id", "workspace_id", "model", "service_tier")
COST_GROUP_BY = ("workspace_id", "description")
RETRY_STATUSES = {429, 500, 502, 503, 504, 529}


def _rfc3339(value: datetime | str, field: str) -> str:
    parsed = parse_utc(value, "anthropic", field=field)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


def _buckets_of(doc: Any, where: str) -> list[dict]:
    if isinstance(doc, list):
        buckets = doc
    elif isinstance(doc, dict) and isinstance(doc.get("data"), list):
        buckets = doc["data"]
    else:
        raise SourceError(where, "expected a report object with 'data' or a list of buckets", field="data")
    for i, bucket in enumerate(buckets):
        if not isinstance(bucket, dict) or not isinstance(bucket.get("results", []), list):
            raise SourceError(where, "bucket is not an object with a 'results' list", field=f"data[{i}]")
    return buckets


_WIDTHS = {"1m": 60, "1h": 3600, "1d": 86400}
# cost report token_type -> our token types
_TOKEN_TYPES = {"uncached_input_tokens": "input", "output_tokens": "output", "cache_read_input_tokens": "cached_input",
                "cache_creation.ephemeral_1h_input_tokens": "cache_write_1h",
                "cache_creation.ephemeral_5m_input_tokens": "cache_write_5m"}
_COST_KINDS = {"tokens": "tokens", "web_search": "web_search", "code_execution": "code_execution"}


def _bucket_times(bucket: dict, where: str, i: int) -> tuple[datetime, datetime]:
    return (parse_utc(bucket.get("starting_at"), where, field=f"data[{i}].starting_at"),
            parse_utc(bucket.get("ending_at"), where, field=f"data[{i}].ending_at"))


def _aligned(buckets: list[dict], where: str, width_s: int | None) -> list[tuple[datetime, datetime]]:
    """Each bucket as the whole bucket that holds it, so a re-pull with another start replaces it."""
    spans = [_bucket_times(b, where, i) for i, b in enumerate(buckets)]
    width = width_s or bucket_width(spans)
    return [aligned_bucket(start, width) for start, _end in spans]


def usage_records(buckets: list[dict], where: str, account_id: str, width_s: int | None = None) -> Iterator[UsageHourly]:
    """UsageHourly records from usage-report buckets; workspace_id goes to project_id."""
    spans = _aligned(buckets, where, width_s)
    for i, bucket in enumerate(buckets):
        start, end = spans[i]
        for j, res in enumerate(bucket.get("results") or []):
            path = f"data[{i}].results[{j}]"
            creation = res.get("cache_creation") or {}
            if not isinstance(creation, dict):
                raise SourceError(where, "cache_creation is not an object", field=f"{path}.cache_creation")
            uncached = token_count(res.get("uncached_input_tokens"), where, field=f"{path}.uncached_input_tokens")
            write_1h = token_count(creation.get("ephemeral_1h_input_tokens"), where,
                                   field=f"{path}.cache_creation.ephemeral_1h_input_tokens")
            write_5m = token_count(creation.get("ephemeral_5m_input_tokens"), where,
                                   field=f"{path}.cache_creation.ephemeral_5m_input_tokens")
            read = token_count(res.get("cache_read_input_tokens"), where, field=f"{path}.cache_read_input_tokens")
            tier = str_or_empty(res.get("service_tier"))
            yield UsageHourly(
                provider="anthropic",
                account_id=account_id or str_or_empty(res.get("account_id")),
                bucket_start_at=start,
                bucket_end_at=end,
                model=str_or_empty(res.get("model")),
                project_id=str_or_empty(res.get("workspace_id")),
                api_key_id=str_or_empty(res.get("api_key_id")),
                is_batch=tier == "batch",
                service_tier=tier,
                input_tokens=uncached + write_1h + write_5m + read,
                cached_input_tokens=read,
                cache_write_input_tokens=write_1h + write_5m,
                cache_write_1h_input_tokens=write_1h,
                output_tokens=token_count(res.get("output_tokens"), where, field=f"{path}.output_tokens"),
            )


def cost_records(buckets: list[dict], where: str, account_id: str, width_s: int | None = None) -> Iterator[CostLine]:
    """CostLine records (basis cost_api) from cost-report buckets; cents strings become dollars.

    The report's own model, token type and cost type say what each line is for; the key is the
    whole day's bucket and those fields, so a repeated or re-pulled bucket is never summed twice.
    """
    spans = _aligned(buckets, where, width_s)
    for i, bucket in enumerate(buckets):
        start, end = spans[i]
        for j, res in enumerate(bucket.get("results") or []):
            path = f"data[{i}].results[{j}]"
            cents = parse_decimal(res.get("amount"), where, field=f"{path}.amount")
            bounds.check("amount", cents / 100, field=f"{path}.amount", where=where)
            dims = {k: str_or_empty(res.get(k)) for k in
                    ("cost_type", "token_type", "context_window", "service_tier", "inference_geo")}
            workspace, description = str_or_empty(res.get("workspace_id")), str_or_empty(res.get("description"))
            model = str_or_empty(res.get("model"))
            kind = _COST_KINDS.get(dims["cost_type"]) if dims["cost_type"] else None
            if kind is None:
                kind = charge_kinds.non_token_kind(dims["cost_type"], description) or (
                    "other" if dims["cost_type"] else "tokens")
            token_type = _TOKEN_TYPES.get(dims["token_type"]) or (
                charge_kinds.token_type_from_text(dims["token_type"], description) if kind == "tokens" else "")
            yield CostLine(
                basis="cost_api",
                provider="anthropic",
                account_id=account_id,
                source_line_key=stable_key(start.isoformat(), workspace, description, model, *dims.values()),
                charge_period_start_at=start,
                charge_period_end_at=end,
                billed_cost=cents / Decimal(100),
                currency=currency_code(res.get("currency", "USD"), where, field=f"{path}.currency"),
                project_id=workspace,
                model=model,
                line_item=description,
                service_name="Anthropic API",
                ai_class="token" if kind == "tokens" else "other_ai",
                tags={k: v for k, v in dims.items() if v},
                charge_kind=kind,
                token_type=token_type,
            )


class _AnthropicReport:
    """Shared page loop with bounded retries on 429/5xx that honour retry-after."""

    name = ""
    path = ""
    kind = ""

    def __init__(self, account_id: str, starting_at: datetime | str, ending_at: datetime | str | None,
                 bucket_width: str, group_by: tuple[str, ...] | list[str], api_key: str | None,
                 base_url: str | None, client: httpx.Client | None, max_retries: int, backoff_s: float,
                 max_backoff_s: float, limit: int | None, page: str | None, sleep: Callable[[float], None]):
        self.account_id = account_id
        self.width_s = _WIDTHS.get(bucket_width, 86400)
        # Windows start and end on bucket boundaries (UTC minutes, hours or days).
        self.starting_at = _rfc3339(floor_to(parse_utc(starting_at, "anthropic", field="starting_at"), self.width_s),
                                    "starting_at")
        self.ending_at = None if ending_at is None else _rfc3339(
            floor_to(parse_utc(ending_at, "anthropic", field="ending_at"), self.width_s), "ending_at")
        self.bucket_width, self.group_by, self.limit, self.first_page = bucket_width, list(group_by), limit, page
        self.api_key = api_key if api_key is not None else os.environ.get("ANTHROPIC_ADMIN_KEY", "")
        self.base_url = (base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.client, self.max_retries, self.sleep = client, max_retries, sleep
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.next_page: str | None = None  # cursor of the page after the last fully read one
        self.pages_read = 0

    def describe(self) -> str:
        """Say which API and window this source reads."""
        return f"api anthropic {self.kind} {self.starting_at}..{self.ending_at or 'now'}"

    def _params(self, cursor: str | None) -> list[tuple[str, str]]:
        params = [("starting_at", self.starting_at), ("bucket_width", self.bucket_width)]
        if self.ending_at:
            params.append(("ending_at", self.ending_at))
        params += [("group_by[]", g) for g in self.group_by]
        if self.limit is not None:
            params.append(("limit", str(self.limit)))
        if cursor:
            params.append(("page", cursor))
        return params

    def _wait(self, response: httpx.Response | None, attempt: int) -> float:
        header = response.headers.get("retry-after") if response is not None else None
        delay = self.backoff_s * (2 ** attempt)
        if header:
            try:
                delay = float(header)
            except ValueError:
                try:
                    delay = (parsedate_to_datetime(header) - datetime.now(timezone.utc)).total_seconds()
                except (TypeError, ValueError):
                    pass
        return max(0.0, min(delay, self.max_backoff_s))

    def _get(self, client: httpx.Client, cursor: str | None, where: str) -> dict:
        headers = {"x-api-key": self.api_key, "anthropic-version": API_VERSION}
        for attempt in range(self.max_retries + 1):
            response = None
            try:
                response = client.get(self.base_url + self.path, params=self._params(cursor), headers=headers)
            except httpx.TransportError as exc:
                if attempt == self.max_retries:
                    raise SourceError(where, f"connection failed after {attempt + 1} tries: {exc}") from exc
            else:
                if response.status_code == 200:
                    doc = loads_json(response.text, where)
                    if not isinstance(doc, dict):
                        raise SourceError(where, "response is not a JSON object")
                    return doc
                if response.status_code not in RETRY_STATUSES or attempt == self.max_retries:
                    tries = f" after {attempt + 1} tries" if attempt else ""
                    raise SourceError(where, f"HTTP {response.status_code}{tries}: {response.text[:300]}")
            self.sleep(self._wait(response, attempt))
        raise AssertionError("unreachable")

    def _pages(self) -> Iterator[tuple[str, list[dict]]]:
        if self.ending_at is not None and self.ending_at <= self.starting_at:
            return  # no whole bucket in the window yet
        client = self.client or httpx.Client(timeout=60)
        cursor, number, seen = self.first_page, 0, set()
        try:
            while True:
                number += 1
                where = f"{self.describe()} page {number}" + (f" (cursor {cursor})" if cursor else "")
                doc = self._get(client, cursor, where)
                yield where, _buckets_of(doc, where)
                self.pages_read = number
                self.next_page = doc.get("next_page") if doc.get("has_more") else None
                if not doc.get("has_more"):
                    return
                cursor = doc.get("next_page")
                if not cursor or cursor in seen:
                    raise SourceError(where, f"has_more is true but next_page is {cursor!r}", field="next_page")
                seen.add(cursor)
        finally:
            if self.client is None:
                client.close()


class AnthropicUsageSource(_AnthropicReport):
    """Messages usage report from the Anthropic Admin API as UsageHourly."""

    name = "anthropic_usage"
    path = USAGE_PATH
    kind = "usage"

    def __init__(self, account_id: str, starting_at: datetime | str, ending_at: datetime | str | None = None,
                 bucket_width: str = "1h", group_by: tuple[str, ...] | list[str] = USAGE_GROUP_BY, *,
                 api_key: str | None = None, base_url: str | None = None, client: httpx.Client | None = None,
                 max_retries: int = 4, backoff_s: float = 1.0, max_backoff_s: float = 60.0,
                 limit: int | None = None, page: str | None = None, sleep: Callable[[float], None] = time.sleep):
        """Read usage buckets for [starting_at, ending_at); key from ANTHROPIC_ADMIN_KEY by default."""
        super().__init__(account_id, starting_at, ending_at, bucket_width, group_by, api_key, base_url, client,
                         max_retries, backoff_s, max_backoff_s, limit, page, sleep)

    def collect(self) -> Iterator[UsageHourly]:
        """Yield usage records page by page while has_more."""
        for where, buckets in self._pages():
            yield from usage_records(buckets, where, self.account_id, self.width_s)


class AnthropicCostSource(_AnthropicReport):
    """Cost report from the Anthropic Admin API as CostLine (cents strings -> Decimal dollars)."""

    name = "anthropic_costs"
    path = COST_PATH
    kind = "costs"

    def __init__(self, account_id: str, starting_at: datetime | str, ending_at: datetime | str | None = None,
                 group_by: tuple[str, ...] | list[str] = COST_GROUP_BY, *,
                 api_key: str | None = None, base_url: str | None = None, client: httpx.Client | None = None,
                 max_retries: int = 4, backoff_s: float = 1.0, max_backoff_s: float = 60.0,
                 limit: int | None = None, page: str | None = None, sleep: Callable[[float], None] = time.sleep):
        """Read daily cost buckets for [starting_at, ending_at); key from ANTHROPIC_ADMIN_KEY by default."""
        super().__init__(account_id, starting_at, ending_at, "1d", group_by, api_key, base_url, client,
                         max_retries, backoff_s, max_backoff_s, limit, page, sleep)

    def collect(self) -> Iterator[CostLine]:
        """Yield cost lines page by page while has_more."""
        for where, buckets in self._pages():
            yield from cost_records(buckets, where, self.account_id, self.width_s)


class AnthropicUsageFileSource(SavedResponseSource):
    """A saved usage-report response (or a list of its buckets)."""

    name = "anthropic_usage_file"
    buckets_of = staticmethod(_buckets_of)
    records = staticmethod(usage_records)


class AnthropicCostFileSource(SavedResponseSource):
    """A saved cost-report response (or a list of its buckets)."""

    name = "anthropic_costs_file"
    buckets_of = staticmethod(_buckets_of)
    records = staticmethod(cost_records)
