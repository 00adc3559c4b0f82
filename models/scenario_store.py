"""Saved what-if scenarios (table scenarios): the YAML body stored as JSON under a name."""

from __future__ import annotations

from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import JSONB


def save_scenario(conn: Connection, name: str, body: dict[str, Any]) -> None:
    """Insert or replace the scenario called `name`."""
    if not name.strip():
        raise ValueError("a scenario needs a name")
    conn.execute(sa.text(
        "INSERT INTO scenarios (name, body) VALUES (:n, :b) "
        "ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body, updated_at = now()").bindparams(
        sa.bindparam("b", type_=JSONB)), {"n": name, "b": body})


def list_scenarios(conn: Connection) -> pl.DataFrame:
    """Every saved scenario, newest first."""
    rows = conn.execute(sa.text("SELECT name, body, updated_at FROM scenarios ORDER BY updated_at DESC, name")).all()
    return pl.DataFrame({"name": [r[0] for r in rows], "body": [r[1] for r in rows],
                         "updated_at": [r[2] for r in rows]},
                        schema={"name": pl.String, "body": pl.Object, "updated_at": pl.Datetime("us", "UTC")})
