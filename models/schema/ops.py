"""Workloads and attribution rules, scenarios, budgets, ingest runs and cursors, settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.schema.base import Base, CreatedAt, Dim, Money


class Workload(Base):
    """A unit of AI work the business decides about; a team is an attribute of it."""

    __tablename__ = "workloads"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    team: Mapped[Dim]
    description: Mapped[Dim]
    interactive: Mapped[bool] = mapped_column(Boolean, server_default="true")
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class AttributionRule(Base):
    """Ordered rule: when `match_field` of a row matches `pattern` (glob), it belongs to the workload."""

    __tablename__ = "attribution_rules"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    priority: Mapped[int] = mapped_column(Integer)
    workload_id: Mapped[int] = mapped_column(ForeignKey("workloads.id", ondelete="CASCADE"))
    match_field: Mapped[str] = mapped_column(String)  # provider|account_id|project_id|api_key_id|user_id|model|tag
    tag_key: Mapped[Dim]
    pattern: Mapped[str] = mapped_column(String)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="true")
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class Scenario(Base):
    """A saved what-if scenario: the YAML body as JSON."""

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[CreatedAt]
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class Budget(Base):
    """A monthly budget for a team or a workload, in USD."""

    __tablename__ = "budgets"
    __table_args__ = (UniqueConstraint("scope", "name", name="uq_budgets_scope_name"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    scope: Mapped[str] = mapped_column(String)  # team | workload
    name: Mapped[str] = mapped_column(String)
    monthly_usd: Mapped[Money]
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class IngestRun(Base):
    """One load: what was read, how much was written, and how it ended."""

    __tablename__ = "ingest_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String)
    target: Mapped[str] = mapped_column(Text)  # file path and hash, or API window
    started_at: Mapped[CreatedAt]
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # running | succeeded | failed | abandoned (its process died: no live owner holds the run's lock)
    status: Mapped[str] = mapped_column(String, server_default="running")
    rows_read: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rows_written: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rows_skipped: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # What the load did beyond counts (a FOCUS load: added, replaced, left alone, superseded; rows and money)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    error: Mapped[str | None] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")
    pid: Mapped[int | None] = mapped_column(Integer)  # the loading process and its host, for people
    host: Mapped[Dim]


class IngestCursor(Base):
    """Incremental state of a source: where the next pull starts."""

    __tablename__ = "ingest_cursors"

    source: Mapped[str] = mapped_column(String, primary_key=True)
    account_id: Mapped[str] = mapped_column(String, primary_key=True)
    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[CreatedAt]


class AppSetting(Base):
    """Small key-value settings kept in the database (the demo anchor hour, say)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
