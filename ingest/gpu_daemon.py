"""The GPU sampling loop: sample, write, and spool whatever the database refuses.

Pure of database imports: ``write`` is a callable the caller supplies (the
loader). Order is kept: while anything is spooled, new samples go behind it, and
once ``write`` succeeds again the spool is drained, oldest first, before the
tick's own samples are written. When the spool's disk is full the problem is
reported once and sampling goes on in memory (``Backlog``, up to a bound, behind
the spool); samples beyond the bound are counted and reported, never silently
lost. What the spool or the database took (acknowledged) is never lost.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ingest.sources.spool import Spool, SpoolFullError

log = logging.getLogger(__name__)


class Sampler(Protocol):
    """Anything with a ``sample()`` returning an object with ``samples`` (like NvmlSampler)."""

    def sample(self) -> Any:
        """Take one reading of every GPU."""
        ...


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one tick did: how long it took, whether the database took the samples."""

    tick: int
    started_at: datetime
    duration_s: float
    sampled: int
    written: int  # records written this tick, spool backlog included
    spooled: int  # records appended to the spool this tick
    ok: bool  # the database accepted everything due this tick
    error: str = ""
    gpu_errors: dict[int, str] = field(default_factory=dict)
    buffered: int = 0  # samples held in memory (the spool's disk was full) after this tick
    dropped: int = 0  # samples this tick could keep nowhere (memory bound reached)
    spool_error: str = ""  # set on the tick the spool first failed, and on the tick it recovered


DEFAULT_MEMORY_BOUND = 100_000  # samples: about 17 hours of 8 GPUs every 5 s


@dataclass
class Backlog:
    """Samples waiting in memory behind the spool while its disk is full, up to `bound`."""

    bound: int = DEFAULT_MEMORY_BOUND
    records: deque = field(default_factory=deque)
    spool_full: bool = False  # reported once when it starts, once when it ends
    bound_reported: bool = False
    dropped: int = 0

    def keep(self, records: Sequence[Any]) -> int:
        """Hold what fits under the bound; return how many did not fit (dropped and counted)."""
        room = max(self.bound - len(self.records), 0)
        self.records.extend(records[:room])
        lost = len(records) - min(room, len(records))
        self.dropped += lost
        return lost


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def _spool(spool: Spool, backlog: Backlog, samples: list[Any]) -> tuple[int, int, str]:
    """Put the memory backlog, then the samples, in the spool; what it cannot take stays in memory, in order.

    Returns (records spooled, samples dropped, the spool error to report now or '').
    """
    pending = list(backlog.records) + samples
    backlog.records.clear()
    try:
        spooled = spool.append(pending)
    except SpoolFullError as exc:
        spooled = exc.appended
        dropped = backlog.keep(pending[spooled:])
        if backlog.spool_full:
            return spooled, dropped, ""
        backlog.spool_full = True
        log.error("spool %s cannot be written (%s): sampling goes on in memory, up to %d samples",
                  spool.path, exc.cause.strerror or exc.cause, backlog.bound)
        return spooled, dropped, f"spool full: {exc.cause.strerror or exc.cause}"
    if backlog.spool_full:
        backlog.spool_full = False
        log.warning("spool %s is writable again: the samples kept in memory are spooled", spool.path)
        return spooled, 0, "spool writable again"
    return spooled, 0, ""


def run_tick(tick: int, sampler: Sampler, write: Callable[[Sequence[Any]], Any], spool: Spool,
             clock: Callable[[], float] = time.monotonic, backlog: Backlog | None = None) -> TickReport:
    """One tick: sample; drain the spool and the memory backlog, then write the new samples; keep them on error."""
    backlog = backlog if backlog is not None else Backlog()
    started_at, t0 = datetime.now(UTC), clock()
    try:
        result = sampler.sample()
    except Exception as exc:  # sampler lost (driver gone): report, keep looping
        return TickReport(tick, started_at, clock() - t0, 0, 0, 0, False, f"sample failed: {_describe(exc)}",
                          buffered=len(backlog.records))
    samples = list(result.samples)
    gpu_errors = dict(getattr(result, "errors_by_gpu", {}) or {})
    written = spooled = dropped = 0
    error = spool_error = ""
    try:
        written += spool.flush(lambda batch: write([record for _, record in batch]))
        if backlog.records:  # older than this tick's samples, younger than the spool
            held = list(backlog.records)
            write(held)
            backlog.records.clear()
            backlog.spool_full = False  # the episode is over: a later full disk is reported again
            written += len(held)
        if samples:
            write(samples)
            written += len(samples)
    except Exception as exc:  # any database error: keep the samples locally, in order
        error = f"write failed: {_describe(exc)}"
        spooled, dropped, spool_error = _spool(spool, backlog, samples)
    if backlog.records and not backlog.bound_reported and len(backlog.records) >= backlog.bound:
        backlog.bound_reported = True
        log.error("memory backlog full (%d samples): newer samples are dropped until the database or the spool "
                  "takes them", backlog.bound)
    if not backlog.records:
        backlog.bound_reported = False
    return TickReport(tick, started_at, clock() - t0, len(samples), written, spooled, not error, error, gpu_errors,
                      buffered=len(backlog.records), dropped=dropped, spool_error=spool_error)


def run_daemon(
    sampler: Sampler,
    write: Callable[[Sequence[Any]], Any],
    spool: Spool,
    interval_s: float,
    max_ticks: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_tick: Callable[[TickReport], None] | None = None,
    backlog: Backlog | None = None,
) -> list[TickReport]:
    """Sample every interval_s until max_ticks (forever if None); return the last 1000 tick reports."""
    reports: deque[TickReport] = deque(maxlen=1000)
    backlog = backlog if backlog is not None else Backlog()
    tick = 0
    while max_ticks is None or tick < max_ticks:
        tick += 1
        report = run_tick(tick, sampler, write, spool, clock, backlog)
        reports.append(report)
        if report.ok:
            log.debug("tick %d: %d sampled, %d written in %.3fs", tick, report.sampled, report.written, report.duration_s)
        else:
            log.warning("tick %d: %s (%d spooled, %d in memory)", tick, report.error, report.spooled,
                        report.buffered)
        for index, problem in report.gpu_errors.items():
            log.warning("tick %d: GPU %s not sampled: %s", tick, index, problem)
        if on_tick is not None:
            on_tick(report)
        if max_ticks is not None and tick >= max_ticks:
            break
        sleep(max(0.0, interval_s - report.duration_s))
    return list(reports)
