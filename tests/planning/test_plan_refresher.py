"""The exporter's planning figures: refreshed when the data version moves (a load, an edit), never inside a scrape."""

from __future__ import annotations

import time
from datetime import timedelta

from app.exporter import HybridcostCollector, PlanRefresher
from ingest import records as r
from ingest.loader import load
from models.planning import precomputed
from tests.planning.plan_seed import OUTPUT_HEAVY, START, add_output_heavy
from tests_support import DEMO_NOW


class Asked:
    """A stand-in refresher that only counts requests."""

    def __init__(self):
        self.requests = 0

    def request(self) -> None:
        self.requests += 1


def _scrape(engine, refresher) -> dict:
    collector = HybridcostCollector(engine, cache_seconds=0, clock=lambda: DEMO_NOW, refresher=refresher)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in collector.collect() for s in f.samples}


def test_a_load_or_an_edit_asks_for_new_figures(engine):
    add_output_heavy(engine)
    asked = Asked()
    _scrape(engine, asked)
    assert asked.requests == 1  # nothing precomputed yet
    precomputed.refresh(engine, DEMO_NOW)
    values = _scrape(engine, asked)
    assert asked.requests == 1  # up to date: the scrape only reads
    assert values[("hybridcost_plan_replicas", (("candidate", "Llama 3.3 70B FP8 on 2x H100, rented "
                                                              "(default pairing, not chosen)"),
                                                ("workload", OUTPUT_HEAVY)))] >= 1
    load(engine, [r.UsageHourly(provider="openai", account_id="org-demo", bucket_start_at=START - timedelta(days=3),
                                bucket_end_at=START - timedelta(days=3, hours=-1), model="gpt-4.1",
                                project_id="proj_essays", input_tokens=5, output_tokens=5)], source="t", target="t")
    _scrape(engine, asked)
    assert asked.requests == 2  # a finished load moved the data version


def test_the_refresher_thread_writes_the_table(engine):
    add_output_heavy(engine)
    refresher = PlanRefresher(engine, interval_seconds=3600, clock=lambda: DEMO_NOW).start()
    deadline = time.monotonic() + 120
    while refresher.refreshes == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    with engine.connect() as conn:
        rows = precomputed.stored(conn)
    assert refresher.refreshes >= 1 and [row.workload for row in rows] == [OUTPUT_HEAVY]
    assert rows[0].assessed and rows[0].optimal_replicas is not None
