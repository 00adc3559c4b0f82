"""Price catalog edits: retroactive changes wait as pending until `prices reprice` applies them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from ingest.records import Price

PRICE_COLUMNS = ("input_usd_per_mtok", "cached_input_usd_per_mtok", "cache_write_usd_per_mtok",
                 "output_usd_per_mtok", "batch_input_usd_per_mtok", "batch_output_usd_per_mtok")


def mark_retroactive(conn: Connection, prices: Iterable[Price], *, today: date) -> list[Price]:
    """Mark each price pending when applying it would change money already shown.

    That is a price effective before today for a provider and model that already has an
    applied price in effect at that date. A first price for a model fills unpriced usage and
    applies at once; an unchanged price is left as it is.
    """
    out = []
    for price in prices:
        current = conn.execute(sa.text(
            f"SELECT {', '.join(PRICE_COLUMNS)}, effective_from FROM prices WHERE provider = :p AND model = :m "
            "AND above_context_tokens = :a AND NOT pending AND effective_from <= :d "
            "ORDER BY effective_from DESC LIMIT 1"),
            {"p": price.provider, "m": price.model, "a": price.above_context_tokens, "d": price.effective_from},
        ).one_or_none()
        unchanged = current is not None and current[-1] == price.effective_from and all(
            (current[i] is None and getattr(price, c) is None)
            or (current[i] is not None and getattr(price, c) is not None and current[i] == getattr(price, c))
            for i, c in enumerate(PRICE_COLUMNS))
        retroactive = current is not None and price.effective_from < today and not unchanged
        out.append(dataclasses.replace(price, pending=retroactive))
    return out


def catalog(conn: Connection, *, include_pending: bool = True) -> pl.DataFrame:
    """Every price row, newest first, with its state (applied or pending)."""
    where = "" if include_pending else "WHERE NOT pending"
    rows = conn.execute(sa.text(
        f"SELECT provider, model, effective_from, above_context_tokens, {', '.join(PRICE_COLUMNS)}, "
        f"CASE WHEN pending THEN 'pending' ELSE 'applied' END AS state, source FROM prices {where} "
        "ORDER BY provider, model, effective_from DESC, pending")).all()
    schema = {"provider": pl.String, "model": pl.String, "effective_from": pl.Date, "above_context_tokens": pl.Int64,
              **{c: pl.Float64 for c in PRICE_COLUMNS}, "state": pl.String, "source": pl.String}
    return pl.DataFrame([tuple(float(v) if hasattr(v, "as_tuple") else v for v in r) for r in rows],
                        schema=schema, orient="row")


def apply_pending(conn: Connection, *, since: date) -> tuple[int, int]:
    """Apply pending prices effective on or after `since`; return (applied, still pending)."""
    conn.execute(sa.text(
        "DELETE FROM prices a USING prices p WHERE p.pending AND p.effective_from >= :s AND NOT a.pending "
        "AND a.provider = p.provider AND a.model = p.model AND a.effective_from = p.effective_from "
        "AND a.above_context_tokens = p.above_context_tokens"), {"s": since})
    applied = conn.execute(sa.text("UPDATE prices SET pending = false WHERE pending AND effective_from >= :s"),
                           {"s": since}).rowcount
    left = conn.execute(sa.text("SELECT count(*) FROM prices WHERE pending")).scalar_one()
    return applied, left
