"""Dashboard queries and edits on a real database: GPU cost formula, budgets, reconciliation, validation."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
import sqlalchemy as sa

from ingest import records as r
from ingest.loader import load
from models.edits import EditError, add_price, add_rule, save_scenario, set_budget
from models.queries.fleet import fleet_gpus
from models.queries.fleet_view import fleet_totals
from models.queries.gpu_spend import gpu_spend_daily
from models.queries.overview import budget_status, budgets, month_over_month
from models.queries.spend import allocated_daily
from models.queries.spend_detail import chosen_reasons, reconciliation, reconciliation_view, week_over_week

D0 = datetime(2026, 10, 1, tzinfo=UTC)


def _profiles(engine):
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO gpu_cost_profiles (name, gpu_type, gpu_count, pricing, host_pattern, purchase_price_usd, "
            "amortization_months, power_watts, pue, electricity_usd_per_kwh, ops_usd_per_gpu_month) VALUES "
            "('owned', 'H100', 8, 'buy', 'own-*', 30000, 36, 700, 1.3, 0.10, 150)"))
        conn.execute(sa.text(
            "INSERT INTO gpu_cost_profiles (name, gpu_type, gpu_count, pricing, host_pattern, hourly_rate_usd, "
            "ops_usd_per_gpu_month) VALUES ('rented', 'H100', 8, 'rent', 'cloud-*', 2.99, 146)"))


def _samples(host, uuid, util, hours=2):
    return [r.GpuSample(sampled_at=D0 + timedelta(hours=h, minutes=m), host=host, gpu_uuid=uuid, source="test",
                        utilization_pct=util) for h in range(hours) for m in (0, 30)]


def test_gpu_spend_uses_the_economics_formula_per_gpu_hour(engine):
    _profiles(engine)
    load(engine, _samples("own-1", "GPU-a", 100.0) + _samples("cloud-1", "GPU-b", 0.0)
         + _samples("lab-1", "GPU-c", 50.0), source="test", target="t")
    with engine.connect() as conn:
        frame = gpu_spend_daily(conn, since=D0, until=D0 + timedelta(days=1))
        gpus = fleet_gpus(conn, D0, D0 + timedelta(days=1))
    by = {row["profile"]: row for row in frame.iter_rows(named=True)}
    buy = 30000 / (36 * 730) + 700 / 1000 * 1.3 * 0.10 + 150 / 730
    rent = 2.99 + 146 / 730
    assert by["owned"]["cost_usd"] == pytest.approx(2 * buy, rel=1e-9)
    assert by["owned"]["idle_cost_usd"] == pytest.approx(0.0, abs=1e-9)  # always busy
    assert by["rented"]["cost_usd"] == pytest.approx(2 * rent, rel=1e-9)
    assert by["rented"]["idle_cost_usd"] == pytest.approx(2 * rent, rel=1e-9)  # never busy
    assert by[""]["unpriced_gpu_hours"] == 2 and by[""]["cost_usd"] is None  # no profile: unpriced, not $0
    totals = fleet_totals(gpus)
    assert totals["gpus"] == 3 and totals["unpriced_gpu_hours"] == 2
    assert totals["cost_usd"] == pytest.approx(2 * buy + 2 * rent, rel=1e-9)  # same formula as the Overview
    assert totals["idle_cost_usd"] == pytest.approx(2 * rent, rel=1e-9)


def test_budgets_forecast_month_end_by_run_rate(engine):
    add_rule(engine, workload="labeling", match_field="project_id", pattern="proj_lab*", team="data")
    set_budget(engine, scope="team", name="data", monthly_usd="300")
    set_budget(engine, scope="workload", name="labeling", monthly_usd=Decimal(1000))
    set_budget(engine, scope="team", name="data", monthly_usd="310")  # replaces
    with engine.connect() as conn:
        frame = budgets(conn)
    assert frame.height == 2
    daily = pl.DataFrame({"day": [date(2026, 11, 1), date(2026, 11, 10), date(2026, 10, 5)],
                          "team": ["data"] * 3, "workload": ["labeling"] * 3, "provider": ["openai"] * 3,
                          "cost_usd": [100.0, 50.0, 999.0]})
    now = datetime(2026, 11, 10, 12, tzinfo=UTC)  # 9.5 days of November
    status = {r["scope"]: r for r in budget_status(daily, frame, now).iter_rows(named=True)}
    assert status["team"]["month_to_date_usd"] == 150.0
    assert status["team"]["forecast_month_end_usd"] == pytest.approx(150 / 228 * 720)  # by hours elapsed
    assert status["team"]["status"] == "forecast over" and status["workload"]["status"] == "on track"
    months = month_over_month(daily, date(2026, 11, 10)).row(0, named=True)
    assert months["this_month_usd"] == 150.0 and months["last_month_to_date_usd"] == 999.0


def test_week_over_week_movers():
    daily = pl.DataFrame({"day": [date(2026, 11, 14), date(2026, 11, 5)], "workload": ["a", "a"],
                          "cost_usd": [30.0, 20.0]})
    row = week_over_week(daily, "workload", date(2026, 11, 14)).row(0, named=True)
    assert (row["this_week_usd"], row["last_week_usd"], row["change_pct"]) == (30.0, 20.0, 50.0)


def test_reconciliation_puts_bases_side_by_side(engine):
    load(engine, [r.Price(provider="openai", model="m", effective_from=date(2026, 1, 1),
                          input_usd_per_mtok=Decimal(1), output_usd_per_mtok=Decimal(2)),
                  r.UsageHourly(provider="openai", account_id="a", bucket_start_at=D0, bucket_end_at=D0 + timedelta(hours=1),
                                model="m", input_tokens=1_000_000, output_tokens=1_000_000),
                  r.CostLine(basis="cost_api", provider="openai", account_id="a", source_line_key="k",
                             charge_period_start_at=D0, charge_period_end_at=D0 + timedelta(days=1),
                             billed_cost=Decimal("3.30"))], source="test", target="t")
    with engine.connect() as conn:
        frame = reconciliation(conn, since=D0, until=D0 + timedelta(days=30))
    by = {row["basis"]: row for row in frame.iter_rows(named=True)}
    assert by["cost_api"]["amount_usd"] == pytest.approx(3.30) and by["usage_price"]["amount_usd"] == pytest.approx(3.0)
    assert by["usage_price"]["reference_basis"] == "cost_api"
    assert by["usage_price"]["variance_pct"] == pytest.approx((3.0 - 3.3) / 3.3 * 100)


@pytest.mark.parametrize("kwargs, message", [
    ({"scope": "org", "name": "x", "monthly_usd": "1"}, "scope must be"),
    ({"scope": "team", "name": " ", "monthly_usd": "1"}, "name is required"),
    ({"scope": "team", "name": "x", "monthly_usd": "ten"}, "must be a number"),
    ({"scope": "team", "name": "x", "monthly_usd": "-1"}, "non-negative"),
    ({"scope": "team", "name": "x", "monthly_usd": "NaN"}, "non-negative"),
])
def test_budget_validation(engine, kwargs, message):
    with pytest.raises(EditError, match=message):
        set_budget(engine, **kwargs)


def test_rule_price_and_scenario_edits(engine):
    with pytest.raises(EditError, match="match field"):
        add_rule(engine, workload="w", match_field="colour", pattern="x")
    with pytest.raises(EditError, match="tag key"):
        add_rule(engine, workload="w", match_field="tag", pattern="x")
    add_rule(engine, workload="w", match_field="project_id", pattern="proj_*", team="t")
    with pytest.raises(EditError, match="per 1,000,000 tokens"):
        add_price(engine, provider="openai", model="m", effective_from=date(2026, 1, 1),
                  input_usd_per_mtok="2500000", output_usd_per_mtok="1")
    assert add_price(engine, provider="openai", model="m", effective_from=date(2026, 1, 1),
                     input_usd_per_mtok="2.50", output_usd_per_mtok="10", today=date(2026, 11, 1)) is False
    # changing a price already in effect is a retroactive change: pending until reprice
    assert add_price(engine, provider="openai", model="m", effective_from=date(2026, 1, 1),
                     input_usd_per_mtok="2.00", output_usd_per_mtok="10", today=date(2026, 11, 1)) is True
    with pytest.raises(EditError, match="required"):
        save_scenario(engine, name="", body={})
    save_scenario(engine, name="s", body={"api": {"input_per_mtok": 1}})
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM attribution_rules")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM prices WHERE pending")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT body->'api'->>'input_per_mtok' FROM scenarios")).scalar_one() == "1"


def test_budget_only_for_a_team_or_workload_that_exists(engine):
    add_rule(engine, workload="labeling", match_field="project_id", pattern="proj_lab*", team="data")
    with pytest.raises(EditError, match="no team named 'dta'.*known: data"):
        set_budget(engine, scope="team", name="dta", monthly_usd="1000")
    with pytest.raises(EditError, match="no workload named 'label'"):
        set_budget(engine, scope="workload", name="label", monthly_usd="1000")
    with pytest.raises(EditError, match=r"outside the plausible range 0\.\.100000000 USD per month"):
        set_budget(engine, scope="team", name="data", monthly_usd="1000000000")
    set_budget(engine, scope="team", name="data", monthly_usd="1000")
    set_budget(engine, scope="workload", name="labeling", monthly_usd="1000")
    with engine.connect() as conn:
        assert budgets(conn).height == 2


@pytest.mark.parametrize("value, hint", [
    ("0.0000025", "looks like a per-token price: 2.50 per Mtok?"),
    ("0.00000015", "looks like a per-token price: 0.15 per Mtok?"),
    ("2500", "2500 per Mtok is $0.0025 per token: enter USD per 1,000,000 tokens"),
])
def test_price_outside_the_per_mtok_range_is_refused_with_a_hint(engine, value, hint):
    with pytest.raises(EditError, match=re.escape(hint)):
        add_price(engine, provider="openai", model="m", effective_from=date(2026, 1, 1),
                  input_usd_per_mtok=value, output_usd_per_mtok="10", today=date(2026, 11, 1))
    with pytest.raises(EditError, match="cached input price"):
        add_price(engine, provider="openai", model="m", effective_from=date(2026, 1, 1), input_usd_per_mtok="2",
                  output_usd_per_mtok="10", cached_input_usd_per_mtok=value, today=date(2026, 11, 1))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM prices")).scalar_one() == 0  # nothing written


def test_price_accepted_as_real_is_stored_and_the_audit_says_so(engine):
    add_price(engine, provider="openai", model="m", effective_from=date(2026, 1, 1), input_usd_per_mtok="0.0005",
              output_usd_per_mtok="0.0005", today=date(2026, 11, 1), accept=("usd_per_mtok",), actor="lead")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT input_usd_per_mtok FROM prices")).scalar_one() == Decimal("0.0005")
        note = conn.execute(sa.text("SELECT note FROM audit_log WHERE entity = 'price'")).scalar_one()
    assert "accepted as real" in note


def test_reconciliation_view_flags_variance_past_the_threshold_and_says_which_basis_was_used(engine):
    load(engine, [r.Price(provider="openai", model="m", effective_from=date(2026, 1, 1),
                          input_usd_per_mtok=Decimal(1), output_usd_per_mtok=Decimal(2)),
                  r.UsageHourly(provider="openai", account_id="a", bucket_start_at=D0, bucket_end_at=D0 + timedelta(hours=1),
                                model="m", input_tokens=1_000_000, output_tokens=1_000_000),
                  r.CostLine(basis="cost_api", provider="openai", account_id="a", source_line_key="k",
                             charge_period_start_at=D0, charge_period_end_at=D0 + timedelta(days=1),
                             billed_cost=Decimal("3.30"))], source="test", target="t")
    with engine.connect() as conn:
        long = reconciliation(conn, since=D0, until=D0 + timedelta(days=30))
        daily = allocated_daily(conn, since=D0, until=D0 + timedelta(days=30))
    view = {row["basis"]: row for row in reconciliation_view(long, daily, 5.0).iter_rows(named=True)}
    assert view["cost_api"]["chosen_usd"] == pytest.approx(3.30) and view["cost_api"]["days_chosen"] == 1
    assert view["usage_price"]["variance_usd"] == pytest.approx(-0.30)
    assert view["usage_price"]["variance_pct"] == pytest.approx(-0.30 / 3.30 * 100)
    assert view["usage_price"]["flagged"] and not view["cost_api"]["flagged"]
    assert not reconciliation_view(long, daily, 10.0).filter(pl.col("basis") == "usage_price")["flagged"][0]
    why = chosen_reasons(long, daily).row(0, named=True)["why"]
    assert why.startswith("cost API on 1 day (the best basis present those days)") and "usage × price" in why
