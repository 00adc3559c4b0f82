"""Request logs summed per hour and attribution key before any per-row lookup, read from the rollup.

`request_hourly` (models/request_rollups.py) already holds requests summed per UTC hour and every
key rules and prices match on. Prices are per day and rules match on those keys, so pricing and
attributing a group gives the same answer as doing it request by request, at a fraction of the
lookups. A request counts in a window when its hour starts in it, as a provider bucket does.
"""

from __future__ import annotations

import sqlalchemy as sa


def request_hours_cte(*, only_without_buckets: bool = True) -> str:
    """SQL for a CTE body `request_hours`: API requests of the hours in [:since, :until), per hour and key.

    With only_without_buckets, requests of a (provider, account, UTC day) that has provider usage
    buckets are left out (the buckets are the better record); needs the `hourly_days` CTE.
    """
    anti = """
      AND NOT EXISTS (SELECT 1 FROM hourly_days h WHERE h.provider = q.provider AND h.account_id = q.account_id
                      AND h.day = CAST((q.hour_at AT TIME ZONE 'UTC') AS date))""" if only_without_buckets else ""
    return f"""
    SELECT q.hour_at AS started_at, q.provider, q.account_id, q.model, q.project_id,
           q.api_key_id, q.user_id, q.team, q.workload_tag, q.is_batch, q.tags,
           sum(q.input_tokens) AS input_tokens, sum(q.cached_input_tokens) AS cached_input_tokens,
           sum(q.output_tokens) AS output_tokens, sum(q.reasoning_tokens) AS reasoning_tokens,
           sum(q.reported_cost_usd) AS reported_cost_usd, sum(q.requests) AS rows_,
           sum(q.unreported_requests) AS unreported_rows, sum(q.unreported_tokens) AS unreported_tokens
    FROM request_hourly q
    WHERE q.hour_at >= :since AND q.hour_at < :until AND q.endpoint_kind = 'api'{anti}
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"""


HOURLY_DAYS_CTE = """
    SELECT DISTINCT provider, account_id, CAST((bucket_start_at AT TIME ZONE 'UTC') AS date) AS day
    FROM usage_hourly
    WHERE bucket_start_at >= CAST(:since AS timestamptz) - interval '1 day'
      AND bucket_start_at < CAST(:until AS timestamptz) + interval '1 day'"""


def prefer_hash_grouping(conn) -> None:
    """For this transaction: group request logs by hashing, not sorting.

    The planner cannot know that a month of requests falls into a few thousand (hour, key)
    groups, so it sorts every row; hashing is 2-3x faster at a million rows and spills to disk
    if it must. SET LOCAL ends with the transaction.
    """
    conn.execute(sa.text("SET LOCAL enable_sort = off"))
    conn.execute(sa.text("SET LOCAL work_mem = '64MB'"))
