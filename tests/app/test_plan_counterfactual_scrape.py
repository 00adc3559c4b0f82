"""The honest counterfactual on the demo, and an exporter scrape that reads precomputed figures in under a second."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.exporter import HybridcostCollector
from models.infra.database import make_engine
from models.planning import plan_workload, precomputed
from models.queries.spend import spend_by
from models.reports.data import parse_week
from models.reports.economics import planning_period
from tests_support import DEMO_NOW


def test_tokens_alone_is_the_api_bill_plus_local_tokens_priced_by_kind(demo_env):
    engine = make_engine(demo_env)
    since, until = planning_period(parse_week("2026-W46").until)  # whole UTC days, as the ledger counts
    with engine.connect() as conn:
        f = plan_workload(conn, "segment-labeling", since, until, now=DEMO_NOW)
        bill = spend_by(conn, since=since, until=until, by="workload")
        prompt, generated = conn.execute(sa.text(
            "SELECT sum(prompt_tokens), sum(generation_tokens) FROM inference_hourly "
            "WHERE workload = 'segment-labeling' AND hour_at >= :s AND hour_at < :u"), {"s": since, "u": until}).one()
        o3 = conn.execute(sa.text(
            "SELECT input_usd_per_mtok, output_usd_per_mtok FROM prices WHERE model = 'o3' AND NOT pending "
            "AND effective_from <= :d ORDER BY effective_from DESC LIMIT 1"), {"d": since.date()}).one()
    engine.dispose()
    api_bill = float(bill.filter(bill["group"] == "segment-labeling")["cost_usd"].sum())
    local = (float(prompt) * float(o3[0]) + float(generated) * float(o3[1])) / 1e6
    assert (float(o3[0]), float(o3[1])) == (2.0, 8.0)  # the demo's o3 after the day-60 cut
    assert f.local_priced_usd == pytest.approx(local, rel=1e-9)
    assert f.api_only_usd == pytest.approx(api_bill + local, rel=0.005)
    # The old path's one blended rate (API cost / API tokens) priced the prompt tokens as if they were output.
    blended = f.api_billed_usd / f.api_tokens * f.local_tokens
    assert blended > 1.3 * f.local_priced_usd


def test_exporter_scrape_reads_precomputed_figures_under_a_second(demo_env, monkeypatch):
    engine = make_engine(demo_env)
    assert precomputed.refresh(engine, DEMO_NOW) == 4
    import models.planning.path as path

    def no_planning(*args, **kwargs):
        raise AssertionError("a scrape must not run the planning path")

    monkeypatch.setattr(path, "plan_workload", no_planning)
    collector = HybridcostCollector(engine, cache_seconds=0, clock=lambda: DEMO_NOW + timedelta(minutes=5))
    list(collector.collect())  # connect once
    took = []
    for _ in range(3):
        started = time.perf_counter()
        families = list(collector.collect())
        took.append(time.perf_counter() - started)
    names = {s.name for fam in families for s in fam.samples}
    assert {"hybridcost_plan_replicas", "hybridcost_breakeven_status", "hybridcost_exporter_up"} <= names
    up = next(s.value for fam in families for s in fam.samples if s.name == "hybridcost_exporter_up")
    assert up == 1
    assert max(took) < 1.0, took
    engine.dispose()
