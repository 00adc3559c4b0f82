"""The audit log: who changed what and when, with before and after as JSON."""

from __future__ import annotations

import getpass
import json
import os
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection


def _plain(value: Any) -> Any:
    # Decimal as a string keeps every digit (a float would not); dates as ISO text.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def default_actor(actor: str | None = None) -> str:
    """The given actor, else HYBRIDCOST_ACTOR, else the OS user."""
    if actor:
        return actor
    env = os.environ.get("HYBRIDCOST_ACTOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container with a numeric uid)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def record(conn: Connection, actor: str | None, entity: str, entity_key: str, action: str,
           before: dict | None, after: dict | None, note: str | None = None) -> int:
    """Append one audit entry in the caller's transaction; returns its id."""
    return conn.execute(sa.text(
        "INSERT INTO audit_log (actor, entity, entity_key, action, before, after, note) "
        "VALUES (:actor, :entity, :key, :action, CAST(:before AS jsonb), CAST(:after AS jsonb), :note) RETURNING id"),
        {"actor": default_actor(actor), "entity": entity, "key": entity_key, "action": action,
         "before": None if before is None else json.dumps(_plain(before), sort_keys=True),
         "after": None if after is None else json.dumps(_plain(after), sort_keys=True), "note": note},
    ).scalar_one()


def record_accepted(conn: Connection, actor: str | None, *, run_id: int, target: str,
                    accepted: list[dict]) -> int | None:
    """Audit the implausible values a load let through with --accept-implausible (None when there were none)."""
    if not accepted:
        return None
    kinds = sorted({a["kind"] for a in accepted})
    return record(conn, actor, "ingest_run", str(run_id), "accept_implausible", None,
                  {"fields": kinds, "count": len(accepted), "values": accepted[:50], "target": target},
                  note=f"--accept-implausible {' '.join(kinds)}")


AUDIT_SCHEMA = {"id": pl.Int64, "at": pl.Datetime(time_zone="UTC"), "actor": pl.String, "entity": pl.String,
                "entity_key": pl.String, "action": pl.String, "before": pl.String, "after": pl.String,
                "note": pl.String}


def audit_log(conn: Connection, *, since: datetime | None = None, until: datetime | None = None,
              entity: str | None = None) -> pl.DataFrame:
    """Audit entries in [since, until), newest first; before/after as JSON text (for the Data page)."""
    rows = conn.execute(sa.text(
        "SELECT id, at, actor, entity, entity_key, action, before::text, after::text, note FROM audit_log "
        "WHERE (CAST(:s AS timestamptz) IS NULL OR at >= :s) AND (CAST(:u AS timestamptz) IS NULL OR at < :u) "
        "AND (CAST(:e AS text) IS NULL OR entity = :e) ORDER BY at DESC, id DESC"),
        {"s": since, "u": until, "e": entity}).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=AUDIT_SCHEMA, orient="row")


def row_dict(conn: Connection, table: str, where: str, params: dict) -> dict | None:
    """One row of `table` as a dict (None if absent): the before/after image of an edit."""
    row = conn.execute(sa.text(f"SELECT * FROM {table} WHERE {where}"), params).mappings().one_or_none()
    return None if row is None else dict(row)
