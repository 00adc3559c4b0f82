"""Deterministic demo data: 120 days of a hybrid token/GPU estate, loaded and unloaded as a unit.

The story (see ``story.py``): segment-labeling grows from a taxonomy experiment on o3 into a
230K-segments-a-day pipeline, crosses breakeven and moves onto four of eight owned H100s on
day 90; support-assistant, code-review and doc-summaries stay on tokens, each with a lever
(cache, route, batch) to find. Every row is marked ``is_demo`` so ``unload_demo`` can remove it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy import Engine

from ingest.demo import generate, reference, requests, story, telemetry
from ingest.loader import load
from models import clock, discipline_rollup

Progress = Callable[[str, float], None]

# Children before parents, so foreign keys never block a delete. Demo requests roll up into their own
# rollup rows (is_demo is part of the rollup's key), so deleting those keeps the rollup exact.
DEMO_TABLES = ("usage_requests", "request_hourly", "request_discipline_hourly", "usage_hourly", "cost_lines", "prices",
               "gpu_samples", "gpu_hourly", "inference_samples", "inference_hourly", "inference_latency_buckets",
               "inference_latency_hourly", "attribution_rules", "budgets",
               "scenarios", "workload_plans",
               "gpu_cost_profiles", "workloads", "ingest_runs")


@dataclass(frozen=True)
class DemoSummary:
    """What a demo load did: its anchor hour, run, row counts and duration."""

    anchor: datetime
    run_id: int
    rows_read: int
    rows_written: int
    seconds: float

    def __str__(self) -> str:
        return (f"{self.rows_read:,} rows read, {self.rows_written:,} written in {self.seconds:.1f} s "
                f"(120 days ending {self.anchor:%Y-%m-%d %H:%M}Z)")


def anchor_hour(now: datetime | None = None) -> datetime:
    """The UTC hour that ends the demo window for a load at `now` (default: the current time)."""
    now = now or clock.now()
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def _reporting(records: Iterable, step: str, lo: float, hi: float, expected: int,
               progress: Progress | None) -> Iterator:
    if progress is None:
        yield from records
        return
    progress(step, lo)
    for n, rec in enumerate(records, start=1):
        if n % 5_000 == 0:
            progress(step, lo + (hi - lo) * min(1.0, n / expected))
        yield rec


def load_demo(engine: Engine, *, now: datetime | None = None, progress: Progress | None = None) -> DemoSummary:
    """Load (or re-load, identically) the demo data; the first load fixes the anchor hour."""
    began = time.perf_counter()
    report = progress or (lambda step, fraction: None)
    report("reference data", 0.0)
    with engine.begin() as conn:
        anchor = reference.read_anchor(conn)
        if anchor is None:
            anchor = anchor_hour(now)
            reference.store_anchor(conn, anchor)
        reference.write_catalogs(conn)
        tale = story.build_story(anchor)
        reference.write_org(conn, tale)
    report("story", 0.05)
    fleet = telemetry.build_fleet(tale)
    costs = generate.daily_costs(tale)
    usage_rows = sum(int((st.requests > 0).sum()) for st in generate.api_streams(tale))
    parts = [
        ("token usage", 0.1, 0.3, usage_rows, itertools.chain(
            generate.prices(tale), generate.usage_hourly(tale), generate.cost_api_lines(tale, costs),
            generate.focus_lines(tale, costs))),
        ("requests", 0.3, 0.5, requests.expected_rows(), requests.usage_requests(tale)),
        ("GPU telemetry", 0.5, 0.85, telemetry.expected_samples(),
         itertools.chain(telemetry.gpu_samples(tale, fleet), telemetry.inference_samples(tale, fleet))),
    ]
    records = itertools.chain.from_iterable(_reporting(recs, step, lo, hi, n, progress)
                                            for step, lo, hi, n, recs in parts)
    result = load(engine, records, source="demo", target=f"demo data, anchor {anchor.isoformat()}", is_demo=True)
    report("GPU history", 0.9)
    with engine.begin() as conn:
        reference.copy_insert(conn, "gpu_hourly", telemetry.GPU_HOURLY_COLUMNS,
                              telemetry.gpu_hourly_history(tale, fleet), ("hour_at", "gpu_uuid", "mig_instance"))
        reference.copy_insert(conn, "inference_hourly", telemetry.INFERENCE_HOURLY_COLUMNS,
                              telemetry.inference_hourly_history(tale, fleet), ("hour_at", "endpoint", "model_name"))
        reference.tag_inference_workload(conn, telemetry.ENDPOINT, tale.hours[-telemetry.RAW_HOURS])
    report("done", 1.0)
    return DemoSummary(anchor, result.run_id, result.rows_read, result.rows_written,
                       time.perf_counter() - began)


def unload_demo(engine: Engine) -> int:
    """Delete every demo row (and the demo's runs and anchor); return how many rows went."""
    deleted = 0
    with engine.begin() as conn:
        for table in DEMO_TABLES:
            deleted += conn.exec_driver_sql(f"DELETE FROM {table} WHERE is_demo").rowcount
        deleted += conn.execute(sa.text("DELETE FROM app_settings WHERE key = :k"),
                                {"k": reference.ANCHOR_KEY}).rowcount
        # The rest's discipline flags may have leaned on demo requests and rules: flag them again.
        discipline_rollup.rebuild(conn)
    return deleted


__all__ = ["load_demo", "unload_demo", "DemoSummary", "anchor_hour", "DEMO_TABLES"]
