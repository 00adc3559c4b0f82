"""The ledger: exchange rates, commitments, closed periods with snapshots and restatements, audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.schema.base import Base, CreatedAt, Dim, Money, MoneyOrNone


class FxRate(Base):
    """One day's rate: 1 unit of `currency` is `rate` units of `to_currency` (the reporting currency)."""

    __tablename__ = "fx_rates"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    to_currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    rate: Mapped[Money]
    source: Mapped[Dim]
    created_at: Mapped[CreatedAt]


class Commitment(Base):
    """A prepaid or reserved amount with a term, amortized over it by day."""

    __tablename__ = "commitments"
    __table_args__ = (UniqueConstraint("provider", "account_id", "name", name="uq_commitments_name"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    provider: Mapped[str] = mapped_column(String)
    account_id: Mapped[Dim]
    name: Mapped[str] = mapped_column(String)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)  # last day of the term, included
    amount: Mapped[Money]
    currency: Mapped[str] = mapped_column(String(3), server_default="USD")
    kind: Mapped[str] = mapped_column(String)  # reserved_gpu | provisioned_throughput | prepaid_credit | other
    source: Mapped[Dim]
    created_at: Mapped[CreatedAt]


class Period(Base):
    """A calendar month's state: open, or closed with its figures frozen."""

    __tablename__ = "periods"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    state: Mapped[str] = mapped_column(String)  # closed | open
    reporting_currency: Mapped[str] = mapped_column(String(3), server_default="USD")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[Dim]
    forced: Mapped[bool] = mapped_column(Boolean, server_default="false")
    reason: Mapped[Dim]


class PeriodSnapshot(Base):
    """Frozen figures of a closed month, at the finest grain, so any total can be rebuilt."""

    __tablename__ = "period_snapshots"
    __table_args__ = (Index("ix_period_snapshots_period", "period", "kind"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String)  # spend (token system of record) | ledger (every cost line)
    day: Mapped[date] = mapped_column(Date)
    provider: Mapped[Dim]
    account_id: Mapped[Dim]
    model: Mapped[Dim]
    workload: Mapped[Dim]
    team: Mapped[Dim]
    basis: Mapped[Dim]
    currency: Mapped[Dim]  # the line's own currency (ledger) or the reporting currency (spend)
    charge_category: Mapped[Dim]
    ai_class: Mapped[Dim]
    amount: Mapped[Money]  # in the reporting currency (0 where unconverted)
    amount_original: Mapped[MoneyOrNone]
    gross: Mapped[Money] = mapped_column(Numeric(), server_default="0")
    credits: Mapped[Money] = mapped_column(Numeric(), server_default="0")
    tax: Mapped[Money] = mapped_column(Numeric(), server_default="0")
    input_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    cached_input_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    output_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    unpriced_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    unpriced_rows: Mapped[int] = mapped_column(BigInteger, server_default="0")
    unconverted_rows: Mapped[int] = mapped_column(BigInteger, server_default="0")


class Restatement(Base):
    """A change to a closed month's figures, kept beside the frozen total instead of inside it."""

    __tablename__ = "restatements"
    __table_args__ = (Index("ix_restatements_period", "period"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    dimension: Mapped[str] = mapped_column(String)
    group_key: Mapped[str] = mapped_column(String)
    before: Mapped[Money]
    after: Mapped[Money]
    difference: Mapped[Money]
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[Dim]
    created_at: Mapped[CreatedAt]


class AuditEntry(Base):
    """Who changed what, when: before and after as JSON."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[CreatedAt]
    actor: Mapped[str] = mapped_column(String)
    entity: Mapped[str] = mapped_column(String)
    entity_key: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(String)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)
    # The database role that wrote the entry (set by a trigger for every role but the owner).
    db_role: Mapped[str] = mapped_column(String, server_default=text("CURRENT_USER"))


__all__ = ["FxRate", "Commitment", "Period", "PeriodSnapshot", "Restatement", "AuditEntry"]
