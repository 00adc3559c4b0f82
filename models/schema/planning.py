"""Workload plans: the self-hosted candidate each workload would move to, and the figures precomputed from it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.schema.base import Base, CreatedAt, Dim, MoneyOrNone


class WorkloadPlan(Base):
    """A workload's chosen self-hosted candidate, or "no local equivalent" with the reason.

    Empty or NULL fields fall back to the catalogs (GPU type prices, published throughput,
    the reference operations cost), so a plan names what was chosen and inherits the rest.
    """

    __tablename__ = "workload_plans"
    __table_args__ = (
        CheckConstraint("choice IN ('self_host', 'no_local_equivalent')", name="choice"),
        CheckConstraint("pricing IN ('', 'rent', 'buy')", name="pricing"),
        CheckConstraint("throughput_source IN ('', 'published', 'measured', 'entered')", name="throughput_source"),
    )

    workload: Mapped[str] = mapped_column(
        String, ForeignKey("workloads.name", ondelete="CASCADE", onupdate="CASCADE"), primary_key=True)
    choice: Mapped[str] = mapped_column(String)
    reason: Mapped[str] = mapped_column(Text, server_default="")
    model: Mapped[Dim]  # the open model served, e.g. "Llama 3.3 70B Instruct FP8"
    gpu_type: Mapped[Dim]
    tensor_parallel: Mapped[int | None] = mapped_column(Integer)
    pricing: Mapped[Dim]
    throughput_source: Mapped[Dim]
    input_tokens_per_s: Mapped[float | None] = mapped_column(Float)  # per replica, prefill, at saturation
    output_tokens_per_s: Mapped[float | None] = mapped_column(Float)  # per replica, decode, at saturation
    hourly_rate_usd: Mapped[MoneyOrNone]  # rent: USD per GPU-hour
    purchase_price_usd: Mapped[MoneyOrNone]  # buy: USD per GPU
    amortization_months: Mapped[int | None] = mapped_column(Integer)
    power_watts: Mapped[float | None] = mapped_column(Float)
    pue: Mapped[float | None] = mapped_column(Float)
    electricity_usd_per_kwh: Mapped[MoneyOrNone]
    ops_usd_per_gpu_month: Mapped[MoneyOrNone]
    max_utilization: Mapped[float | None] = mapped_column(Float)
    replaces_provider: Mapped[Dim]  # the API model whose tokens it replaces; '' = the workload's main one
    replaces_model: Mapped[Dim]
    updated_at: Mapped[CreatedAt]
    updated_by: Mapped[Dim]
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class WorkloadPlanFigures(Base):
    """Per workload, the planning path's figures for the default period, refreshed after loads and on a schedule.

    The exporter reads these so a scrape never runs the planning path itself.
    """

    __tablename__ = "workload_plan_figures"

    workload: Mapped[str] = mapped_column(String, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    since_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    until_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data_version: Mapped[Dim]
    assessed: Mapped[bool] = mapped_column(Boolean)
    above_breakeven: Mapped[bool | None] = mapped_column(Boolean)
    move_date: Mapped[date | None] = mapped_column(Date)
    optimal_replicas: Mapped[int | None] = mapped_column(Integer)
    api_only_usd_month: Mapped[MoneyOrNone]
    hybrid_usd_month: Mapped[MoneyOrNone]
    throughput_gap: Mapped[float | None] = mapped_column(Float)  # assumed / measured, at the workload's mix
    candidate: Mapped[Dim]
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB)
