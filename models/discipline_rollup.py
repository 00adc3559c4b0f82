"""The stored discipline flags (`request_discipline_hourly`): kept by the loader for the days a load touched.

A request's flags depend on its neighbours: a repeat on the same fingerprint in its workload up
to 24 h before it, a loop burst within its UTC day, its user's requests in the same minute. So a
load that touches UTC day D recomputes the flags of D and of the days after it that its requests
can be the lookback of (D + 1 for the 24 h repeat window), all in the loader's transaction.
Attribution decides the workload a request is flagged within, so saving or deleting a rule
rebuilds the flags (and the request rollup, when a tag rule names a key it does not keep).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy import Connection

from models import request_rollups
from models.queries.discipline import FLAG_KEY, FLAG_MEASURES, ROLLUP_THRESHOLDS, flag_rows_sql

REFRESH_LOCK = 1_907_008  # pg_advisory_xact_lock key: one discipline refresh at a time
LOOKAHEAD_DAYS = math.ceil(ROLLUP_THRESHOLDS["repeat_window_s"] / 86_400)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def days_affected(hours: Iterable[datetime]) -> set[date]:
    """The UTC days whose flags requests in these hours can change (their own and the lookahead)."""
    days = {h.astimezone(UTC).date() for h in hours}
    return {d + timedelta(days=k) for d in days for k in range(LOOKAHEAD_DAYS + 1)}


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def refresh_days(conn: Connection, days: Iterable[date]) -> int:
    """Recompute the stored flags of these UTC days from usage_requests; return the rows written."""
    runs = _runs(days)
    if not runs:
        return 0
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": REFRESH_LOCK})
    select, tag_params = flag_rows_sql(request_rollups.stored_tag_keys(conn) or [])
    columns = ", ".join(FLAG_KEY + FLAG_MEASURES)
    written = 0
    for lo, hi in runs:
        params = {**ROLLUP_THRESHOLDS, **tag_params, "lo": _midnight(lo), "hi": _midnight(hi)}
        conn.execute(sa.text("DELETE FROM request_discipline_hourly WHERE hour_at >= :lo AND hour_at < :hi"), params)
        written += conn.execute(sa.text(f"INSERT INTO request_discipline_hourly ({columns}) {select}"), params).rowcount
    return written


def rebuild(conn: Connection) -> int:
    """Recompute every day's stored flags; return the rows written."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": REFRESH_LOCK})
    conn.exec_driver_sql("DELETE FROM request_discipline_hourly")
    lo, hi = conn.exec_driver_sql("SELECT min(started_at), max(started_at) FROM usage_requests").one()
    if lo is None:
        return 0
    conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    first, last = lo.astimezone(UTC).date(), hi.astimezone(UTC).date()
    return refresh_days(conn, [first + timedelta(days=i) for i in range((last - first).days + 1)])


def after_rule_change(conn: Connection) -> None:
    """After an attribution rule was saved or deleted: keep the rule's tag key, re-flag within the new workloads."""
    request_rollups.ensure_tag_keys(conn)
    rebuild(conn)


def refresh_hours(conn: Connection, hours: Iterable[datetime]) -> None:
    """Both request rollups for requests written in these hours (the loader's and deletions' entry point)."""
    hours = sorted(set(hours))
    if not hours:
        return
    if request_rollups.ensure_tag_keys(conn):
        rebuild(conn)
        return
    request_rollups.refresh_hours(conn, hours)
    refresh_days(conn, days_affected(hours))


def ensure_built(conn: Connection) -> bool:
    """Build the flags once for a database that has requests but none stored (after the upgrade); True if built."""
    missing = conn.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM usage_requests) "
                                   "AND NOT EXISTS (SELECT 1 FROM request_discipline_hourly)").scalar()
    if missing:
        rebuild(conn)
    return bool(missing)


def delete_requests(conn: Connection, where: str, params: dict | None = None) -> int:
    """Delete usage_requests rows matching `where` (SQL over alias q) and refresh both rollups; rows deleted."""
    hours = conn.execute(sa.text(
        f"WITH gone AS (DELETE FROM usage_requests q WHERE {where} RETURNING started_at) "
        "SELECT date_trunc('hour', started_at, 'UTC') AS h, count(*) FROM gone GROUP BY 1"), params or {}).all()
    refresh_hours(conn, [h for h, _ in hours])
    return sum(n for _, n in hours)
