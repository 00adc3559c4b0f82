"""Price catalog edits: retroactive changes wait as pending until `prices reprice` applies them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from ingest.records import Price
from models import audit

PRICE_COLUMNS = ("input_usd_per_mtok", "cached_input_usd_per_mtok", "cache_write_usd_per_mtok",
                 "cache_write_1h_usd_per_mtok", "output_usd_per_mtok", "batch_input_usd_per_mtok",
                 "batch_output_usd_per_mtok")


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


def price_images(conn: Connection, prices: Iterable[Price]) -> dict[tuple, dict | None]:
    """The stored rows (applied or pending) of each price's key: the before image of an edit."""
    out = {}
    for price in prices:
        key = (price.provider, price.model, price.effective_from, price.above_context_tokens, price.pending)
        out[key] = audit.row_dict(
            conn, "prices", "provider = :p AND model = :m AND effective_from = :d AND above_context_tokens = :a "
            "AND pending = :pe", {"p": key[0], "m": key[1], "d": key[2], "a": key[3], "pe": key[4]})
    return out


def record_price_edits(conn: Connection, before: dict[tuple, dict | None], *, actor: str | None) -> int:
    """Audit each price whose stored row changed since `before` was taken; returns entries written."""
    after = {}
    for key in before:
        after[key] = audit.row_dict(
            conn, "prices", "provider = :p AND model = :m AND effective_from = :d AND above_context_tokens = :a "
            "AND pending = :pe", {"p": key[0], "m": key[1], "d": key[2], "a": key[3], "pe": key[4]})
    written = 0
    for key, old in before.items():
        new = after[key]
        strip = (lambda row: None if row is None else {k: v for k, v in row.items() if k not in ("id", "created_at")})
        if strip(old) == strip(new):
            continue
        audit.record(conn, actor, "price", f"{key[0]}/{key[1]} from {key[2]}" + (" (pending)" if key[4] else ""),
                     "create" if old is None else "update", strip(old), strip(new))
        written += 1
    return written


def apply_pending(conn: Connection, *, since: date, actor: str | None = None) -> tuple[int, int]:
    """Apply pending prices effective on or after `since` (each audited); return (applied, still pending)."""
    for row in conn.execute(sa.text(
            "SELECT p.*, (SELECT row_to_json(a) FROM prices a WHERE NOT a.pending AND a.provider = p.provider "
            "AND a.model = p.model AND a.effective_from = p.effective_from "
            "AND a.above_context_tokens = p.above_context_tokens) AS replaced FROM prices p "
            "WHERE p.pending AND p.effective_from >= :s"), {"s": since}).mappings().all():
        row = dict(row)
        replaced = row.pop("replaced")
        after = {k: v for k, v in row.items() if k not in ("id", "created_at")} | {"pending": False}
        audit.record(conn, actor, "price", f"{row['provider']}/{row['model']} from {row['effective_from']}", "apply",
                     replaced, after)
    conn.execute(sa.text(
        "DELETE FROM prices a USING prices p WHERE p.pending AND p.effective_from >= :s AND NOT a.pending "
        "AND a.provider = p.provider AND a.model = p.model AND a.effective_from = p.effective_from "
        "AND a.above_context_tokens = p.above_context_tokens"), {"s": since})
    applied = conn.execute(sa.text("UPDATE prices SET pending = false WHERE pending AND effective_from >= :s"),
                           {"s": since}).rowcount
    left = conn.execute(sa.text("SELECT count(*) FROM prices WHERE pending")).scalar_one()
    return applied, left


def applied_price_history(conn: Connection) -> dict[tuple[str, str], list[tuple]]:
    """Per (provider, model): applied base-tier prices, newest first, as (effective_from, input, cached, output)."""
    rows = conn.execute(sa.text(
        "SELECT provider, model, effective_from, input_usd_per_mtok, cached_input_usd_per_mtok, output_usd_per_mtok "
        "FROM prices WHERE above_context_tokens = 0 AND NOT pending ORDER BY effective_from DESC")).all()
    out: dict[tuple[str, str], list[tuple]] = {}
    for r in rows:
        out.setdefault((r.provider, r.model), []).append(
            (r.effective_from, r.input_usd_per_mtok, r.cached_input_usd_per_mtok, r.output_usd_per_mtok))
    return out
