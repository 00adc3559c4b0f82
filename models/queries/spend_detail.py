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


BASIS_NAMES = {"invoice": "invoice", "focus": "FOCUS export", "cost_api": "cost API",
               "usage_price": "usage × price", "request_estimate": "request-log estimate"}
RECONCILIATION_SCHEMA = {
    "provider": pl.String, "month": pl.Date, "basis": pl.String, "amount_usd": pl.Float64,
    "chosen_usd": pl.Float64, "variance_usd": pl.Float64, "variance_pct": pl.Float64, "flagged": pl.Boolean,
    "days_chosen": pl.Int64}


def chosen_bases(daily: pl.DataFrame) -> pl.DataFrame:
    """Per provider and month: the system of record's total (USD) and the days each basis was the one used."""
    if daily.is_empty():
        return pl.DataFrame(schema={"provider": pl.String, "month": pl.Date, "basis": pl.String,
                                    "chosen_usd": pl.Float64, "days": pl.Int64})
    money = daily.with_columns(pl.col("day").dt.truncate("1mo").alias("month"), pl.col("cost_usd").cast(pl.Float64))
    per_day = (money.filter(pl.col("cost_basis").is_not_null())
               .group_by("provider", "month", "account_id", "day", "cost_basis").agg(pl.col("cost_usd").sum()))
    return (per_day.group_by("provider", "month", "cost_basis")
            .agg(pl.col("cost_usd").sum().alias("chosen_usd"), pl.col("day").n_unique().cast(pl.Int64).alias("days"))
            .rename({"cost_basis": "basis"}).sort("provider", "month", "basis"))


def reconciliation_view(long: pl.DataFrame, daily: pl.DataFrame, threshold_pct: float) -> pl.DataFrame:
    """Each basis's total per provider and month beside the system of record's, variance in USD and %, flagged.

    variance = basis total - the month's system-of-record total (best basis per account and day,
    the figure every page shows); flagged when |variance %| > threshold_pct. days_chosen: days
    on which the system of record used this basis for some account.
    """
    if long.is_empty():
        return pl.DataFrame(schema=RECONCILIATION_SCHEMA)
    chosen = chosen_bases(daily)
    month_total = chosen.group_by("provider", "month").agg(pl.col("chosen_usd").sum())
    days = chosen.select("provider", "month", "basis", pl.col("days").alias("days_chosen"))
    out = (long.select("provider", "month", "basis", "amount_usd")
           .join(month_total, on=["provider", "month"], how="left")
           .join(days, on=["provider", "month", "basis"], how="left")
           .with_columns((pl.col("amount_usd") - pl.col("chosen_usd")).alias("variance_usd"),
                         pl.col("days_chosen").fill_null(0)))
    out = out.with_columns(
        pl.when(pl.col("chosen_usd").is_not_null() & (pl.col("chosen_usd") != 0))
        .then(pl.col("variance_usd") / pl.col("chosen_usd") * 100).otherwise(None).alias("variance_pct"))
    out = out.with_columns((pl.col("variance_pct").abs() > threshold_pct).fill_null(False).alias("flagged"),
                           pl.col("basis").replace_strict(BASIS_RANK, default=9).alias("_rank"))
    return out.sort("provider", "month", "_rank").select(*RECONCILIATION_SCHEMA)


def chosen_reasons(long: pl.DataFrame, daily: pl.DataFrame) -> pl.DataFrame:
    """Per provider and month: the system-of-record total and, in words, which basis it used and why.

    For each account and UTC day the best basis present is used whole (invoice/FOCUS > cost API >
    usage x price > request-log estimate), never two added; the other bases are for comparison.
    """
    chosen = chosen_bases(daily)
    schema = {"provider": pl.String, "month": pl.Date, "chosen_usd": pl.Float64, "why": pl.String}
    if chosen.is_empty():
        return pl.DataFrame(schema=schema)
    present = {(r["provider"], r["month"]): r["basis"] for r in long.group_by("provider", "month").agg(
        pl.col("basis")).iter_rows(named=True)} if long.height else {}
    rows = []
    for (provider, month), part in chosen.group_by(["provider", "month"], maintain_order=True):
        part = part.with_columns(pl.col("basis").replace_strict(BASIS_RANK, default=9).alias("_rank")).sort("_rank")
        used = part["basis"].to_list()
        text = ", ".join(f"{BASIS_NAMES.get(b, b)} on {d} day{'s' if d != 1 else ''}"
                         for b, d in zip(used, part["days"].to_list()))
        others = sorted((b for b in present.get((provider, month), []) if b not in used),
                        key=lambda b: BASIS_RANK.get(b, 9))
        text += " (the best basis present those days)"
        if others:
            text += "; for comparison only: " + ", ".join(BASIS_NAMES.get(b, b) for b in others)
        rows.append({"provider": provider, "month": month, "chosen_usd": float(part["chosen_usd"].sum()), "why": text})
    return pl.DataFrame(rows, schema=schema).sort("provider", "month")


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
