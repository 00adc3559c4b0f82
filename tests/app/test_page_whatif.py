"""What-if page: inputs drive the curve and waterfall; scenarios save and compare; v2 controls start at the plan."""

from dataclasses import replace

from app.ui.format import usd
from models.economics.plan import plan_total
from models.infra.database import make_engine
from models.planning import default_period, plan_workload
from models.planning.whatif import V2Controls, starting_controls, whatif_planning
from tests.app.conftest import assert_clean, metrics, open_page, texts
from tests_support import DEMO_NOW


def test_whatif_empty_database_uses_the_synthetic_shape(cli_env):
    at = open_page("whatif")
    assert_clean(at)
    assert at.title[0].value == "What-if"
    assert metrics(at)["Volume (per month)"] in ("1.0B tok", "1,000.0M tok")


def test_whatif_inputs_change_costs_and_waterfall(demo_env):
    at = open_page("whatif", whatif_workload="support-assistant")
    assert_clean(at)
    before = metrics(at)
    waterfall = at.dataframe[0].value
    assert list(waterfall["lever"]) == ["today", "cache", "batch", "route", "move", "after levers"]
    at.slider(key="whatif_cache_support-assistant").set_value(0.3)
    at.number_input(key="whatif_growth").set_value(10.0)
    at.number_input(key="whatif_months_ahead").set_value(6)
    at.run()
    assert_clean(at)
    after = metrics(at)
    assert after["Volume (per month)"] != before["Volume (per month)"]
    assert after["API only (USD/month)"] != before["API only (USD/month)"]
    cache_saving = at.dataframe[0].value.set_index("lever").loc["cache", "saving_usd_month"]
    assert cache_saving > 0


def test_whatif_saves_and_compares_scenarios(demo_env):
    at = open_page("whatif", whatif_workload="support-assistant")
    at.text_input(key="whatif_scenario_name").set_value("")
    at.button[0].click()
    at.run()
    assert any("scenario name is required" in e.value for e in at.error)
    at.text_input(key="whatif_scenario_name").set_value("support on 2x L40S")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert any("Saved scenario" in s.value for s in at.success)
    compared = at.dataframe[-1].value
    assert "support on 2x L40S" in set(compared["scenario"])
    assert "segment-labeling on 4x H100" in set(compared["scenario"])  # the demo's saved scenario


def test_whatif_lever_sliders_start_at_the_measured_shares(demo_env):
    from datetime import datetime, time, timedelta, timezone

    import sqlalchemy as sa

    from models.discipline import lever_shares_by_workload
    from tests.app.conftest import DEMO_RANGE

    since = datetime.combine(DEMO_RANGE[0], time(0), tzinfo=timezone.utc)
    until = datetime.combine(DEMO_RANGE[1] + timedelta(days=1), time(0), tzinfo=timezone.utc)
    engine = sa.create_engine(demo_env)
    with engine.connect() as conn:
        measured = lever_shares_by_workload(conn, since, until)["support-assistant"]
    engine.dispose()
    at = open_page("whatif", whatif_workload="support-assistant")
    assert_clean(at)
    assert measured["repeat_share"] is not None and measured["repeat_share"] > 0
    assert at.slider(key="whatif_cache_support-assistant").value == round(min(0.9, measured["repeat_share"]), 2)
    assert at.slider(key="whatif_batchable_support-assistant").value == round(measured["batchable_share"], 2)


def _support_figures(demo_env):
    """support-assistant on the pages' default period (contract v2: a published curve, measured batch share)."""
    engine = make_engine(demo_env)
    with engine.connect() as conn:
        figures = plan_workload(conn, "support-assistant", *default_period(DEMO_NOW), now=DEMO_NOW)
    engine.dispose()
    return figures


def test_whatif_v2_controls_start_at_the_plan_and_the_gpu_total_is_the_v2_plan(demo_env):
    f = _support_figures(demo_env)
    assert f.runs_v2 and f.v2.inputs.plan is not None and f.v2.inputs.slo is not None
    at = open_page("whatif", date_range=None, whatif_workload="support-assistant")
    assert_clean(at)
    w = "support-assistant"
    plan, slo = f.v2.inputs.plan, f.v2.inputs.slo
    assert at.number_input(key=f"whatif_v2_deferrable_{w}").value == plan.deferrable_share > 0  # measured
    assert at.number_input(key=f"whatif_v2_escalation_{w}").value == plan.escalation_share
    assert at.number_input(key=f"whatif_v2_fixed_{w}").value == plan.fixed_monthly
    assert at.number_input(key=f"whatif_v2_itl_{w}").value == slo.p95_itl_ms
    assert at.checkbox(key=f"whatif_v2_od_on_{w}").value is (plan.on_demand_hourly_rate is not None)
    # The GPUs you would run are priced by contract v2 at exactly that many replicas (not v1's Total(R)).
    per = f.candidate.gpu.replica_gpus
    gpus, r = per, 1  # one replica: it overflows, and v1 and v2 size and price the overflow differently
    at.number_input(key=f"whatif_gpu_count_{w}").set_value(gpus).run()
    assert_clean(at)
    want = plan_total(f.demand(), None, f.candidate.gpu, f.v2.inputs, r, f.api_costs())
    v1 = plan_total(f.demand(), None, f.candidate.gpu, None, r, f.api_costs())
    label = "Your GPUs (USD/month)"
    assert metrics(at)[label] == usd(f.monthly(want), cents=False)
    assert next(m for m in at.metric if m.label == label).proto.help.startswith(f"{gpus:,} GPUs = 1 replica of")
    # A fifth of every hour kept on the API (escalation): v2's rule 4 bills it beside the replica; v1 cannot.
    at.number_input(key=f"whatif_v2_escalation_{w}").set_value(0.2).run()
    assert_clean(at)
    escalated = f.v2.inputs.model_copy(update={"plan": plan.model_copy(update={"escalation_share": 0.2})})
    total = plan_total(f.demand(), None, f.candidate.gpu, escalated, r, f.api_costs())
    assert metrics(at)[label] == usd(f.monthly(total), cents=False) != usd(f.monthly(v1), cents=False)
    at.number_input(key=f"whatif_v2_escalation_{w}").set_value(plan.escalation_share).run()
    # $10,000 more fixed platform cost a month: with a replica committed, exactly $10,000 more.
    at.number_input(key=f"whatif_v2_fixed_{w}").set_value(plan.fixed_monthly + 10_000.0).run()
    assert_clean(at)
    assert metrics(at)[label] == usd(f.monthly(want) + 10_000.0, cents=False)
    at.number_input(key=f"whatif_v2_fixed_{w}").set_value(plan.fixed_monthly).run()
    # The plan's own GPUs cost what its best hybrid costs (Total(R*) is hybrid_cost).
    at.number_input(key=f"whatif_gpu_count_{w}").set_value(f.gpus).run()
    assert_clean(at)
    shown = metrics(at)
    assert shown["Your GPUs (USD/month)"] == usd(
        f.monthly(f.result.hybrid_cost), cents=False) == shown["Best hybrid (USD/month)"]
    assert "Contract v2" in texts(at)

    # The controls give the engine the plan's own inputs at the start; a v1 plan stays v1 until one moves.
    start = starting_controls(f)
    assert whatif_planning(f, start) == f.v2.inputs
    v1 = replace(f, v2=None)
    assert starting_controls(v1) == V2Controls() and whatif_planning(v1, V2Controls()) is None
    moved = whatif_planning(v1, V2Controls(escalation_share=0.1))
    assert moved.plan.escalation_share == 0.1 and moved.slo is None
    assert whatif_planning(f, replace(start, p95_itl_ms=1.0, p95_ttft_ms=1.0)).slo.p95_itl_ms == 1.0
