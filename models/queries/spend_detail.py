"""Spend page detail: week-over-week movers, cached and batch shares, reconciliation of bases."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
from sqlalchemy import Connection

from models.queries.frames import frame
from models.queries.request_hours import prefer_hash_grouping, request_hours_cte
from models.queries.spread import in_window, overlaps, share, spread_join, window_filter
from models.queries.sql_fragments import attribution_join, price_join, priced_cost
from models.schema.costs import BASIS_RANK

BATCH_DAILY = f"""
SELECT CAST((u.bucket_start_at AT TIME ZONE 'UTC') AS date) AS day, u.provider,
       coalesce(wl.workload, 'unallocated') AS workload, coalesce(wl.team, 'unallocated') AS team,
       sum(CASE WHEN u.is_batch THEN u.input_tokens + u.output_tokens ELSE 0 END) AS batch_tokens,
       sum(u.input_tokens + u.output_tokens) AS tokens
FROM usage_hourly u {attribution_join('u')}
WHERE u.bucket_start_at >= :since AND u.bucket_start_at < :until
GROUP BY 1, 2, 3, 4
"""

RECONCILE = f"""
WITH request_hours AS ({request_hours_cte(only_without_buckets=False)}
)
SELECT provider, month, basis, CAST(sum(amount) AS double precision) AS amount_usd, count(*) AS lines
FROM (
    -- lines spanning days count on the days they cover (a line over two months splits); purchases are no spend
    SELECT provider, date_trunc('month', day) AS month, basis, {in_window('s.amount', 's')} AS amount
    FROM (SELECT c.provider, c.basis, sp.day, sp.secs, sp.win_secs, {share('c.billed_cost', 'c.id')} AS amount
          FROM cost_lines c {spread_join('c.charge_period_start_at', 'c.charge_period_end_at')}
          WHERE c.ai_class = 'token' AND c.currency = 'USD' AND c.charge_category <> 'purchase'
            AND {overlaps('c')}) s
    WHERE {window_filter('s')}
    UNION ALL
    SELECT u.provider, date_trunc('month', u.bucket_start_at AT TIME ZONE 'UTC'), 'usage_price', {priced_cost('u')}
    FROM usage_hourly u {price_join('u', 'bucket_start_at')}
    WHERE u.bucket_start_at >= :since AND u.bucket_start_at < :until
    UNION ALL
    SELECT q.provider, date_trunc('month', q.started_at AT TIME ZONE 'UTC'), 'request_estimate',
           coalesce({priced_cost('q', cache_write=False)}, q.reported_cost_usd)
    FROM request_hours q {price_join('q', 'started_at')}
) x
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""


def batch_daily(conn: Connection, *, since: datetime, until: datetime) -> pl.DataFrame:
    """Per day, provider, workload and team: tokens sent through batch APIs and all tokens."""
    return frame(conn, BATCH_DAILY, {"since": since, "until": until}, {
        "day": pl.Date, "provider": pl.String, "workload": pl.String, "team": pl.String,
        "batch_tokens": pl.Int64, "tokens": pl.Int64})


def reconciliation(conn: Connection, *, since: datetime, until: datetime) -> pl.DataFrame:
    """Per provider and month, each basis's total (USD) side by side with its variance % to the best basis.

    Variance % = (basis total - reference) / reference, where the reference is the highest-ranked
    basis present for that provider and month (invoice/FOCUS > cost API > usage x price > request logs).
    Unpriced usage has no usage x price; it is not counted as $0 (it is missing from that total).
    """
    prefer_hash_grouping(conn)
    long = frame(conn, RECONCILE, {"since": since, "until": until}, {
        "provider": pl.String, "month": pl.Datetime("us"), "basis": pl.String,
        "amount_usd": pl.Float64, "lines": pl.Int64})
    if long.is_empty():
        return pl.DataFrame(schema={"provider": pl.String, "month": pl.Date, "basis": pl.String,
                                    "amount_usd": pl.Float64, "reference_basis": pl.String,
                                    "variance_pct": pl.Float64})
    long = long.with_columns(pl.col("month").dt.date(),
                             pl.col("basis").replace_strict(BASIS_RANK, default=9).alias("rank"))
    ref = (long.filter(pl.col("amount_usd").is_not_null()).sort("rank")
           .group_by("provider", "month").agg(pl.col("basis").first().alias("reference_basis"),
                                               pl.col("amount_usd").first().alias("reference_usd")))
    return (long.join(ref, on=["provider", "month"], how="left")
            .with_columns(pl.when(pl.col("reference_usd") != 0)
                          .then((pl.col("amount_usd") - pl.col("reference_usd")) / pl.col("reference_usd") * 100)
                          .otherwise(None).alias("variance_pct"))
            .sort("provider", "month", "rank")
            .select("provider", "month", "basis", "amount_usd", "reference_basis", "variance_pct"))


def reconciliation_wide(long: pl.DataFrame) -> pl.DataFrame:
    """One row per provider and month, a column per basis total (USD) and per basis variance %."""
    if long.is_empty():
        return pl.DataFrame(schema={"provider": pl.String, "month": pl.Date})
    amounts = long.pivot(on="basis", index=["provider", "month"], values="amount_usd")
    variances = long.pivot(on="basis", index=["provider", "month"], values="variance_pct")
    variances = variances.rename({c: f"{c} variance %" for c in variances.columns if c not in ("provider", "month")})
    return amounts.join(variances, on=["provider", "month"]).sort("provider", "month")


def week_over_week(daily: pl.DataFrame, by: str, until_day: date) -> pl.DataFrame:
    """Movers: spend (USD) of the 7 days to `until_day` vs the 7 before, per value of `by`, biggest change first."""
    this_start = until_day - timedelta(days=6)
    last_start = this_start - timedelta(days=7)
    money = daily.with_columns(pl.col("cost_usd").cast(pl.Float64))
    out = money.group_by(by).agg(
        pl.col("cost_usd").filter(pl.col("day") >= this_start).sum().alias("this_week_usd"),
        pl.col("cost_usd").filter((pl.col("day") >= last_start) & (pl.col("day") < this_start)).sum()
        .alias("last_week_usd"),
    ).with_columns((pl.col("this_week_usd") - pl.col("last_week_usd")).alias("change_usd"))
    return out.with_columns(
        pl.when(pl.col("last_week_usd") > 0).then(pl.col("change_usd") / pl.col("last_week_usd") * 100)
        .otherwise(None).alias("change_pct"),
    ).rename({by: "group"}).sort(pl.col("change_usd").abs(), descending=True)


def token_shares(daily: pl.DataFrame, batch: pl.DataFrame) -> dict[str, float | None]:
    """Cached share = cached_input / input tokens; batch share = batch tokens / all provider-bucket tokens."""
    inp = int(daily["input_tokens"].sum()) if not daily.is_empty() else 0
    cached = int(daily["cached_input_tokens"].sum()) if not daily.is_empty() else 0
    total = int(batch["tokens"].sum()) if not batch.is_empty() else 0
    batched = int(batch["batch_tokens"].sum()) if not batch.is_empty() else 0
    return {"cached_share": cached / inp if inp else None, "batch_share": batched / total if total else None}


def shares_over_time(daily: pl.DataFrame, batch: pl.DataFrame) -> pl.DataFrame:
    """Per day: cached share of input and batch share of tokens (fractions 0..1)."""
    cached = daily.group_by("day").agg(
        (pl.col("cached_input_tokens").sum() / pl.col("input_tokens").sum()).alias("cached_share"))
    batched = batch.group_by("day").agg(
        (pl.col("batch_tokens").sum() / pl.col("tokens").sum()).alias("batch_share"))
    return cached.join(batched, on="day", how="full", coalesce=True).sort("day")
