"""Every cost line in the reporting currency: gross, credits, refunds, tax and net kept apart."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.ledger.fx import fx_factor_sql
from models.queries.spread import in_window, overlaps, share, spread_join, window_filter

# invoice/FOCUS and owned-GPU pool lines are first-rank evidence; a cost API is second.
LINE_RANK = "CASE c.basis WHEN 'invoice' THEN 1 WHEN 'focus' THEN 1 WHEN 'gpu_profile' THEN 1 WHEN 'cost_api' THEN 2 ELSE 9 END"
DAY = "CAST((c.charge_period_start_at AT TIME ZONE 'UTC') AS date)"

LEDGER_SCHEMA = {
    "provider": pl.String, "account_id": pl.String, "day": pl.Date, "basis": pl.String, "ai_class": pl.String,
    "charge_category": pl.String, "currency": pl.String, "amount_original": pl.Decimal(38, 18),
    "amount": pl.Decimal(38, 18), "rows": pl.Int64, "unconverted_rows": pl.Int64,
}


def ledger_daily(conn: Connection, *, since: datetime, until: datetime, currency: str = "USD") -> pl.DataFrame:
    """Cost lines per provider, account, day, basis, class, category and currency, converted to `currency`.

    The best line basis per provider, account and day is taken whole (as in spend); a line spanning
    days is spread over them by hours (purchases are cash on their charge day); `amount` is NULL
    where no rate converts the line's currency on its charge day (counted in unconverted_rows).
    `rows` counts each line once, on its first day in the window.
    """
    rows = conn.execute(sa.text(f"""
        WITH raw AS (
            SELECT c.id, c.provider, c.account_id, c.basis, {LINE_RANK} AS rank, c.ai_class, c.charge_category,
                   c.currency, c.billed_cost, c.billed_cost * {fx_factor_sql('c.currency', DAY)} AS converted,
                   c.charge_period_start_at,
                   -- cash: a purchase counts on its charge day; everything else is spread over its period
                   CASE WHEN c.charge_category = 'purchase' THEN c.charge_period_start_at
                        ELSE c.charge_period_end_at END AS spread_end
            FROM cost_lines c WHERE {overlaps('c')}
        ), days AS (
            SELECT r.*, sp.day, sp.secs, sp.win_secs, {share('r.billed_cost', 'r.id')} AS billed_day,
                   {share('r.converted', 'r.id')} AS converted_day,
                   sp.day = min(sp.day) FILTER (WHERE {window_filter('sp')}) OVER (PARTITION BY r.id) AS first_in_window
            FROM raw r {spread_join('r.charge_period_start_at', 'r.spread_end')}
        ), lines AS (
            SELECT provider, account_id, day, basis, rank, ai_class, charge_category, currency,
                   {in_window('d.billed_day', 'd')} AS billed_cost, {in_window('d.converted_day', 'd')} AS converted,
                   first_in_window
            FROM days d WHERE {window_filter('d')}
        ), best AS (
            SELECT DISTINCT ON (provider, account_id, day) provider, account_id, day, basis
            FROM lines ORDER BY provider, account_id, day, rank, basis
        )
        SELECT l.provider, l.account_id, l.day, l.basis, l.ai_class, l.charge_category, l.currency,
               sum(l.billed_cost), sum(l.converted), count(*) FILTER (WHERE l.first_in_window),
               count(*) FILTER (WHERE l.converted IS NULL AND l.first_in_window)
        FROM lines l JOIN best b USING (provider, account_id, day, basis)
        GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 3, 1, 2, 4, 5, 6, 7"""),
        {"since": since, "until": until, "fx_target": currency}).all()
    frame = pl.DataFrame([tuple(r) for r in rows], schema=LEDGER_SCHEMA, orient="row")
    return frame


def totals(daily: pl.DataFrame, by: str | None = None) -> pl.DataFrame:
    """Gross, credits, refunds, tax and net (converted lines only), plus unconverted counts and originals."""
    keys = [by] if by else []
    frame = daily if by else daily.with_columns(pl.lit("total").alias("_all"))
    keys = keys or ["_all"]
    money = pl.col("amount").fill_null(0)
    cat = pl.col("charge_category")
    out = frame.group_by(keys).agg(
        money.filter(~cat.is_in(["credit", "refund", "tax"])).sum().alias("gross"),
        money.filter(cat == "credit").sum().alias("credits"),
        money.filter(cat == "refund").sum().alias("refunds"),
        money.filter(cat == "tax").sum().alias("tax"),
        money.sum().alias("net"),
        pl.col("rows").sum().alias("rows"),
        pl.col("unconverted_rows").sum().alias("unconverted_rows"),
        pl.col("currency").filter(pl.col("amount").is_null()).unique().sort().str.join("+").alias(
            "unconverted_currencies"),
    )
    return out.rename({keys[0]: "group"}).with_columns(pl.col("group").cast(pl.String)).sort("group")


def unconverted(daily: pl.DataFrame) -> pl.DataFrame:
    """Unconverted original amounts per currency: shown as such, never summed into the total."""
    return (daily.filter(pl.col("amount").is_null())
            .group_by("currency").agg(pl.col("amount_original").sum(), pl.col("rows").sum())
            .sort("currency"))
