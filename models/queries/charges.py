"""Money that is not token spend, shown apart from it: non-token AI charges and amortized commitments.

Non-token AI charges (web search, file search, code execution, images, fine-tuning, storage,
other) come from the bill's own line items; like token spend they take the best line basis per
provider, account and UTC day (invoice or FOCUS > cost API), spread over the days they cover,
converted at their charge day's rate. Purchases are left out: they amortize through the
commitment ledger (`commitments_in`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.ledger.commitments import amortized
from models.ledger.fx import fx_factor_sql
from models.queries.spread import in_window, overlaps, share, spread_join, window_filter

KIND_LABELS = {"web_search": "Web search", "file_search": "File search", "code_execution": "Code execution",
               "images": "Images", "fine_tuning": "Fine-tuning", "storage": "Storage", "other": "Other AI",
               "": "Other AI"}

_DAY = "CAST((c.charge_period_start_at AT TIME ZONE 'UTC') AS date)"
_SQL = f"""
WITH lines AS (
    SELECT c.id, c.provider, c.account_id, c.basis, coalesce(nullif(c.charge_kind, ''), 'other') AS charge_kind,
           CASE c.basis WHEN 'invoice' THEN 1 WHEN 'focus' THEN 1 ELSE 2 END AS rank,
           c.billed_cost * {fx_factor_sql('c.currency', _DAY, "'USD'")} AS usd,
           c.charge_period_start_at, c.charge_period_end_at
    FROM cost_lines c
    WHERE c.ai_class = 'other_ai' AND c.basis IN ('invoice', 'focus', 'cost_api') AND c.charge_category <> 'purchase'
      AND {overlaps('c')}
), days AS (
    SELECT l.provider, l.account_id, l.basis, l.rank, l.charge_kind, sp.day, sp.secs, sp.win_secs,
           {share('l.usd', 'l.id')} AS usd_day
    FROM lines l {spread_join('l.charge_period_start_at', 'l.charge_period_end_at')}
), best AS (
    SELECT DISTINCT ON (provider, account_id, day) provider, account_id, day, basis
    FROM days d WHERE {window_filter('d')} ORDER BY provider, account_id, day, rank, basis
)
SELECT d.provider, d.charge_kind, sum({in_window('d.usd_day', 'd')}) AS cost_usd,
       count(*) FILTER (WHERE d.usd_day IS NULL) AS unconverted_days
FROM days d JOIN best b USING (provider, account_id, day, basis)
WHERE {window_filter('d')}
GROUP BY 1, 2 ORDER BY 3 DESC NULLS LAST, 1, 2
"""

SCHEMA = {"provider": pl.String, "charge_kind": pl.String, "cost_usd": pl.Decimal(38, 18),
          "unconverted_days": pl.Int64}


def non_token_charges(conn: Connection, *, since: datetime, until: datetime) -> pl.DataFrame:
    """Non-token AI charges (USD) per provider and kind in [since, until): never part of token spend."""
    rows = conn.execute(sa.text(_SQL), {"since": since, "until": until}).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=SCHEMA, orient="row")


def commitments_in(conn: Connection, *, since: datetime, until: datetime) -> Decimal:
    """Commitments (reserved capacity, prepayments) amortized over the whole days of [since, until), in USD terms."""
    frame = amortized(conn, since=since.date(), until=until.date())
    return sum(frame["amortized"].to_list(), Decimal(0)) if not frame.is_empty() else Decimal(0)


def describe(frame: pl.DataFrame, commitments: Decimal) -> str | None:
    """One line for people: 'Not in token spend: web search $1.00, ...; commitments amortized $X'."""
    parts = [f"{KIND_LABELS.get(k, k).lower()} ${v:,.2f}" for k, v in
             frame.group_by("charge_kind").agg(pl.col("cost_usd").sum()).sort("cost_usd", descending=True).iter_rows()
             if v is not None]
    if commitments:
        parts.append(f"commitments amortized ${commitments:,.2f} (`hybridcost ledger commitment report`)")
    return f"Not in token spend: {', '.join(parts)}" if parts else None
