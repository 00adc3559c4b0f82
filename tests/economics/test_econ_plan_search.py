"""The v2 optimum search: the same R as pricing every replica count, without arrays that grow with R_max."""

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.economics.contract import ApiPricing, Demand, GpuOption, api_cost_per_hour
from models.economics.plan import _setup, simulate_plan
from models.economics.plan_hours import plan_at
from models.economics.plan_inputs import PlanInputs, PlanningInputs


def setup_of(work_replicas, api_price, hourly_rate, plan, hours_offset=0):
    """Demand whose hour t needs work_replicas[t] replicas at the gpu block's rates (all decode)."""
    gpu = GpuOption(pricing="rent", hourly_rate=hourly_rate, ops_per_gpu_month=0, input_tokens_per_s=1e4,
                    output_tokens_per_s=1e3, max_utilization=1.0)
    out = np.round(np.asarray(work_replicas) * 3600 * 1e3)
    demand = Demand.from_arrays(np.zeros_like(out), np.zeros_like(out), out,
                                hour=hours_offset + np.arange(out.size))
    api = ApiPricing(input_per_mtok=0, cached_input_per_mtok=0, output_per_mtok=api_price, batch_discount=0.5)
    return demand, api, gpu, _setup(demand, api_cost_per_hour(demand, api), gpu, None, plan, 0.5)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.lists(st.floats(0, 1), min_size=24, max_size=96), peak=st.integers(9, 400),
       price=st.floats(0.5, 20), rate=st.floats(0.5, 10), e=st.floats(0, 0.5), d=st.floats(0, 1),
       p=st.floats(1, 2.5), fixed=st.floats(0, 50_000), od=st.one_of(st.none(), st.floats(0.6, 30)),
       offset=st.integers(0, 23))
def test_search_finds_the_enumerated_optimum(shape, peak, price, rate, e, d, p, fixed, od, offset):
    plan = PlanInputs(escalation_share=e, deferrable_share=d, peak_factor=p, fixed_monthly=fixed,
                      on_demand_hourly_rate=od)
    _, _, _, s = setup_of(np.asarray(shape) * peak, price, rate, plan, offset)
    core = s.sorted_hours.scaled(s.prices)
    totals = np.array([plan_at(s.parts, s.prices, r).total for r in range(core.r_max + 1)])
    want = int(np.flatnonzero(totals <= totals.min() + 1e-9)[0])
    got, _ = core.optimum()
    if got != want:  # only a tie the per-hour pricing itself cannot separate
        assert totals[got] == pytest.approx(totals[want], rel=1e-9, abs=1e-7)
    # Pricing every R at once (what a curve asks at each volume) lands on the same plan.
    r_best, t_best = core.best()
    assert t_best == pytest.approx(totals[want], rel=1e-9, abs=1e-6)
    assert r_best == want or totals[r_best] == pytest.approx(totals[want], rel=1e-9, abs=1e-7)
    # The fast Total(R) is the rule-4 Total(R), replica count by replica count.
    r = np.arange(1, core.r_max + 1)
    assert core.total(r) == pytest.approx(totals[1:], rel=1e-9, abs=1e-6)


def test_huge_peak_is_searched_not_enumerated():
    """A year of hours needing up to ten million replicas: answered in well under a second."""
    rng = np.random.default_rng(7)
    t = np.arange(8760)
    shape = 0.3 + 0.7 * np.exp(-(((t % 24) - 14) / 4.0) ** 2) * rng.uniform(0.8, 1.0, t.size)
    plan = PlanInputs(escalation_share=0.1, deferrable_share=0.3, peak_factor=1.5, fixed_monthly=1e6,
                      on_demand_hourly_rate=3.0)
    demand, api, gpu, s = setup_of(shape * 1e7, 1.0, 2.0, plan)
    started = time.perf_counter()
    core = s.sorted_hours.scaled(s.prices)
    r, _ = core.optimum()
    elapsed = time.perf_counter() - started
    assert core.r_max > 9_000_000 and 0 < r < core.r_max
    assert elapsed < 2.0
    # Its neighbours cost no less: a local check of the optimum the search returned.
    t_r = core.total(np.array([r - 1, r, r + 1]))
    assert t_r[1] <= t_r[0] + 1e-9 and t_r[1] <= t_r[2] + 1e-9 * abs(t_r[2])
    result = simulate_plan(demand, api, gpu, PlanningInputs(plan=plan), with_flips=False)
    assert result.optimal_replicas == r and result.peak_replicas == core.r_max


def test_deferrable_work_fills_idle_hours_of_its_own_utc_day():
    """Two UTC days: deferrable work of day 1 may use day 1's idle night, never day 2's."""
    day1 = [1.0] * 12 + [0.0] * 12  # busy then idle
    day2 = [0.0] * 12 + [1.0] * 12
    plan = PlanInputs(deferrable_share=0.5, fixed_monthly=0)
    _, _, _, s = setup_of(day1 + day2, 10.0, 1.0, plan)
    one = plan_at(s.parts, s.prices, 1)
    # Each day: 12 h x 0.5 replica of deferrable work = 6 replica-hours, 12 spare hours + 12 x 0.5 spare.
    assert one.deferred_local_share == pytest.approx(1.0)
    # Shift the same hours by 12 so each UTC day holds one busy half and the next day's busy half.
    _, _, _, shifted = setup_of(day1 + day2, 10.0, 1.0, plan, hours_offset=12)
    assert plan_at(shifted.parts, shifted.prices, 1).deferred_local_share == pytest.approx(1.0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.lists(st.floats(0, 1), min_size=24, max_size=72), peak=st.integers(1, 200),
       price=st.floats(0.5, 20), rate=st.floats(0.5, 10), d=st.floats(0, 1), fixed=st.floats(0, 30_000),
       od=st.one_of(st.none(), st.floats(0.6, 30)), kind=st.sampled_from(["throughput", "api_prices", "gpu_cost",
                                                                          "demand"]), j=st.integers(-96, 96))
def test_the_quick_class_of_a_flip_grid_point_is_the_class_of_its_optimum(shape, peak, price, rate, d, fixed, od,
                                                                           kind, j):
    from models.economics.plan import _SCALES

    plan = PlanInputs(escalation_share=0.1, deferrable_share=d, peak_factor=1.3, fixed_monthly=fixed,
                      on_demand_hourly_rate=od)
    _, _, _, s = setup_of(np.asarray(shape) * peak, price, rate, plan)
    core = s.sorted_hours.scaled(s.prices, **_SCALES[kind](2.0 ** (j / 24)))
    r, rents = core.optimum()
    want = ("hybrid" if rents else "tokens") if r == 0 else ("move" if r == core.r_max else "hybrid")
    assert core.plan_class() == want
