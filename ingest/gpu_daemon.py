"""The GPU sampling loop: sample, write, and spool whatever the database refuses.

Pure of database imports: ``write`` is a callable the caller supplies (the
loader). Order is kept: while anything is spooled, new samples go behind it, and
once ``write`` succeeds again the spool is drained, oldest first, before the
tick's own samples are written.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ingest.sources.spool import Spool

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


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def run_tick(tick: int, sampler: Sampler, write: Callable[[Sequence[Any]], Any], spool: Spool,
             clock: Callable[[], float] = time.monotonic) -> TickReport:
    """One tick: sample; drain the spool, then write the new samples; spool them on any write error."""
    started_at, t0 = datetime.now(UTC), clock()
    try:
        result = sampler.sample()
    except Exception as exc:  # sampler lost (driver gone): report, keep looping
        return TickReport(tick, started_at, clock() - t0, 0, 0, 0, False, f"sample failed: {_describe(exc)}")
    samples = list(result.samples)
    gpu_errors = dict(getattr(result, "errors_by_gpu", {}) or {})
    written = spooled = 0
    error = ""
    try:
        written += spool.flush(lambda batch: write([record for _, record in batch]))
        if samples:
            write(samples)
            written += len(samples)
    except Exception as exc:  # any database error: keep the samples locally, in order
        error = f"write failed: {_describe(exc)}"
        spooled = spool.append(samples)
    return TickReport(tick, started_at, clock() - t0, len(samples), written, spooled, not error, error, gpu_errors)


def run_daemon(
    sampler: Sampler,
    write: Callable[[Sequence[Any]], Any],
    spool: Spool,
    interval_s: float,
    max_ticks: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_tick: Callable[[TickReport], None] | None = None,
) -> list[TickReport]:
    """Sample every interval_s until max_ticks (forever if None); return the last 1000 tick reports."""
    reports: deque[TickReport] = deque(maxlen=1000)
    tick = 0
    while max_ticks is None or tick < max_ticks:
        tick += 1
        report = run_tick(tick, sampler, write, spool, clock)
        reports.append(report)
        if report.ok:
            log.debug("tick %d: %d sampled, %d written in %.3fs", tick, report.sampled, report.written, report.duration_s)
        else:
            log.warning("tick %d: %s (%d spooled)", tick, report.error, report.spooled)
        for index, problem in report.gpu_errors.items():
            log.warning("tick %d: GPU %s not sampled: %s", tick, index, problem)
        if on_tick is not None:
            on_tick(report)
        if max_ticks is not None and tick >= max_ticks:
            break
        sleep(max(0.0, interval_s - report.duration_s))
    return list(reports)
