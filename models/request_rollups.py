"""The hourly rollup of per-request usage (`request_hourly`): maintained on load, read by every token-side view.

A rollup row sums the requests of one UTC hour that share every dimension attribution rules,
prices and the discipline counts match on: provider, account, model, endpoint kind, project,
API key, user, team, workload tag, batch flag, served flag and the tag values that tag rules
read. Rules and prices are applied at query time on these rows, as on the raw ones, so editing a
rule or a price re-attributes and re-prices history without touching the rollup.

Only the tag keys that attribution rules name are kept (`tags` minus per-request ids), so a rule
on a new tag key needs the rollup rebuilt: `ensure_tag_keys` does that, and the edits that save
rules and every load call it. The loader refreshes exactly the hours a load touched (the new
rows' hours and, for re-loaded keys, the hours they had before), under one advisory lock so two
concurrent loads of one hour cannot both aggregate without the other's rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Connection

TAG_KEYS_SETTING = "request_rollup_tag_keys"
REFRESH_LOCK = 1_907_007  # pg_advisory_xact_lock key: one request-rollup refresh at a time
MAX_RANGES = 200  # beyond this many separate runs of hours, refresh through a join instead of ORed ranges

KEY = ("hour_at", "provider", "account_id", "model", "endpoint_kind", "project_id", "api_key_id", "user_id", "team",
       "workload_tag", "is_batch", "served", "tags", "is_demo")
MEASURES = ("requests", "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens",
            "reported_cost_usd", "unreported_requests", "unreported_tokens", "fingerprinted_requests",
            "reasoning_token_requests", "rate_limited_requests")

SERVED = "coalesce((q.status_code IS NULL AND q.tags ->> 'error' IS NULL) OR q.status_code < 400, FALSE)"


def tags_expression(keys: Sequence[str]) -> tuple[str, dict[str, str]]:
    """SQL keeping only `keys` of q.tags, with its parameters.

    Every key is present, JSON null where the request has none: `tags ->> key` is NULL for both,
    as on the raw row, so a rule matches a rollup row exactly when it matches its requests.
    """
    if not keys:
        return "CAST('{}' AS jsonb)", {}
    params = {f"tag_key_{i}": key for i, key in enumerate(keys)}
    pairs = ", ".join(f"CAST(:{p} AS text), q.tags -> CAST(:{p} AS text)" for p in params)
    return f"jsonb_build_object({pairs})", params


def aggregate_sql(keys: Sequence[str], where: str) -> tuple[str, dict[str, str]]:
    """SELECT of rollup rows from `usage_requests q` filtered by `where` (SQL), in KEY + MEASURES order."""
    tags, params = tags_expression(keys)
    sql = f"""
SELECT date_trunc('hour', q.started_at, 'UTC') AS hour_at, q.provider, q.account_id, q.model, q.endpoint_kind,
       q.project_id, q.api_key_id, q.user_id, q.team, q.workload_tag, q.is_batch, {SERVED} AS served,
       {tags} AS tags, q.is_demo,
       count(*), sum(q.input_tokens), sum(q.cached_input_tokens), sum(q.output_tokens), sum(q.reasoning_tokens),
       sum(q.reported_cost_usd), count(*) FILTER (WHERE q.reported_cost_usd IS NULL),
       coalesce(sum(q.input_tokens + q.output_tokens) FILTER (WHERE q.reported_cost_usd IS NULL), 0),
       count(*) FILTER (WHERE q.fingerprint <> ''), count(*) FILTER (WHERE q.reasoning_tokens > 0),
       count(*) FILTER (WHERE q.status_code = 429)
FROM usage_requests q
WHERE {where}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14"""
    return sql, params


def _insert(conn: Connection, keys: Sequence[str], where: str, params: dict) -> int:
    select, tag_params = aggregate_sql(keys, where)
    # Group by hashing: a month of requests is a few thousand groups, and the planner, multiplying
    # 14 columns' distinct counts, would sort every row instead. Only for this statement.
    before = conn.exec_driver_sql("SELECT current_setting('enable_sort')").scalar_one()
    conn.exec_driver_sql("SET LOCAL enable_sort = off")
    rows = conn.execute(sa.text(f"INSERT INTO request_hourly ({', '.join(KEY + MEASURES)}) {select}"),
                        {**params, **tag_params}).rowcount
    conn.exec_driver_sql(f"SET LOCAL enable_sort = {'on' if before == 'on' else 'off'}")
    return rows


def rule_tag_keys(conn: Connection) -> list[str]:
    """The tag keys attribution rules match on (enabled or not), sorted."""
    return list(conn.execute(sa.text(
        "SELECT DISTINCT tag_key FROM attribution_rules WHERE match_field = 'tag' AND tag_key <> '' ORDER BY 1"
    )).scalars().all())


def stored_tag_keys(conn: Connection) -> list[str] | None:
    """The tag keys the rollup was built with; None when it was never built."""
    value = conn.execute(sa.text("SELECT value FROM app_settings WHERE key = :k"), {"k": TAG_KEYS_SETTING}).scalar()
    return None if value is None else list(json.loads(value))


def _store_tag_keys(conn: Connection, keys: Sequence[str]) -> None:
    conn.execute(sa.text("INSERT INTO app_settings (key, value) VALUES (:k, :v) "
                         "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"),
                 {"k": TAG_KEYS_SETTING, "v": json.dumps(list(keys))})


def _lock(conn: Connection) -> None:
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": REFRESH_LOCK})


def rebuild(conn: Connection, keys: Sequence[str] | None = None) -> int:
    """Recompute the whole rollup from usage_requests (with the rules' tag keys); return its row count."""
    _lock(conn)
    keys = rule_tag_keys(conn) if keys is None else list(keys)
    conn.exec_driver_sql("DELETE FROM request_hourly")
    conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    rows = _insert(conn, keys, "TRUE", {})
    _store_tag_keys(conn, keys)
    return rows


def ensure_tag_keys(conn: Connection) -> bool:
    """Rebuild when a rule matches on a tag key the rollup does not keep (or it was never built); True if rebuilt."""
    stored = stored_tag_keys(conn)
    needed = rule_tag_keys(conn)
    if stored is not None and set(needed) <= set(stored):
        return False
    rebuild(conn, sorted(set(needed) | set(stored or ())))
    return True


def _runs(hours: Sequence[datetime]) -> list[tuple[datetime, datetime]]:
    """Sorted distinct hours as [start, end) runs of consecutive hours."""
    out: list[tuple[datetime, datetime]] = []
    for hour in sorted(set(hours)):
        if out and out[-1][1] == hour:
            out[-1] = (out[-1][0], hour + timedelta(hours=1))
        else:
            out.append((hour, hour + timedelta(hours=1)))
    return out


def refresh_hours(conn: Connection, hours: Sequence[datetime]) -> int:
    """Recompute the rollup rows of these UTC hours (hour starts) from usage_requests; return rows written.

    With the stored tag keys: callers run `ensure_tag_keys` first (models.discipline_rollup.refresh_hours does).
    """
    if not hours:
        return 0
    _lock(conn)
    keys = stored_tag_keys(conn) or []
    runs = _runs(hours)
    if len(runs) <= MAX_RANGES:
        params = {f"lo{i}": lo for i, (lo, _) in enumerate(runs)} | {f"hi{i}": hi for i, (_, hi) in enumerate(runs)}
        rollup = " OR ".join(f"(hour_at >= :lo{i} AND hour_at < :hi{i})" for i in range(len(runs)))
        raw = " OR ".join(f"(q.started_at >= :lo{i} AND q.started_at < :hi{i})" for i in range(len(runs)))
        conn.execute(sa.text(f"DELETE FROM request_hourly WHERE {rollup}"), params)
        return _insert(conn, keys, f"({raw})", params)
    conn.execute(sa.text("DELETE FROM request_hourly WHERE hour_at = ANY(CAST(:h AS timestamptz[]))"),
                 {"h": sorted(set(hours))})
    return _insert(conn, keys, "date_trunc('hour', q.started_at, 'UTC') = ANY(CAST(:h AS timestamptz[]))",
                   {"h": sorted(set(hours))})


def staged_hours(conn: Connection, *, previous: bool) -> list[datetime]:
    """Hours of the staged requests (previous=False), or the hours stored rows with staged keys had (True)."""
    if previous:
        sql = ("SELECT DISTINCT date_trunc('hour', t.started_at, 'UTC') FROM stage_usage_requests s "
               "JOIN usage_requests t ON t.source = s.source AND t.request_id = s.request_id")
    else:
        sql = "SELECT DISTINCT date_trunc('hour', started_at, 'UTC') FROM stage_usage_requests"
    return list(conn.exec_driver_sql(sql).scalars().all())
