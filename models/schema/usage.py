"""Token usage: provider buckets and per-request rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.schema.base import Base, Dim, MoneyOrNone, Tokens, UtcTime


class UsageHourly(Base):
    """Token usage of one provider bucket, per project, key, user, model and batch flag."""

    __tablename__ = "usage_hourly"
    __table_args__ = (
        UniqueConstraint(
            "provider", "account_id", "bucket_start_at", "bucket_end_at", "model", "project_id",
            "api_key_id", "user_id", "is_batch", "service_tier", name="uq_usage_hourly_natural_key",
        ),
        Index("ix_usage_hourly_bucket_start_at", "bucket_start_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    provider: Mapped[str] = mapped_column(String)
    account_id: Mapped[Dim]
    bucket_start_at: Mapped[UtcTime]
    bucket_end_at: Mapped[UtcTime]
    model: Mapped[Dim]
    project_id: Mapped[Dim]
    api_key_id: Mapped[Dim]
    user_id: Mapped[Dim]
    is_batch: Mapped[bool] = mapped_column(Boolean, server_default="false")
    service_tier: Mapped[Dim]
    input_tokens: Mapped[Tokens]
    cached_input_tokens: Mapped[Tokens]
    cache_write_input_tokens: Mapped[Tokens]  # all cache writes (5-minute and 1-hour)
    cache_write_1h_input_tokens: Mapped[Tokens]  # the 1-hour part of cache_write_input_tokens
    output_tokens: Mapped[Tokens]
    reasoning_tokens: Mapped[Tokens]
    num_requests: Mapped[Tokens]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id", ondelete="SET NULL"))
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class UsageRequest(Base):
    """One request from a request log or the instrumented client."""

    __tablename__ = "usage_requests"
    __table_args__ = (
        UniqueConstraint("source", "request_id", name="uq_usage_requests_source_request_id"),
        Index("ix_usage_requests_started_at", "started_at"),
        Index("ix_usage_requests_fingerprint", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String)
    request_id: Mapped[str] = mapped_column(String)
    started_at: Mapped[UtcTime]
    provider: Mapped[str] = mapped_column(String)
    model: Mapped[str] = mapped_column(String)
    account_id: Mapped[Dim]
    endpoint_kind: Mapped[str] = mapped_column(String, server_default="api")
    project_id: Mapped[Dim]
    api_key_id: Mapped[Dim]
    user_id: Mapped[Dim]
    team: Mapped[Dim]
    workload_tag: Mapped[Dim]
    tags: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    input_tokens: Mapped[Tokens]
    cached_input_tokens: Mapped[Tokens]
    output_tokens: Mapped[Tokens]
    reasoning_tokens: Mapped[Tokens]
    other_tokens: Mapped[Tokens]
    latency_ms: Mapped[float | None] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer)
    is_batch: Mapped[bool] = mapped_column(Boolean, server_default="false")
    fingerprint: Mapped[Dim]
    reported_cost_usd: Mapped[MoneyOrNone]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id", ondelete="SET NULL"))
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")



