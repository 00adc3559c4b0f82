"""Rollups of per-request usage (tokens, discipline flags), and the data versions caches are keyed on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Index, String, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from models.schema.base import Base, MoneyOrNone, Tokens


def _key(type_=String, **kw):
    return mapped_column(type_, nullable=False, info={"key": True}, **kw)


class _ByHour:
    """A rollup indexed on its hour; its key (the `_key` columns) is the mapper's only.

    No unique index on the key in the database: the loader only deletes an hour's rows and inserts
    a fresh GROUP BY of them (one row per key by construction), and a wide unique index was most of
    the cost of keeping the rollups on load (migration 0012).
    """

    @declared_attr.directive
    def __table_args__(cls):
        return (Index(None, "hour_at"),)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"primary_key": [c for c in cls.__table__.columns if c.info.get("key")]}


class RequestHourly(_ByHour, Base):
    """Per-request usage summed per UTC hour and every dimension attribution, pricing and discipline match on.

    `tags` holds only the tag keys attribution rules match on (per-request ids are dropped), so
    rules and prices still apply at query time on these rows. Maintained by the loader for the
    hours each load touches; `hybridcost db rebuild-rollups` recomputes it from usage_requests.
    """

    __tablename__ = "request_hourly"

    hour_at: Mapped[datetime] = _key(DateTime(timezone=True))
    provider: Mapped[str] = _key()
    account_id: Mapped[str] = _key()
    model: Mapped[str] = _key()
    endpoint_kind: Mapped[str] = _key()
    project_id: Mapped[str] = _key()
    api_key_id: Mapped[str] = _key()
    user_id: Mapped[str] = _key()
    team: Mapped[str] = _key()
    workload_tag: Mapped[str] = _key()
    is_batch: Mapped[bool] = _key(Boolean)
    served: Mapped[bool] = _key(Boolean)  # HTTP status < 400, or no status and no error tag
    tags: Mapped[dict[str, Any]] = _key(JSONB)
    is_demo: Mapped[bool] = _key(Boolean)
    requests: Mapped[Tokens]
    input_tokens: Mapped[Tokens]
    cached_input_tokens: Mapped[Tokens]
    output_tokens: Mapped[Tokens]
    reasoning_tokens: Mapped[Tokens]
    reported_cost_usd: Mapped[MoneyOrNone]  # sum of the costs logs reported; NULL when none did
    unreported_requests: Mapped[Tokens]  # requests without a reported cost
    unreported_tokens: Mapped[Tokens]  # their input + output tokens
    fingerprinted_requests: Mapped[Tokens]
    reasoning_token_requests: Mapped[Tokens]  # requests with reasoning_tokens > 0
    rate_limited_requests: Mapped[Tokens]  # HTTP 429


class DataVersion(Base):
    """A counter per table, bumped by a statement trigger on every write; dashboard caches are keyed on it."""

    __tablename__ = "data_versions"

    table_name: Mapped[str] = mapped_column(String, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default="0")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RequestDisciplineHourly(_ByHour, Base):
    """Per-request discipline flags (default thresholds) summed per UTC hour, key and flag combination.

    Flags: served, a repeat (fingerprint served in the workload within 24 h before), in a loop
    burst, sent in a bulk minute of its user/key, short visible output, reasoning tokens > 0,
    HTTP 429, fingerprinted. Prices, rules, reasoning-model names and off-hours apply at query
    time; `latencies_ms` keeps every latency (sorted) so percentiles stay exact.
    """

    __tablename__ = "request_discipline_hourly"

    hour_at: Mapped[datetime] = _key(DateTime(timezone=True))
    provider: Mapped[str] = _key()
    account_id: Mapped[str] = _key()
    model: Mapped[str] = _key()
    endpoint_kind: Mapped[str] = _key()
    project_id: Mapped[str] = _key()
    api_key_id: Mapped[str] = _key()
    user_id: Mapped[str] = _key()
    team: Mapped[str] = _key()
    workload_tag: Mapped[str] = _key()
    is_batch: Mapped[bool] = _key(Boolean)
    tags: Mapped[dict[str, Any]] = _key(JSONB)
    is_demo: Mapped[bool] = _key(Boolean)
    served: Mapped[bool] = _key(Boolean)
    is_repeat: Mapped[bool] = _key(Boolean)
    is_loop: Mapped[bool] = _key(Boolean)
    is_bulk: Mapped[bool] = _key(Boolean)
    short_output: Mapped[bool] = _key(Boolean)
    has_reasoning_tokens: Mapped[bool] = _key(Boolean)
    rate_limited: Mapped[bool] = _key(Boolean)
    has_fingerprint: Mapped[bool] = _key(Boolean)
    requests: Mapped[Tokens]
    input_tokens: Mapped[Tokens]
    cached_input_tokens: Mapped[Tokens]
    output_tokens: Mapped[Tokens]
    reasoning_tokens: Mapped[Tokens]
    reported_cost_usd: Mapped[MoneyOrNone]
    latencies_ms: Mapped[list[float]] = mapped_column(ARRAY(Float), server_default="{}")
