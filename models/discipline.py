"""Workflow discipline per team or workload: the scorecard, its JSON, and the What-if levers' inputs.

Formulas (per group, over served requests in [since, until); docs/workflow.md has the same text):
- repeat_share = repeats / requests with a fingerprint; a repeat is a request whose
  fingerprint was served in the same workload within `repeat_window_s` before it.
  repeat_savings_usd = cost of those repeats (what a response cache would have saved).
  Both null when no request has a fingerprint ("not measurable").
- reasoning_share = requests to reasoning models (name matches `reasoning_models`, or
  reasoning_tokens > 0) / requests; reasoning_tokens_per_request over those requests.
- routable: reasoning requests on a token API whose visible output
  (output - reasoning tokens) < `short_output_tokens`; reasoning_savings_usd = sum of
  max(cost - same tokens at the cheap model's prices, 0) over routable non-repeats, times
  (1 - batch_discount) for those also batchable.
- loop_requests: requests in bursts of >= `loop_min_requests` from one user (or key, or
  job) to one model, each within `loop_gap_s` of the previous, with the same fingerprint
  or an input size within `loop_size_tolerance`; a burst ends at UTC midnight.
- batch candidates: token-API requests not already batch, sent in off-hours
  [offhours_start, offhours_end) UTC or when their user/key sent >= `bulk_per_minute`
  requests in that minute; batch_savings_usd = batch_discount x cost of the non-repeats.
- rate_limited_share = HTTP 429 attempts / all attempts; latency percentiles over served requests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import Connection

from models.queries.discipline import ROLLUP_THRESHOLDS, discipline_rows

DEFAULT_REASONING_MODELS = ("o1*", "o3*", "o4*", "gpt-5*", "*-thinking*", "*-reasoner", "deepseek-r1*",
                            "claude-*opus*")


def glob_to_like(pattern: str) -> str:
    """A shell glob (* and ?) as a lower-case SQL LIKE pattern, LIKE's own wildcards escaped."""
    escaped = pattern.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


@dataclass(frozen=True)
class DisciplineConfig:
    """The thresholds and prices the discipline metrics use (every one configurable)."""

    repeat_window_s: float = ROLLUP_THRESHOLDS["repeat_window_s"]
    reasoning_models: tuple[str, ...] = DEFAULT_REASONING_MODELS
    short_output_tokens: int = ROLLUP_THRESHOLDS["short_output_tokens"]
    cheap_provider: str = "openai"
    cheap_model: str = "gpt-4.1-mini"
    cheap_input_usd_per_mtok: Decimal = Decimal("0.40")  # used when the catalog has no cheap-model price
    cheap_cached_input_usd_per_mtok: Decimal = Decimal("0.40")
    cheap_output_usd_per_mtok: Decimal = Decimal("1.60")
    loop_gap_s: float = ROLLUP_THRESHOLDS["loop_gap_s"]
    loop_min_requests: int = ROLLUP_THRESHOLDS["loop_min_requests"]
    loop_size_tolerance: float = ROLLUP_THRESHOLDS["loop_size_tolerance"]
    offhours_start: int = 0
    offhours_end: int = 6
    bulk_per_minute: int = ROLLUP_THRESHOLDS["bulk_per_minute"]
    batch_discount: Decimal = Decimal("0.5")

    def params(self) -> dict[str, Any]:
        """The SQL parameters for models.queries.discipline."""
        d = asdict(self)
        out = {k: v for k, v in d.items() if not k.startswith("cheap_") and k != "reasoning_models"}
        out.update(reasoning_patterns=[glob_to_like(p) for p in self.reasoning_models],
                   cheap_provider=self.cheap_provider, cheap_model=self.cheap_model,
                   cheap_input=self.cheap_input_usd_per_mtok, cheap_cached=self.cheap_cached_input_usd_per_mtok,
                   cheap_output=self.cheap_output_usd_per_mtok)
        return out


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num.cast(pl.Float64) / den.cast(pl.Float64)).otherwise(None)


def scorecard(conn: Connection, *, since: datetime, until: datetime, by: str = "team",
              config: DisciplineConfig | None = None) -> pl.DataFrame:
    """One row per team or workload: counts, shares (null when not measurable), savings in USD."""
    raw = discipline_rows(conn, since=since, until=until, by=by, params=(config or DisciplineConfig()).params())
    return derive(raw)


def derive(raw: pl.DataFrame) -> pl.DataFrame:
    """Add the shares and per-request figures to the raw counts; repeat figures null without fingerprints."""
    measurable = pl.col("fingerprinted_requests") > 0
    return raw.with_columns(
        _ratio(pl.col("repeat_requests"), pl.col("fingerprinted_requests")).alias("repeat_share"),
        pl.when(measurable).then(pl.col("repeat_savings_usd").fill_null(Decimal(0)))
        .otherwise(None).alias("repeat_savings_usd"),
        _ratio(pl.col("reasoning_requests"), pl.col("requests")).alias("reasoning_share"),
        _ratio(pl.col("reasoning_tokens"), pl.col("reasoning_requests")).alias("reasoning_tokens_per_request"),
        _ratio(pl.col("routable_requests"), pl.col("requests")).alias("routable_share"),
        _ratio(pl.col("loop_requests"), pl.col("requests")).alias("loop_share"),
        _ratio(pl.col("batch_candidates"), pl.col("requests")).alias("batch_candidate_share"),
        _ratio(pl.col("rate_limited"), pl.col("attempts")).alias("rate_limited_share"),
        pl.col("reasoning_savings_usd").fill_null(Decimal(0)),
        pl.col("batch_savings_usd").fill_null(Decimal(0)),
    ).with_columns(
        (pl.col("repeat_savings_usd").fill_null(Decimal(0)) + pl.col("batch_savings_usd")
         + pl.col("reasoning_savings_usd")).alias("total_savings_usd"),
    ).sort(["total_savings_usd", "group"], descending=[True, False])


JSON_KEYS = ("group", "requests", "repeat_share", "repeat_savings_usd", "reasoning_share", "reasoning_savings_usd",
             "loop_requests", "batch_candidate_share", "batch_savings_usd", "rate_limited_share", "latency_p95_ms")
EXTRA_JSON_KEYS = ("attempts", "repeat_requests", "reasoning_tokens_per_request", "routable_requests",
                   "batch_candidates", "rate_limited", "latency_p50_ms", "priced_cost_usd", "unpriced_requests",
                   "total_savings_usd")


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(round(value, 6))
    return value


def as_json(card: pl.DataFrame) -> list[dict[str, Any]]:
    """The scorecard as JSON-ready dicts: numbers as numbers, null where not measurable."""
    return [{k: _number(row[k]) for k in (*JSON_KEYS, *EXTRA_JSON_KEYS)} for row in card.iter_rows(named=True)]


def levers_inputs(conn: Connection, since: datetime, until: datetime, workload: str | None = None,
                  config: DisciplineConfig | None = None) -> dict[str, Any]:
    """Measured shares for the What-if levers, each of the cost the previous lever left (None if not measurable).

    repeat_share: of priced spend, the part that was exact repeats (cache lever);
    batchable_share: of the spend left after the cache, the part that could go through a batch API;
    routable_share: of the spend left after the cache, the part on reasoning models a cheap model could serve.
    """
    raw = discipline_rows(conn, since=since, until=until, by=None, workload=workload,
                          params=(config or DisciplineConfig()).params())
    empty = {"repeat_share": None, "batchable_share": None, "routable_share": None, "requests": 0,
             "priced_cost_usd": None, "basis": "share of priced spend"}
    if raw.is_empty():
        return empty
    row = raw.row(0, named=True)
    if not row["priced_cost_usd"]:
        return {**empty, "requests": row["requests"]}
    return {**lever_shares(row), "requests": row["requests"], "priced_cost_usd": float(row["priced_cost_usd"]),
            "basis": "share of priced spend"}


def lever_shares(row: dict[str, Any]) -> dict[str, float | None]:
    """The three lever shares from one discipline row (see levers_inputs for their meaning)."""
    total, left = row["priced_cost_usd"], row["cost_after_cache_usd"]

    def share(part: Decimal | None, whole: Decimal | None) -> float | None:
        """part / whole as a float; 0 when whole is 0, None when unknown."""
        return float((part or Decimal(0)) / whole) if whole else (0.0 if whole is not None else None)

    return {"repeat_share": share(row["repeat_savings_usd"], total) if row["fingerprinted_requests"] else None,
            "batchable_share": share(row["batchable_cost_usd"], left),
            "routable_share": share(row["routable_cost_usd"], left)}


def lever_shares_by_workload(conn: Connection, since: datetime, until: datetime,
                             config: DisciplineConfig | None = None) -> dict[str, dict[str, float | None]]:
    """levers_inputs' shares for every workload with priced spend, from one analytics query."""
    rows = discipline_rows(conn, since=since, until=until, by="workload", params=(config or DisciplineConfig()).params())
    return {r["group"]: lever_shares(r) for r in rows.iter_rows(named=True) if r["priced_cost_usd"]}
