"""Token spend from one system of record: the best basis per (provider, account, UTC day).

Evidence ranks invoice/FOCUS BilledCost > provider cost API > usage x catalog price >
request-log estimate. For each provider, account and day the best basis present is taken
whole and never added to another; it is shared out to model, workload and team in
proportion to usage x price that day. Shares are rounded to 1e-10 USD and the last share
of each day takes the remainder, so totals by any dimension are exactly equal.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.ledger.fx import fx_factor_sql
from models.queries.request_hours import prefer_hash_grouping, request_hours_cte
from models.queries.spread import in_window, overlaps, share, share_int, spread_join, window_filter
from models.queries.sql_fragments import attribution_join, price_join, priced_cost

DIMENSIONS = {"provider": "provider", "model": "model", "workload": "workload", "team": "team",
              "account": "account_id", "day": "day"}

# Each money column of a day is shared by the same weights; the last share takes each remainder.
_MONEY = {"amount": "cost_usd", "gross": "gross_usd", "credits": "credits_usd", "tax": "tax_usd"}
_SHARES = ",\n           ".join(
    f"b.{col}, CASE WHEN b.target_est IS NULL OR b.target_est = 0 THEN NULL "
    f"ELSE round(b.{col} * coalesce(b.est_cost, 0) / b.target_est, 10) END AS share_{col}" for col in _MONEY)
_REMAINDERS = ",\n           ".join(
    f"CASE WHEN rn = n THEN {col} - coalesce(sum(share_{col}) OVER (PARTITION BY provider, account_id, day, lmodel "
    f"ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) ELSE share_{col} END AS {out}"
    for col, out in _MONEY.items())


def _allocated_sql(include_pending: bool) -> str:
    """The allocation query; include_pending prices pending changes as if applied."""
    return f"""
WITH hourly_days AS (
    -- (provider, account, UTC day) with provider buckets: an equality anti-join, not a range per request
    SELECT DISTINCT provider, account_id, CAST((bucket_start_at AT TIME ZONE 'UTC') AS date) AS day
    FROM usage_hourly
    WHERE bucket_start_at >= CAST(:since AS timestamptz) - interval '1 day'
      AND bucket_start_at < CAST(:until AS timestamptz) + interval '1 day'
), usage_rows AS (
    SELECT u.provider, u.account_id, CAST((u.bucket_start_at AT TIME ZONE 'UTC') AS date) AS day, u.model,
           coalesce(wl.workload, 'unallocated') AS workload, coalesce(wl.team, 'unallocated') AS team,
           u.input_tokens, u.cached_input_tokens, u.output_tokens, u.reasoning_tokens,
           {priced_cost('u')} AS est_cost, 1 AS rows_, 0 AS unreported_rows, 0 AS unreported_tokens
    FROM usage_hourly u {price_join('u', 'bucket_start_at', include_pending=include_pending)} {attribution_join('u')}
    WHERE u.bucket_start_at >= :since AND u.bucket_start_at < :until
), request_hours AS (
    -- request logs count only where no provider usage exists for that provider, account and day.
    -- They come summed per hour and attribution key (the request rollup), so the price and rule
    -- lookups run once per group rather than once per request (prices are per day, rules per key).
    {request_hours_cte()}
), request_rows AS (
    SELECT q.provider, q.account_id, CAST((q.started_at AT TIME ZONE 'UTC') AS date) AS day, q.model,
           coalesce(nullif(q.workload_tag, ''), wl.workload, 'unallocated') AS workload,
           coalesce(nullif(q.team, ''), wl.team, 'unallocated') AS team,
           q.input_tokens, q.cached_input_tokens, q.output_tokens, q.reasoning_tokens,
           coalesce({priced_cost('q', cache_write=False)}, q.reported_cost_usd) AS est_cost, q.rows_,
           CASE WHEN {priced_cost('q', cache_write=False)} IS NULL THEN q.unreported_rows ELSE 0 END,
           CASE WHEN {priced_cost('q', cache_write=False)} IS NULL THEN q.unreported_tokens ELSE 0 END
    FROM request_hours q {price_join('q', 'started_at', include_pending=include_pending)} {attribution_join('q', has_tags=True)}
), usage_groups AS (
    SELECT provider, account_id, day, model, workload, team,
           sum(input_tokens) AS input_tokens, sum(cached_input_tokens) AS cached_input_tokens,
           sum(output_tokens) AS output_tokens, sum(reasoning_tokens) AS reasoning_tokens,
           sum(est_cost) AS est_cost,
           sum(CASE WHEN est_cost IS NULL THEN input_tokens + output_tokens ELSE unreported_tokens END)
               AS unpriced_tokens,
           sum(CASE WHEN est_cost IS NULL THEN rows_ ELSE unreported_rows END) AS unpriced_rows,
           bool_or(src = 'request') AS from_requests
    FROM (SELECT *, 'usage' AS src FROM usage_rows UNION ALL SELECT *, 'request' FROM request_rows) x
    GROUP BY 1, 2, 3, 4, 5, 6
), line_rows AS (
    -- token lines (never purchases: those amortize through the commitment ledger), converted at their
    -- charge day's rate; without one they are counted, never summed
    SELECT c.id, c.provider, c.account_id, c.basis, c.charge_category, lower(c.model) AS lmodel, c.token_type,
           c.tokens, c.charge_period_start_at, c.charge_period_end_at,
           c.billed_cost * {fx_factor_sql('c.currency', "CAST((c.charge_period_start_at AT TIME ZONE 'UTC') AS date)", "'USD'")} AS usd
    FROM cost_lines c
    WHERE c.ai_class = 'token' AND c.basis IN ('invoice', 'focus', 'cost_api') AND c.charge_category <> 'purchase'
      AND {overlaps('c')}
), line_spread AS (
    -- a line spanning days is shared over them in proportion to hours (docs/ingest.md, "Charges that span days")
    SELECT l.provider, l.account_id, l.basis, l.charge_category, l.lmodel, l.token_type, l.usd, sp.day, sp.secs,
           sp.win_secs, {share('l.usd', 'l.id')} AS usd_day, {share_int('l.tokens', 'l.id')} AS tokens_day,
           sp.day = min(sp.day) FILTER (WHERE {window_filter('sp')}) OVER (PARTITION BY l.id) AS first_in_window
    FROM line_rows l {spread_join('l.charge_period_start_at', 'l.charge_period_end_at')}
), line_window AS (
    -- a window that starts or ends inside a day keeps that day's part of the window (by seconds)
    SELECT provider, account_id, basis, charge_category, lmodel, token_type, usd, day, first_in_window,
           {in_window('s.usd_day', 's')} AS usd_day,
           CAST(CASE WHEN s.win_secs >= s.secs THEN s.tokens_day ELSE round(s.tokens_day * s.win_secs / s.secs) END
                AS bigint) AS tokens_day
    FROM line_spread s WHERE {window_filter('s')}
), line_days AS (
    SELECT provider, account_id, day,
           CASE basis WHEN 'invoice' THEN 1 WHEN 'focus' THEN 1 WHEN 'cost_api' THEN 2 ELSE 9 END AS rank,
           basis, lmodel, sum(usd_day) AS amount,
           coalesce(sum(usd_day) FILTER (WHERE charge_category NOT IN ('credit', 'refund', 'tax')), 0) AS gross,
           coalesce(sum(usd_day) FILTER (WHERE charge_category IN ('credit', 'refund')), 0) AS credits,
           coalesce(sum(usd_day) FILTER (WHERE charge_category = 'tax'), 0) AS tax,
           count(*) FILTER (WHERE usd IS NULL AND first_in_window) AS unconverted,
           coalesce(sum(tokens_day) FILTER (WHERE token_type IN ('input', 'cached_input', 'cache_write_5m',
                                                                 'cache_write_1h')), 0) AS line_input,
           coalesce(sum(tokens_day) FILTER (WHERE token_type = 'cached_input'), 0) AS line_cached,
           coalesce(sum(tokens_day) FILTER (WHERE token_type = 'output'), 0) AS line_output
    FROM line_window
    GROUP BY 1, 2, 3, 4, 5, 6
), usage_days AS (
    SELECT provider, account_id, day,
           CASE WHEN bool_or(from_requests) THEN 4 ELSE 3 END AS rank,
           CASE WHEN bool_or(from_requests) THEN 'request_estimate' ELSE 'usage_price' END AS basis,
           '' AS lmodel, sum(est_cost) AS amount, sum(est_cost) AS gross, 0 AS credits, 0 AS tax, 0 AS unconverted,
           0 AS line_input, 0 AS line_cached, 0 AS line_output
    FROM usage_groups GROUP BY 1, 2, 3
), candidates AS (
    SELECT * FROM line_days UNION ALL SELECT * FROM usage_days WHERE amount IS NOT NULL
), best_basis AS (
    SELECT DISTINCT ON (provider, account_id, day) provider, account_id, day, basis
    FROM candidates ORDER BY provider, account_id, day, rank, basis
), best AS (
    -- the best basis's money of the day, per model the bill names ('' where it names none)
    SELECT c.* FROM candidates c JOIN best_basis b USING (provider, account_id, day, basis)
), matched AS (
    -- money a line gives to a model goes to that model's usage; money without a model to the whole day's
    SELECT b.*, g.model AS g_model, g.workload AS g_workload, g.team AS g_team, g.est_cost,
           sum(g.est_cost) OVER (PARTITION BY b.provider, b.account_id, b.day, b.lmodel) AS target_est
    FROM best b LEFT JOIN usage_groups g
      ON g.provider = b.provider AND g.account_id = b.account_id AND g.day = b.day
     AND (b.lmodel = '' OR {model_matches('g.model', 'b.lmodel')})
), targets AS (
    SELECT * FROM matched WHERE target_est IS NOT NULL AND target_est <> 0
    UNION ALL
    -- no priced usage for what the bill names: one 'unallocated' group, model as the bill says
    SELECT DISTINCT ON (provider, account_id, day, lmodel) provider, account_id, day, rank, basis, lmodel, amount,
           gross, credits, tax, unconverted, line_input, line_cached, line_output,
           lmodel, 'unallocated', 'unallocated', NULL, NULL
    FROM matched WHERE target_est IS NULL OR target_est = 0
), shares AS (
    SELECT b.provider, b.account_id, b.day, b.basis, b.unconverted, b.lmodel,
           CASE WHEN b.est_cost IS NULL THEN b.line_input ELSE 0 END AS line_input,
           CASE WHEN b.est_cost IS NULL THEN b.line_cached ELSE 0 END AS line_cached,
           CASE WHEN b.est_cost IS NULL THEN b.line_output ELSE 0 END AS line_output,
           coalesce(b.g_model, '') AS model, coalesce(b.g_workload, 'unallocated') AS workload,
           coalesce(b.g_team, 'unallocated') AS team,
           {_SHARES},
           row_number() OVER (PARTITION BY b.provider, b.account_id, b.day, b.lmodel
                              ORDER BY coalesce(b.est_cost, 0), b.g_model, b.g_workload, b.g_team) AS rn,
           count(*) OVER (PARTITION BY b.provider, b.account_id, b.day, b.lmodel) AS n
    FROM targets b
), money_parts AS (
    SELECT provider, account_id, day, basis, model, workload, team, line_input, line_cached, line_output,
           CASE WHEN rn = n THEN unconverted ELSE 0 END AS unconverted_rows,
           {_REMAINDERS}
    FROM shares
), money AS (
    SELECT provider, account_id, day, basis, model, workload, team, sum(unconverted_rows) AS unconverted_rows,
           sum(cost_usd) AS cost_usd, sum(gross_usd) AS gross_usd, sum(credits_usd) AS credits_usd,
           sum(tax_usd) AS tax_usd, sum(line_input) AS line_input, sum(line_cached) AS line_cached,
           sum(line_output) AS line_output
    FROM money_parts GROUP BY 1, 2, 3, 4, 5, 6, 7
)
SELECT coalesce(m.provider, g.provider) AS provider, coalesce(m.account_id, g.account_id) AS account_id,
       coalesce(m.day, g.day) AS day, coalesce(m.model, g.model) AS model,
       coalesce(m.workload, g.workload) AS workload, coalesce(m.team, g.team) AS team,
       m.basis AS cost_basis, coalesce(m.cost_usd, 0) AS cost_usd,
       coalesce(m.gross_usd, 0) AS gross_usd, coalesce(m.credits_usd, 0) AS credits_usd,
       coalesce(m.tax_usd, 0) AS tax_usd, coalesce(m.unconverted_rows, 0) AS unconverted_rows,
       coalesce(g.input_tokens, m.line_input, 0) AS input_tokens,
       coalesce(g.cached_input_tokens, m.line_cached, 0) AS cached_input_tokens,
       coalesce(g.output_tokens, m.line_output, 0) AS output_tokens, coalesce(g.reasoning_tokens, 0) AS reasoning_tokens,
       coalesce(g.unpriced_tokens, 0) AS unpriced_tokens, coalesce(g.unpriced_rows, 0) AS unpriced_rows
FROM money m FULL OUTER JOIN usage_groups g
  ON g.provider = m.provider AND g.account_id = m.account_id AND g.day = m.day
 AND g.model = m.model AND g.workload = m.workload AND g.team = m.team
"""


def model_matches(usage_model: str, bill_model: str) -> str:
    """SQL: a usage row's model is the model a bill line names: equal, or the same name with a date or version.

    'gpt-4o' matches gpt-4o-2024-08-06 (and gpt-4-0613 matches gpt-4) but not gpt-4o-mini-2024-07-18;
    names compare case-free.
    """
    escaped = f"regexp_replace({bill_model}, '([^a-z0-9])', '\\\\\\1', 'g')"
    return (f"(lower({usage_model}) = {bill_model} OR lower({usage_model}) ~ ('^' || {escaped} || "
            f"'-([0-9]{{4}}-?[0-9]{{2}}-?[0-9]{{2}}|[0-9]{{4}}|latest)$'))")


SCHEMA = {
    "provider": pl.String, "account_id": pl.String, "day": pl.Date, "model": pl.String, "workload": pl.String,
    "team": pl.String, "cost_basis": pl.String, "cost_usd": pl.Decimal(38, 18), "gross_usd": pl.Decimal(38, 18),
    "credits_usd": pl.Decimal(38, 18), "tax_usd": pl.Decimal(38, 18), "unconverted_rows": pl.Int64, "input_tokens": pl.Int64,
    "cached_input_tokens": pl.Int64, "output_tokens": pl.Int64, "reasoning_tokens": pl.Int64,
    "unpriced_tokens": pl.Int64, "unpriced_rows": pl.Int64,
}


def allocated_daily(conn: Connection, *, since: datetime, until: datetime,
                    include_pending: bool = False) -> pl.DataFrame:
    """Token spend per provider, account, day, model, workload and team, from the best basis."""
    prefer_hash_grouping(conn)
    rows = conn.execute(sa.text(_allocated_sql(include_pending)), {"since": since, "until": until}).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=SCHEMA, orient="row")


def spend_by(conn: Connection, *, since: datetime, until: datetime, by: str,
             include_pending: bool = False) -> pl.DataFrame:
    """Totals per group of `by` (provider, model, workload, team, account or day), biggest first."""
    if by not in DIMENSIONS:
        raise ValueError(f"--by must be one of {', '.join(DIMENSIONS)}, not {by!r}")
    daily = allocated_daily(conn, since=since, until=until, include_pending=include_pending)
    return summarise(daily, DIMENSIONS[by])


def summarise(daily: pl.DataFrame, column: str) -> pl.DataFrame:
    """Group an allocated daily frame by one column, with the bases that fed each total."""
    return (
        daily.group_by(column)
        .agg(
            pl.col("cost_usd").sum(), pl.col("gross_usd").sum(), pl.col("credits_usd").sum(), pl.col("tax_usd").sum(),
            pl.col("cost_basis").drop_nulls().unique().sort().str.join("+").alias("cost_basis"),
            *[pl.col(c).sum() for c in ("input_tokens", "cached_input_tokens", "output_tokens",
                                        "reasoning_tokens", "unpriced_tokens", "unpriced_rows", "unconverted_rows")],
        )
        .rename({column: "group"})
        .with_columns(pl.col("group").cast(pl.String))
        .sort(["cost_usd", "group"], descending=[True, False])
    )
