"""One system of record: best basis per provider, account and day; equal totals by any dimension."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import records as r
from ingest.loader import load
from models.queries.spend import spend_by

D0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
WEEK = dict(since=D0, until=D0 + timedelta(days=7))


def _seed_reference(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES ('labeling', 'data'), ('support', 'cs')"))
        conn.execute(sa.text(
            "INSERT INTO attribution_rules (priority, workload_id, match_field, pattern) "
            "SELECT 1, id, 'project_id', 'proj_lab*' FROM workloads WHERE name = 'labeling' UNION ALL "
            "SELECT 2, id, 'model', 'claude-*' FROM workloads WHERE name = 'support'"))
    load(engine, [
        r.Price(provider="openai", model="gpt-4.1", effective_from=date(2026, 1, 1),
                input_usd_per_mtok=Decimal("2"), output_usd_per_mtok=Decimal("8"),
                cached_input_usd_per_mtok=Decimal("0.5")),
        r.Price(provider="anthropic", model="claude-sonnet-4", effective_from=date(2026, 1, 1),
                input_usd_per_mtok=Decimal("3"), output_usd_per_mtok=Decimal("15")),
    ], source="test", target="prices")


def _usage(provider, model, project, day, inp, out, cached=0):
    start = D0 + timedelta(days=day, hours=3)
    return r.UsageHourly(provider=provider, account_id="acct", bucket_start_at=start,
                         bucket_end_at=start + timedelta(hours=1), model=model, project_id=project,
                         input_tokens=inp, cached_input_tokens=cached, output_tokens=out)


def _cost(provider, day, amount, basis="cost_api"):
    start = D0 + timedelta(days=day)
    return r.CostLine(basis=basis, provider=provider, account_id="acct", source_line_key=f"{basis}-{day}",
                      charge_period_start_at=start, charge_period_end_at=start + timedelta(days=1),
                      billed_cost=Decimal(amount))


def _totals(engine, by):
    with engine.connect() as conn:
        frame = spend_by(conn, by=by, **WEEK)
    return {row["group"]: row for row in frame.iter_rows(named=True)}


def test_best_basis_wins_and_is_never_added(engine):
    _seed_reference(engine)
    load(engine, [
        _usage("openai", "gpt-4.1", "proj_labeling", 0, 1_000_000, 100_000),  # $2.80 by price
        _usage("openai", "gpt-4.1", "proj_other", 0, 1_000_000, 0),           # $2.00 by price
        _usage("openai", "gpt-4.1", "proj_labeling", 1, 500_000, 0, cached=500_000),  # $0.25, no cost line
        _cost("openai", 0, "5.00"),  # the cost API says $5.00 for day 0
    ], source="test", target="t")
    by_provider = _totals(engine, "provider")
    assert by_provider["openai"]["cost_usd"] == Decimal("5.25")
    assert by_provider["openai"]["cost_basis"] == "cost_api+usage_price"
    by_workload = _totals(engine, "workload")
    # day 0's $5.00 is shared 2.80 : 2.00 between labeling and unallocated
    expected = Decimal("5.00") * Decimal("2.8") / Decimal("4.8") + Decimal("0.25")
    assert abs(by_workload["labeling"]["cost_usd"] - expected) < Decimal("1e-9")
    assert by_workload["unallocated"]["cost_usd"] + by_workload["labeling"]["cost_usd"] == Decimal("5.25")


def test_unpriced_is_counted_never_summed_as_zero(engine):
    _seed_reference(engine)
    load(engine, [_usage("openai", "mystery-model", "p", 2, 1000, 10)], source="test", target="t")
    row = _totals(engine, "model")["mystery-model"]
    assert row["unpriced_rows"] == 1 and row["unpriced_tokens"] == 1010
    assert row["cost_basis"] == ""


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["openai", "anthropic"]), st.integers(0, 6),
                          st.sampled_from(["proj_lab1", "proj_x", "proj_y"]), st.integers(0, 10**7),
                          st.integers(0, 10**6)), min_size=1, max_size=12),
       st.lists(st.tuples(st.sampled_from(["openai", "anthropic"]), st.integers(0, 6),
                          st.decimals(min_value=0, max_value=1000, places=7)), max_size=5))
def test_totals_equal_by_every_dimension(engine, usage, costs):
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE usage_hourly, cost_lines, prices, attribution_rules, workloads CASCADE"))
    _seed_reference(engine)
    models = {"openai": "gpt-4.1", "anthropic": "claude-sonnet-4"}
    load(engine, [_usage(p, models[p], proj, d, i, o) for p, d, proj, i, o in usage]
         + [_cost(p, d, str(a)) for p, d, a in {(p, d): (p, d, a) for p, d, a in costs}.values()],
         source="test", target="t")
    totals = {by: sum((row["cost_usd"] for row in _totals(engine, by).values()), Decimal(0))
              for by in ("provider", "model", "workload", "team", "day")}
    assert len(set(totals.values())) == 1, totals
