"""Small helpers that turn SQL rows into typed polars frames (shared by the query modules)."""

from __future__ import annotations

from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection


def frame(conn: Connection, sql: str, params: dict[str, Any], schema: dict[str, Any]) -> pl.DataFrame:
    """Run `sql` and return its rows as a frame with `schema` (empty but typed when no rows)."""
    rows = conn.execute(sa.text(sql), params).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")
