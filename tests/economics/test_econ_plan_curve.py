"""The breakeven curve under contract v2: each point is the plan the engine gives at that volume."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.economics.contract import ApiPricing, Demand, GpuOption, api_cost_per_hour
from models.economics.curves import CURVE_COLUMNS, breakeven_curve, cost_curve
from models.economics.levers import levers_waterfall
from models.economics.plan import plan_curve, simulate_plan
from models.economics.plan_inputs import PlanInputs, PlanningInputs, SloInputs, SloPoint
from models.economics.units import HOURS_PER_MONTH

GPU = GpuOption(pricing="rent", hourly_rate=2.5, ops_per_gpu_month=0, input_tokens_per_s=1e4,
                output_tokens_per_s=1e3, max_utilization=0.8)
API = ApiPricing(input_per_mtok=2.0, cached_input_per_mtok=0.5, output_per_mtok=8.0, batch_discount=0.5)


def demand_of(shape, scale, offset=0) -> Demand:
    """Hour t has shape[t] x scale output tokens and four times that input."""
    out = np.round(np.asarray(shape, dtype=np.float64) * scale)
    return Demand.from_arrays(4 * out, np.zeros_like(out), out, hour=offset + np.arange(out.size))


def slo_curve(top: float = 1_000.0) -> SloInputs:
    """A throughput/latency curve whose latency rises with concurrency; targets met up to 25 running."""
    points = [SloPoint(concurrency=c, input_tokens_per_s=4 * top * f, output_tokens_per_s=top * f, p95_itl_ms=itl,
                       p95_ttft_ms=ttft)
              for c, f, itl, ttft in ((1, 0.06, 18, 400), (5, 0.24, 22, 550), (25, 0.68, 39, 690),
                                      (50, 0.88, 60, 830), (100, 1.0, 93, 8_000))]
    return SloInputs(p95_itl_ms=45, p95_ttft_ms=2_000, curve=tuple(points))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.lists(st.floats(0, 1), min_size=24, max_size=96), scale=st.floats(1e5, 5e7),
       e=st.floats(0, 0.5), d=st.floats(0, 1), p=st.floats(1, 2.5), fixed=st.floats(0, 20_000),
       od=st.one_of(st.none(), st.floats(0.6, 30)), with_slo=st.booleans(), offset=st.integers(0, 23),
       k=st.floats(0.05, 8))
def test_each_point_is_the_plan_at_that_volume(shape, scale, e, d, p, fixed, od, with_slo, offset, k):
    demand = demand_of(shape, scale, offset)
    if not (demand.input_tokens + demand.output_tokens).sum():
        return
    inputs = PlanningInputs(plan=PlanInputs(escalation_share=e, deferrable_share=d, peak_factor=p,
                                            fixed_monthly=fixed, on_demand_hourly_rate=od),
                            slo=slo_curve() if with_slo else None)
    costs = api_cost_per_hour(demand, API)
    lines = plan_curve(demand, None, GPU, inputs, np.array([k]), costs)
    there = simulate_plan(demand.scaled(k), None, GPU, inputs, costs * k, with_flips=False)
    month = HOURS_PER_MONTH / demand.hours
    tokens = float((demand.input_tokens + demand.output_tokens).sum())
    assert lines["monthly_tokens"][0] == pytest.approx(k * tokens * month)
    assert lines["api_only_usd"][0] == pytest.approx(there.api_only_cost * month, rel=1e-9, abs=1e-6)
    assert lines["gpu_only_usd"][0] == pytest.approx(there.gpu_only_cost * month, rel=1e-9, abs=1e-6)
    assert lines["hybrid_usd"][0] == pytest.approx(there.hybrid_cost * month, rel=1e-9, abs=1e-4)
    if lines["hybrid_replicas"][0] != there.optimal_replicas:  # only a tie within the tie tolerance
        assert lines["hybrid_usd"][0] == pytest.approx(there.hybrid_cost * month, abs=1e-4)
    # The best plan never costs more than either pure answer.
    assert lines["hybrid_usd"][0] <= lines["api_only_usd"][0] + 1e-6
    assert lines["hybrid_usd"][0] <= lines["gpu_only_usd"][0] + 1e-6


def test_curve_meets_the_plans_own_figures_today_and_at_breakeven():
    t = np.arange(24 * 14)
    shape = 0.3 + 0.7 * np.exp(-(((t % 24) - 14) / 4.0) ** 2)
    demand = demand_of(shape, 2e6)
    inputs = PlanningInputs(plan=PlanInputs(escalation_share=0.1, deferrable_share=0.3, peak_factor=1.4,
                                            fixed_monthly=3_000, on_demand_hourly_rate=6.0), slo=slo_curve())
    costs = api_cost_per_hour(demand, API)
    result = simulate_plan(demand, None, GPU, inputs, costs, with_flips=False)
    curve = cost_curve(demand, GPU, inputs, costs, points=201, reach=2.0)
    assert curve.columns == CURVE_COLUMNS
    today = curve.row(100, named=True)  # k = 1.0 exactly
    assert today["hybrid_usd"] == pytest.approx(result.monthly(result.hybrid_cost), rel=1e-9)
    assert today["api_only_usd"] == pytest.approx(result.monthly(result.api_only_cost), rel=1e-9)
    assert today["hybrid_replicas"] == result.optimal_replicas
    # v2's curve is not v1's: the SLO sizes replicas below saturation and the fixed cost is in every plan.
    v1 = cost_curve(demand, GPU, None, costs, points=201, reach=2.0)
    assert not np.allclose(v1["gpu_only_usd"].to_numpy(), curve["gpu_only_usd"].to_numpy())


def test_without_v2_inputs_the_curve_is_v1s():
    demand = demand_of(np.linspace(0.2, 1.0, 48), 3e6)
    costs = api_cost_per_hour(demand, API)
    v1 = breakeven_curve(demand, API, GPU)
    assert cost_curve(demand, GPU, None, costs).equals(v1)
    assert cost_curve(demand, GPU, PlanningInputs(), costs).equals(v1)


def test_slo_no_replica_meets_leaves_the_api_line():
    demand = demand_of(np.linspace(0.2, 1.0, 48), 3e6)
    impossible = slo_curve().model_copy(update={"p95_itl_ms": 1.0})
    costs = api_cost_per_hour(demand, API)
    curve = cost_curve(demand, GPU, PlanningInputs(slo=impossible), costs, points=11, reach=3.0)
    assert curve["gpu_only_usd"].null_count() == curve.height
    assert curve["hybrid_usd"].to_list() == curve["api_only_usd"].to_list()
    assert curve["hybrid_replicas"].sum() == 0


def test_the_move_lever_runs_the_same_contract():
    """With planning inputs the waterfall's move step is v2's best plan on what the other levers left."""
    t = np.arange(24 * 14)
    demand = demand_of(0.3 + 0.7 * np.exp(-(((t % 24) - 14) / 4.0) ** 2), 2e6)
    inputs = PlanningInputs(plan=PlanInputs(deferrable_share=0.3, fixed_monthly=3_000, on_demand_hourly_rate=6.0),
                            slo=slo_curve())
    costs = api_cost_per_hour(demand, API)
    fall = levers_waterfall(demand, None, GPU, repeat_share=0.2, batchable_share=None, route_share=None,
                            route_price_ratio=None, api_costs=costs, planning=inputs)
    move = fall.steps[-1]
    left = simulate_plan(demand.scaled(0.8), None, GPU, inputs, costs * 0.8, with_flips=False)
    assert move.lever == "move" and move.status == "ok"
    assert move.remaining_usd_month == pytest.approx(left.monthly(left.hybrid_cost), rel=1e-9)
    v1 = levers_waterfall(demand, None, GPU, repeat_share=0.2, batchable_share=None, route_share=None,
                          route_price_ratio=None, api_costs=costs)
    assert v1.steps[-1].remaining_usd_month != pytest.approx(move.remaining_usd_month, rel=1e-6)
