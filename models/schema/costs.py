"""Money: cost lines from every basis, the price catalog."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.schema.base import Base, CreatedAt, Dim, Money, MoneyOrNone, UtcTime

BASIS_RANK = {"invoice": 1, "focus": 1, "cost_api": 2, "usage_price": 3, "request_estimate": 4}


class CostLine(Base):
    """One line of money, tagged with its basis; totals never add two bases together."""

    __tablename__ = "cost_lines"
    __table_args__ = (
        UniqueConstraint("basis", "provider", "account_id", "source_line_key", name="uq_cost_lines_natural_key"),
        Index("ix_cost_lines_charge_period_start_at", "charge_period_start_at"),
        Index("ix_cost_lines_focus_scope", "provider", "account_id", "billing_period_start_at"),
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
    tags: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
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
    cache_write_usd_per_mtok: Mapped[MoneyOrNone]
    output_usd_per_mtok: Mapped[MoneyOrNone]
    batch_input_usd_per_mtok: Mapped[MoneyOrNone]
    batch_output_usd_per_mtok: Mapped[MoneyOrNone]
    source: Mapped[str] = mapped_column(String, server_default="manual")
    # A retroactive change waits here until `prices reprice` applies it (with a diff first).
    pending: Mapped[bool] = mapped_column(Boolean, server_default="false")
    note: Mapped[Dim]
    created_at: Mapped[CreatedAt]
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")
