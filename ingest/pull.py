"""Incremental pulls from provider APIs: windows on bucket boundaries, cursors, an overlap for late data.

A pull starts on a UTC day boundary (the widest bucket: daily costs) and ends on the last whole
hour (hourly usage); each source further keeps its window to whole buckets of its own width, so
no short first bucket and no unfinished "up to now" bucket is ever stored. Each window is its own
load (all or nothing). The cursor advances only after a window succeeds, and only to a bucket
boundary, so a failure mid-way resumes from the last complete window; the overlap re-reads recent
buckets, and a re-read bucket replaces the stored one (same whole-bucket key), never adds to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from ingest.cursors import get_cursor, set_cursor
from ingest.loader import LoadResult, load
from models import clock

WINDOW = timedelta(days=7)  # one page of hourly buckets is at most 168 buckets
OVERLAP = timedelta(days=2)
DEFAULT_HISTORY = timedelta(days=30)
START_ALIGN_S = 86400  # windows start on a UTC day: the daily cost buckets' boundary
END_ALIGN_S = 3600  # and end on a whole hour: the hourly usage buckets' boundary


def _floor(moment: datetime, width_s: int) -> datetime:
    ts = int(moment.timestamp())
    return datetime.fromtimestamp(ts - ts % width_s, tz=UTC)


@dataclass
class PullPlan:
    """Where a pull starts and ends, and why."""

    start: datetime
    end: datetime
    reason: str


def plan(engine: Engine, source: str, account_id: str, *, since: datetime | None, until: datetime | None,
         now: datetime | None = None) -> PullPlan:
    """Start at --since, else at the stored cursor minus the overlap, else 30 days back; on bucket boundaries."""
    now = now or clock.now()
    end = _floor(min(until or now, now), END_ALIGN_S)
    if since is not None:
        return PullPlan(_floor(since, START_ALIGN_S), end, "from --since")
    cursor = get_cursor(engine, source, account_id, "resume_from")
    if cursor:
        start = _floor(datetime.fromisoformat(cursor) - OVERLAP, START_ALIGN_S)
        return PullPlan(start, end, f"from cursor {cursor} minus {OVERLAP.days} days")
    return PullPlan(_floor(end - DEFAULT_HISTORY, START_ALIGN_S), end, "first pull: last 30 days")


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
        # never move the cursor back: a pull with an earlier --until leaves it where it was
        previous = get_cursor(engine, source, account_id, "resume_from")
        if previous is None or datetime.fromisoformat(previous) < b:
            set_cursor(engine, source, account_id, "resume_from", b.isoformat())
        if on_window is not None:
            on_window(a, b, done)
    return results
