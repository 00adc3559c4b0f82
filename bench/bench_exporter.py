"""What a Prometheus scrape waits for: the exporter reading precomputed planning figures (by hand, never in CI).

`python bench/bench_exporter.py` loads the demo into a throwaway embedded database and times, in
the same run, the baseline (the planning path for every workload, what a scrape used to do) and
a scrape of the precomputed figures; it prints both and their ratio. Prometheus's default scrape
timeout is 10 s; the goal is under 1 s.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.exporter import HybridcostCollector  # noqa: E402
from bench._common import make_engine, scratch_database  # noqa: E402
from ingest.demo import load_demo  # noqa: E402
from models.planning import default_period, plan_all, precomputed  # noqa: E402

DEMO_NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # the demo anchor the tests use
RUNS = 5


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    """Time the planning path for all workloads against a scrape of the precomputed figures."""
    with scratch_database("bench_exporter") as url:
        engine = make_engine(url)
        load_demo(engine, now=DEMO_NOW)
        since, until = default_period(DEMO_NOW)

        def baseline():
            with engine.connect() as conn:
                plan_all(conn, since, until, now=DEMO_NOW)

        refresh = _timed(lambda: precomputed.refresh(engine, DEMO_NOW))
        collector = HybridcostCollector(engine, cache_seconds=0, clock=lambda: DEMO_NOW)
        list(collector.collect())
        plans = [_timed(baseline) for _ in range(RUNS)]
        scrapes = [_timed(lambda: list(collector.collect())) for _ in range(RUNS)]
        engine.dispose()
    base, scrape = statistics.median(plans), statistics.median(scrapes)
    print(f"planning path, every workload (a scrape before): median {base:.3f} s of {RUNS}")
    print(f"refresh of the precomputed table (in the background): {refresh:.3f} s")
    print(f"scrape of the precomputed figures: median {scrape:.3f} s of {RUNS} (max {max(scrapes):.3f} s)")
    print(f"ratio scrape / baseline: {scrape / base:.3f}  (goal: scrape < 1 s)")
    return 0 if max(scrapes) < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
