"""Incremental state of API sources, kept in Postgres (table ingest_cursors)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine


def get_cursor(engine: Engine, source: str, account_id: str, key: str) -> str | None:
    """The stored value, or None when the source never completed a window."""
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT value FROM ingest_cursors WHERE source = :s AND account_id = :a "
                                    "AND key = :k"), {"s": source, "a": account_id, "k": key}).scalar()


def set_cursor(engine: Engine, source: str, account_id: str, key: str, value: str) -> None:
    """Store a value, replacing the previous one."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO ingest_cursors (source, account_id, key, value) VALUES (:s, :a, :k, :v) "
            "ON CONFLICT (source, account_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"),
            {"s": source, "a": account_id, "k": key, "v": value})
