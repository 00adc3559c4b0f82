"""Discipline analytics on generated traffic with known repeats, loops, batch and routable requests."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from disc_traffic import CHEAP, T0, build, cost, price_records
from ingest.loader import load
from models.discipline import DisciplineConfig, as_json, levers_inputs, scorecard

HALF = Decimal("0.5")


@pytest.fixture
def traffic(engine):
    t = build()
    load(engine, price_records(), source="test", target="prices")
    load(engine, t.records(), source="test", target="usage_requests")
    return t


def _expected(items):
    served = [i for i in items if i.record.status_code < 400]
    repeat = sum((cost(i.record) for i in served if i.repeat), Decimal(0))
    batch = sum((cost(i.record) * HALF for i in served if i.batch and not i.repeat
                 and cost(i.record) is not None), Decimal(0))
    route = Decimal(0)
    for i in served:
        c = cost(i.record)
        if i.routable and not i.repeat and c is not None:
            route += max(c - cost(i.record, CHEAP), Decimal(0)) * (HALF if i.batch else 1)
    return served, repeat, batch, route


def _close(got, want):
    assert got == pytest.approx(float(want), abs=1e-9), (got, want)


def test_disc_scorecard_by_team_exact(traffic, engine):
    with engine.connect() as conn:
        rows = {r["group"]: r for r in as_json(scorecard(conn, since=T0, until=T0 + timedelta(days=1), by="team"))}
    assert set(rows) == {"alpha", "beta", "gamma"}

    alpha = rows["alpha"]
    served, repeat, batch, route = _expected(traffic.period("team", "alpha"))
    assert alpha["requests"] == len(served) == 54
    assert alpha["repeat_requests"] == 2
    assert alpha["repeat_share"] == pytest.approx(2 / 54)
    _close(alpha["repeat_savings_usd"], repeat)
    assert alpha["loop_requests"] == 4
    assert alpha["batch_candidates"] == 26
    assert alpha["batch_candidate_share"] == pytest.approx(26 / 54)
    _close(alpha["batch_savings_usd"], batch)
    assert alpha["reasoning_share"] == 0 and alpha["reasoning_savings_usd"] == 0
    assert alpha["rate_limited_share"] == 0
    lat = [i.record.latency_ms for i in served]
    assert alpha["latency_p95_ms"] == pytest.approx(float(np.percentile(lat, 95)))
    assert alpha["latency_p50_ms"] == pytest.approx(float(np.percentile(lat, 50)))

    beta = rows["beta"]
    served, repeat, batch, route = _expected(traffic.period("team", "beta"))
    assert beta["requests"] == 6 and beta["attempts"] == 7
    assert beta["repeat_requests"] == 1
    _close(beta["repeat_savings_usd"], repeat)
    assert beta["reasoning_share"] == pytest.approx(5 / 6)
    assert beta["reasoning_tokens_per_request"] == pytest.approx(550 / 5)
    assert beta["routable_requests"] == 4
    _close(beta["reasoning_savings_usd"], route)
    assert route > 0
    _close(beta["batch_savings_usd"], batch)
    assert beta["rate_limited_share"] == pytest.approx(1 / 7)
    assert beta["unpriced_requests"] == 1  # claude-3-opus: counted, never $0

    gamma = rows["gamma"]
    assert gamma["requests"] == 4
    assert gamma["repeat_share"] is None and gamma["repeat_savings_usd"] is None  # not measurable
    assert gamma["loop_requests"] == 0


def test_disc_no_dollar_saved_twice(traffic, engine):
    """A request that is a repeat, batchable and routable is saved once, by the cache."""
    with engine.connect() as conn:
        beta = next(r for r in as_json(scorecard(conn, since=T0, until=T0 + timedelta(days=1), by="workload"))
                    if r["group"] == "review")
    total_cost = sum((cost(i.record) or Decimal(0)) for i in traffic.period("team", "beta"))
    saved = Decimal(str(beta["repeat_savings_usd"])) + Decimal(str(beta["batch_savings_usd"])) + Decimal(
        str(beta["reasoning_savings_usd"]))
    assert saved <= total_cost
    _close(beta["total_savings_usd"], saved)


def test_disc_config_changes_thresholds(traffic, engine):
    config = DisciplineConfig(bulk_per_minute=19, repeat_window_s=30 * 3600, loop_min_requests=2)
    with engine.connect() as conn:
        alpha = next(r for r in as_json(scorecard(conn, since=T0, until=T0 + timedelta(days=1), config=config))
                     if r["group"] == "alpha")
    assert alpha["batch_candidates"] == 26 + 19
    assert alpha["repeat_requests"] == 3  # B, 25.5 h apart, is within 30 h
    assert alpha["loop_requests"] == 6  # the pair of u8 counts at 2


def test_disc_levers_inputs(traffic, engine):
    with engine.connect() as conn:
        got = levers_inputs(conn, T0, T0 + timedelta(days=1), workload="review")
        none = levers_inputs(conn, T0, T0 + timedelta(days=1), workload="ingest")
        empty = levers_inputs(conn, T0 + timedelta(days=5), T0 + timedelta(days=6))
    items = [i for i in traffic.period("team", "beta") if i.record.status_code < 400]
    total = sum((cost(i.record) for i in items if cost(i.record) is not None), Decimal(0))
    repeats = sum((cost(i.record) for i in items if i.repeat), Decimal(0))
    left = total - repeats
    batchable = sum((cost(i.record) for i in items if i.batch and not i.repeat), Decimal(0))
    routable = sum((cost(i.record) for i in items if i.routable and not i.repeat and cost(i.record) is not None),
                   Decimal(0))
    assert got["repeat_share"] == pytest.approx(float(repeats / total))
    assert got["batchable_share"] == pytest.approx(float(batchable / left))
    assert got["routable_share"] == pytest.approx(float(routable / left))
    assert none["repeat_share"] is None and none["batchable_share"] == 0.0
    assert empty["repeat_share"] is None and empty["routable_share"] is None and empty["requests"] == 0


def test_disc_cheap_price_fallback_without_catalog(engine):
    """Without a gpt-4.1-mini price the cheap model is priced at 0.40 / 1.60 USD per Mtok."""
    t = build()
    load(engine, [p for p in price_records() if p.model != "gpt-4.1-mini"], source="test", target="prices")
    load(engine, t.records(), source="test", target="usage_requests")
    fallback = (Decimal("0.40"), Decimal("0.40"), Decimal("1.60"))
    want = Decimal(0)
    for i in t.period("team", "beta"):
        c = cost(i.record)
        if i.routable and not i.repeat and c is not None:
            want += max(c - cost(i.record, fallback), Decimal(0)) * (HALF if i.batch else 1)
    with engine.connect() as conn:
        beta = next(r for r in as_json(scorecard(conn, since=T0, until=T0 + timedelta(days=1)))
                    if r["group"] == "beta")
    _close(beta["reasoning_savings_usd"], want)
