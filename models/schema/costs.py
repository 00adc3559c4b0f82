"""Money: cost lines from every basis, the price catalog."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.schema.base import Base, CreatedAt, Dim, Money, MoneyOrNone, Tokens, UtcTime

BASIS_RANK = {"invoice": 1, "focus": 1, "cost_api": 2, "usage_price": 3, "request_estimate": 4}


class CostLine(Base):
    """One line of money, tagged with its basis; totals never add two bases together."""

    __tablename__ = "cost_lines"
    __table_args__ = (
        UniqueConstraint("basis", "provider", "account_id", "source_line_key", name="uq_cost_lines_natural_key"),
        Index("ix_cost_lines_charge_period_start_at", "charge_period_start_at"),
        Index("ix_cost_lines_focus_scope", "provider", "account_id", "billing_period_start_at"),
        # day-level views read every line whose charge period overlaps the window
        Index("ix_cost_lines_charge_period_end_at", "charge_period_end_at"),
        Index("ix_cost_lines_export_id", "export_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    basis: Mapped[str] = mapped_column(String)
    provider: Mapped[str] = mapped_column(String)
    account_id: Mapped[Dim]
    source_line_key: Mapped[str] = mapped_column(String)
    charge_period_start_at: Mapped[UtcTime]
    charge_period_end_at: Mapped[UtcTime]
    billing_period_start_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    billed_cost: Mapped[Money]
    effective_cost: Mapped[MoneyOrNone]
    list_cost: Mapped[MoneyOrNone]
    currency: Mapped[str] = mapped_column(String(3), server_default="USD")
    charge_category: Mapped[str] = mapped_column(String, server_default="usage")
    ai_class: Mapped[str] = mapped_column(String, server_default="token")
    project_id: Mapped[Dim]
    api_key_id: Mapped[Dim]
    sub_account_id: Mapped[Dim]
    model: Mapped[Dim]
    line_item: Mapped[Dim]
    service_name: Mapped[Dim]
    service_category: Mapped[Dim]
    service_subcategory: Mapped[Dim]
    sku_id: Mapped[Dim]
    consumed_quantity: Mapped[MoneyOrNone]
    consumed_unit: Mapped[Dim]
    # What the money is for, from the bill's own fields: 'tokens', or a non-token kind
    # (web_search, file_search, code_execution, images, fine_tuning, storage, other).
    charge_kind: Mapped[Dim]
    # For token lines: input, cached_input, cache_write_5m, cache_write_1h, output ('' when unknown).
    token_type: Mapped[Dim]
    tokens: Mapped[Tokens]
    tags: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    export_id: Mapped[int | None] = mapped_column(ForeignKey("focus_exports.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id", ondelete="SET NULL"))
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class Price(Base):
    """An effective-dated token price in USD per million tokens; NULL means unpriced."""

    __tablename__ = "prices"
    __table_args__ = (
        UniqueConstraint(
            "provider", "model", "effective_from", "above_context_tokens", "pending", name="uq_prices_effective_key"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    provider: Mapped[str] = mapped_column(String)
    model: Mapped[str] = mapped_column(String)
    effective_from: Mapped[date] = mapped_column(Date)
    above_context_tokens: Mapped[int] = mapped_column(Integer, server_default="0")
    input_usd_per_mtok: Mapped[MoneyOrNone]
    cached_input_usd_per_mtok: Mapped[MoneyOrNone]
    cache_write_usd_per_mtok: Mapped[MoneyOrNone]  # 5-minute cache writes (and writes of unknown duration)
    cache_write_1h_usd_per_mtok: Mapped[MoneyOrNone]
    output_usd_per_mtok: Mapped[MoneyOrNone]
    batch_input_usd_per_mtok: Mapped[MoneyOrNone]
    batch_output_usd_per_mtok: Mapped[MoneyOrNone]
    source: Mapped[str] = mapped_column(String, server_default="manual")
    # A retroactive change waits here until `prices reprice` applies it (with a diff first).
    pending: Mapped[bool] = mapped_column(Boolean, server_default="false")
    note: Mapped[Dim]
    created_at: Mapped[CreatedAt]
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class FocusExport(Base):
    """One FOCUS export as issued (all its files): what a later re-issue of it supersedes.

    ``issued_at`` orders re-issues (the manifest's or metadata's own time, else the files'
    modification times); ``fingerprint`` (the files' hashes) makes a byte-identical re-import
    the same export. The rows of an export are the cost lines whose export_id points here.
    """

    __tablename__ = "focus_exports"
    __table_args__ = (UniqueConstraint("fingerprint", name="uq_focus_exports_fingerprint"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[Dim]  # export name or dataset instance id; '' when the files carry none
    fingerprint: Mapped[str] = mapped_column(String)
    issued_at: Mapped[UtcTime]
    issued_from: Mapped[str] = mapped_column(String)  # manifest | metadata | option | file times
    focus_version: Mapped[Dim]
    files: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id", ondelete="SET NULL"))
    created_at: Mapped[CreatedAt]
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")
