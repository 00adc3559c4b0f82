"""Incremental pulls from provider APIs: windows, cursors, an overlap for late data.

Each window is its own load (all or nothing). The cursor advances only after a window
succeeds, so a failure mid-way resumes from the last complete window; the overlap re-reads
recent buckets, and merging on natural keys means re-read buckets are not counted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from ingest.cursors import get_cursor, set_cursor
from ingest.loader import LoadResult, load
from models import clock

WINDOW = timedelta(days=7)  # one page of hourly buckets is at most 168 buckets
OVERLAP = timedelta(days=2)
DEFAULT_HISTORY = timedelta(days=30)


@dataclass
class PullPlan:
    """Where a pull starts and ends, and why."""

    start: datetime
    end: datetime
    reason: str


def plan(engine: Engine, source: str, account_id: str, *, since: datetime | None, until: datetime | None,
         now: datetime | None = None) -> PullPlan:
    """Start at --since, else at the stored cursor minus the overlap, else 30 days back."""
    now = now or clock.now()
    end = min(until or now, now)
    if since is not None:
        return PullPlan(since, end, "from --since")
    cursor = get_cursor(engine, source, account_id, "resume_from")
    if cursor:
        return PullPlan(datetime.fromisoformat(cursor) - OVERLAP, end, f"from cursor {cursor} minus {OVERLAP.days} days")
    return PullPlan(end - DEFAULT_HISTORY, end, "first pull: last 30 days")


def windows(start: datetime, end: datetime, size: timedelta = WINDOW) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive [a, b) windows covering [start, end)."""
    a = start
    while a < end:
        b = min(a + size, end)
        yield a, b
        a = b


def pull(engine: Engine, *, source: str, account_id: str, make_sources: Callable[[datetime, datetime], list],
         since: datetime | None = None, until: datetime | None = None,
         on_window: Callable[[datetime, datetime, list[LoadResult]], None] | None = None) -> list[LoadResult]:
    """Load every window from the plan; advance the cursor after each one that succeeds."""
    p = plan(engine, source, account_id, since=since, until=until)
    results: list[LoadResult] = []
    for a, b in windows(p.start, p.end):
        done = []
        for src in make_sources(a, b):
            done.append(load(engine, src.collect(), source=src.name, target=src.describe()))
        results.extend(done)
        set_cursor(engine, source, account_id, "resume_from", b.isoformat())
        if on_window is not None:
            on_window(a, b, done)
    return results
