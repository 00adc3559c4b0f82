"""The engineering lead's questions: reasoning-token dollars, request-log coverage, and a drill-down
team -> workloads -> users -> the most repeated requests (fingerprints).

Request-log rows are priced like the system of record (tokens x the price in effect, else the
reported cost). A prompt's text is shown only where it was captured (`store_prompts=True` in the
instrumented client keeps the normalised request in tags.request); otherwise only its keyed
fingerprint, which cannot be reversed.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import Connection

from models.queries.frames import frame
from models.queries.request_hours import HOURLY_DAYS_CTE, prefer_hash_grouping, request_hours_cte
from models.queries.sql_fragments import attribution_join, price_join, priced_cost

MONEY = pl.Decimal(38, 10)
# Reasoning tokens are billed as output tokens: their list cost is reasoning x the output price in effect.
_REASONING_OUT = ("(CASE WHEN {a}.is_batch THEN coalesce(p.batch_output_usd_per_mtok, p.output_usd_per_mtok * 0.5) "
                  "ELSE p.output_usd_per_mtok END)")

REASONING = f"""
WITH hourly_days AS ({HOURLY_DAYS_CTE}
), request_hours AS ({request_hours_cte()}
)
SELECT provider, account_id, day, model, workload, team, sum(est_cost) AS est_cost,
       sum(reasoning_cost) AS reasoning_cost
FROM (
    SELECT u.provider, u.account_id, CAST((u.bucket_start_at AT TIME ZONE 'UTC') AS date) AS day, u.model,
           coalesce(wl.workload, 'unallocated') AS workload, coalesce(wl.team, 'unallocated') AS team,
           {priced_cost('u')} AS est_cost,
           u.reasoning_tokens * {_REASONING_OUT.format(a='u')} / 1000000.0 AS reasoning_cost
    FROM usage_hourly u {price_join('u', 'bucket_start_at')} {attribution_join('u')}
    WHERE u.bucket_start_at >= :since AND u.bucket_start_at < :until AND u.reasoning_tokens > 0
    UNION ALL
    SELECT q.provider, q.account_id, CAST((q.started_at AT TIME ZONE 'UTC') AS date), q.model,
           coalesce(nullif(q.workload_tag, ''), wl.workload, 'unallocated'),
           coalesce(nullif(q.team, ''), wl.team, 'unallocated'),
           {priced_cost('q', cache_write=False)},
           q.reasoning_tokens * {_REASONING_OUT.format(a='q')} / 1000000.0
    FROM request_hours q {price_join('q', 'started_at')} {attribution_join('q', has_tags=True)}
    WHERE q.reasoning_tokens > 0
) x
GROUP BY 1, 2, 3, 4, 5, 6
"""

KEYS = ["provider", "account_id", "day", "model", "workload", "team"]


def reasoning_costs(conn: Connection, *, since: datetime, until: datetime) -> pl.DataFrame:
    """Per provider, account, day, model, workload and team with reasoning tokens: their list cost and the row's."""
    prefer_hash_grouping(conn)
    return frame(conn, REASONING, {"since": since, "until": until}, {
        "provider": pl.String, "account_id": pl.String, "day": pl.Date, "model": pl.String, "workload": pl.String,
        "team": pl.String, "est_cost": MONEY, "reasoning_cost": MONEY})


def reasoning_usd(daily: pl.DataFrame, costs: pl.DataFrame, column: str) -> pl.DataFrame:
    """Reasoning-token dollars per team or workload: each row's spend x (reasoning list cost / its list cost).

    The system of record's spend (`daily`, allocated_daily) is shared to reasoning in proportion to
    what the reasoning tokens cost at the output price in effect, so the figure is a part of the
    spend every page shows (credits and invoice differences included), never more than it.
    """
    schema = {column: pl.String, "cost_usd": pl.Float64, "reasoning_tokens": pl.Int64, "reasoning_usd": pl.Float64,
              "reasoning_share": pl.Float64}
    if daily.is_empty():
        return pl.DataFrame(schema=schema)
    joined = daily.join(costs, on=KEYS, how="left").with_columns(
        pl.col("cost_usd").cast(pl.Float64),
        pl.when(pl.col("est_cost").cast(pl.Float64) > 0)
        .then(pl.col("cost_usd").cast(pl.Float64) * pl.col("reasoning_cost").cast(pl.Float64)
              / pl.col("est_cost").cast(pl.Float64)).otherwise(0.0).fill_null(0.0).alias("reasoning_usd"))
    out = joined.group_by(column).agg(pl.col("cost_usd").sum(), pl.col("reasoning_tokens").sum(),
                                      pl.col("reasoning_usd").sum())
    return out.with_columns(
        pl.when(pl.col("cost_usd") > 0).then(pl.col("reasoning_usd") / pl.col("cost_usd")).otherwise(None)
        .alias("reasoning_share")).sort(["reasoning_usd", column], descending=[True, False]).select(*schema)


_GROUPS = f"""
WITH period AS (
    SELECT * FROM usage_requests q
    WHERE q.started_at >= :since AND q.started_at < :until AND q.endpoint_kind = 'api'
      AND ((q.status_code IS NULL AND q.tags ->> 'error' IS NULL) OR q.status_code < 400)
), day_keys AS (
    -- prices are per model and UTC day: look each up once, not once per request
    SELECT DISTINCT provider, model,
           date_trunc('day', started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day_at FROM period
), day_prices AS (
    SELECT k.provider, k.model, k.day_at, p.* FROM day_keys k {price_join('k', 'day_at')}
)
SELECT coalesce(nullif(q.team, ''), wl.team, 'unallocated') AS team,
       coalesce(nullif(q.workload_tag, ''), wl.workload, 'unallocated') AS workload,
       coalesce(nullif(q.user_id, ''), nullif(q.api_key_id, ''), '(no user or key)') AS user_,
       q.fingerprint, count(*) AS requests,
       sum(coalesce({priced_cost('q', cache_write=False)}, q.reported_cost_usd)) AS logged_usd,
       sum(q.reasoning_tokens) AS reasoning_tokens, min(q.started_at) AS first_at, max(q.started_at) AS last_at,
       min(q.model) AS models, left(max(q.tags ->> 'request'), 300) AS prompt
FROM period q
LEFT JOIN day_prices p ON p.provider = q.provider AND p.model = q.model
 AND p.day_at = date_trunc('day', q.started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
{attribution_join('q', has_tags=True)}
GROUP BY 1, 2, 3, 4
"""
GROUP_SCHEMA = {"team": pl.String, "workload": pl.String, "user": pl.String, "fingerprint": pl.String,
                "requests": pl.Int64, "logged_usd": MONEY, "reasoning_tokens": pl.Int64,
                "first_at": pl.Datetime("us", "UTC"), "last_at": pl.Datetime("us", "UTC"), "models": pl.String,
                "prompt": pl.String}
LEVELS = ("team", "workload", "user")


def request_groups(conn: Connection, *, since: datetime, until: datetime) -> pl.DataFrame:
    """Served request-log rows per team, workload, user (or API key) and fingerprint: counts, USD, times, prompt.

    One query for the whole drill-down; the levels are sums of it (`level_table`, `top_fingerprints`).
    `prompt` is the captured request (tags.request) where the client stored it, else null.
    """
    prefer_hash_grouping(conn)
    return frame(conn, _GROUPS, {"since": since, "until": until}, GROUP_SCHEMA)


def _filtered(groups: pl.DataFrame, team: str | None, workload: str | None, user: str | None) -> pl.DataFrame:
    for column, value in (("team", team), ("workload", workload), ("user", user)):
        if value is not None:
            groups = groups.filter(pl.col(column) == value)
    return groups


def level_table(groups: pl.DataFrame, level: str, *, team: str | None = None, workload: str | None = None,
                user: str | None = None) -> pl.DataFrame:
    """Requests, logged USD, repeats and their cost per `level` (team, workload or user), within the picks above it.

    repeats = Σ over fingerprints sent n > 1 times of (n - 1): requests a response cache would
    have answered (same request sent again in the period); repeat_usd = their share of the cost.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    part = _filtered(groups, team, workload, user).with_columns(pl.col("logged_usd").cast(pl.Float64))
    per_fp = part.group_by(level, "fingerprint").agg(pl.col("requests").sum(), pl.col("logged_usd").sum(),
                                                     pl.col("reasoning_tokens").sum())
    repeated = pl.col("fingerprint") != ""
    return (per_fp.group_by(level).agg(
        pl.col("requests").sum(), pl.col("logged_usd").sum(), pl.col("reasoning_tokens").sum(),
        (pl.col("requests") - 1).filter(repeated).sum().alias("repeats"),
        (pl.col("logged_usd") * (pl.col("requests") - 1) / pl.col("requests")).filter(repeated).sum()
        .alias("repeat_usd"))
        .sort(["logged_usd", level], descending=[True, False], nulls_last=True))


def top_fingerprints(groups: pl.DataFrame, *, workload: str, user: str | None = None, limit: int = 20,
                     team: str | None = None) -> pl.DataFrame:
    """The requests sent more than once (same fingerprint) in a workload (by one user), costliest repeats first."""
    part = _filtered(groups, team, workload, user).filter(pl.col("fingerprint") != "")
    out = part.group_by("fingerprint").agg(
        pl.col("requests").sum(), pl.col("logged_usd").cast(pl.Float64).sum(), pl.col("first_at").min(),
        pl.col("last_at").max(), pl.col("models").drop_nulls().first(), pl.col("prompt").drop_nulls().first())
    out = out.filter(pl.col("requests") > 1).with_columns(
        (pl.col("requests") - 1).alias("repeats"),
        (pl.col("logged_usd") * (pl.col("requests") - 1) / pl.col("requests")).alias("repeat_usd"))
    return (out.sort(["repeat_usd", "requests", "fingerprint"], descending=[True, True, False], nulls_last=True)
            .head(limit).select("fingerprint", "requests", "repeats", "logged_usd", "repeat_usd", "models",
                                "first_at", "last_at", "prompt"))


def coverage(card: pl.DataFrame, spend: pl.DataFrame) -> pl.DataFrame:
    """Per scorecard group: the request logs' priced cost beside the system of record's spend, and the share.

    coverage = logged cost / spend; null where the group has no spend (nothing to cover).
    """
    logged = card.select("group", pl.col("priced_cost_usd").cast(pl.Float64).alias("logged_usd"))
    total = spend.select("group", pl.col("cost_usd").cast(pl.Float64).alias("cost_usd"))
    out = logged.join(total, on="group", how="left")
    return out.with_columns(pl.when(pl.col("cost_usd") > 0).then(pl.col("logged_usd") / pl.col("cost_usd"))
                            .otherwise(None).alias("coverage"))


def scale_savings(card: pl.DataFrame, covered: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Savings columns divided by coverage (capped at 1), to estimate them on all of a group's spend.

    A group with no coverage figure (no spend in the system of record) keeps its logged savings.
    """
    factor = covered.select("group", pl.when(pl.col("coverage") > 0)
                            .then(1 / pl.min_horizontal(pl.col("coverage"), pl.lit(1.0))).otherwise(1.0)
                            .alias("_factor"))
    out = card.join(factor, on="group", how="left").with_columns(pl.col("_factor").fill_null(1.0))
    return out.with_columns(*[(pl.col(c).cast(pl.Float64) * pl.col("_factor")).alias(c) for c in columns]).drop(
        "_factor")
