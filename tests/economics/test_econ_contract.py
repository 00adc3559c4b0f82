"""The contract formulas on hand-worked cases, and simulate() against a per-hour reference loop."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from econ_reference import reference_contract
from models.economics.contract import (
    ApiPricing,
    Demand,
    GpuOption,
    api_cost_per_hour,
    breakeven_multiplier,
    gpu_hourly_cost,
    peak_replicas,
    prepare,
    replica_hourly_cost,
    replica_work,
    simulate,
)
from models.economics.units import usd_per_mtok_to_usd_per_token, usd_per_token_to_usd_per_mtok

API = dict(input_per_mtok=2.5, cached_input_per_mtok=1.25, output_per_mtok=10.0, batch_discount=0.5, batch_share=0.0)
RENT = dict(pricing="rent", hourly_rate=2.99, ops_per_gpu_month=150, replica_gpus=1,
            input_tokens_per_s=20000, output_tokens_per_s=2500, max_utilization=0.8)
BUY = dict(pricing="buy", purchase_price=30000, amortization_months=36, power_watts=700, pue=1.3,
           electricity_per_kwh=0.10, ops_per_gpu_month=500, replica_gpus=1,
           input_tokens_per_s=20000, output_tokens_per_s=2500, max_utilization=0.8)


def close(a, b, rel=5e-3, abs_=1e-6):
    return abs(a - b) <= max(abs_, rel * abs(b))


def test_published_h100_purchase_costs_about_1_92_per_gpu_hour():
    h = gpu_hourly_cost(GpuOption(**BUY))
    assert close(h, 30000 / (36 * 730) + 0.7 * 1.3 * 0.10 + 500 / 730)
    assert close(h, 1.9175)


def test_rent_hourly_cost_adds_ops_per_hour_and_replica_multiplies():
    gpu = GpuOption(**{**RENT, "replica_gpus": 2})
    assert gpu_hourly_cost(gpu) == pytest.approx(2.99 + 150 / 730)
    assert replica_hourly_cost(gpu) == pytest.approx(2 * (2.99 + 150 / 730))


def test_api_cost_of_an_hour_by_hand():
    d = Demand.from_arrays([1_000_000], [400_000], [100_000])
    api = ApiPricing(**{**API, "batch_share": 0.5})
    # 0.6 M * 2.5 + 0.4 M * 1.25 + 0.1 M * 10 = 1.5 + 0.5 + 1.0 = 3.0; times (1 - 0.5 * 0.5)
    assert api_cost_per_hour(d, api)[0] == pytest.approx(3.0 * 0.75)


def test_work_and_peak_replicas_by_hand():
    d = Demand.from_arrays([20000 * 2880, 0], [0, 0], [0, 0])
    w = replica_work(d, GpuOption(**RENT))
    assert w.tolist() == [2880.0, 0.0]
    assert peak_replicas(w, 2880.0) == 1  # an exact multiple does not round up
    assert peak_replicas(w * 1.001, 2880.0) == 2
    assert peak_replicas(np.array([]), 2880.0) == 0


def test_small_case_worked_by_hand():
    # Two hours. Hour 1: W = 5760 s (2 caps), A = $100; hour 2: no work.
    d = Demand.from_arrays([0, 0], [0, 0], [2500 * 5760, 0])
    api = ApiPricing(input_per_mtok=0, cached_input_per_mtok=0, output_per_mtok=100 / 14.4)
    gpu = GpuOption(**{**RENT, "hourly_rate": 10.0, "ops_per_gpu_month": 0})
    r = simulate(d, api, gpu).as_contract_dict()
    assert r["hours"] == 2 and r["peak_replicas"] == 2
    assert r["api_only_cost"] == pytest.approx(100.0)
    # Total(0) = 100; Total(1) = 1*10*2 + 50 = 70; Total(2) = 40
    assert r["optimal_replicas"] == 2 and r["hybrid_cost"] == pytest.approx(40.0)
    assert r["gpu_only_cost"] == pytest.approx(40.0)
    # S(k) = min(100k, 50) > 20  ->  k = 0.2
    assert r["breakeven_demand_multiplier"] == pytest.approx(0.2)
    assert r["breakeven_monthly_tokens"] == pytest.approx(0.2 * 2500 * 5760 * 730 / 2)
    assert r["breakeven_utilization"] == pytest.approx(10.0 / (3600 * 100 / 5760))
    assert r["replica_can_pay"] is True


def test_no_demand_gives_nulls_and_zero_replicas():
    d = Demand.from_arrays([0, 0, 0], [0, 0, 0], [0, 0, 0])
    r = simulate(d, ApiPricing(**API), GpuOption(**RENT)).as_contract_dict()
    assert r["peak_replicas"] == 0 and r["optimal_replicas"] == 0 and r["hybrid_cost"] == 0
    assert r["breakeven_utilization"] is None and r["breakeven_demand_multiplier"] is None
    assert r["replica_can_pay"] is False and r["breakeven_monthly_tokens"] is None


def test_contract_dict_has_exactly_the_contract_keys_and_json_types():
    d = Demand.from_arrays([5e7, 1e7], [1e7, 0], [4e6, 1e6])
    r = simulate(d, ApiPricing(**API), GpuOption(**RENT)).as_contract_dict()
    assert set(r) == {"hours", "api_only_cost", "gpu_hourly_cost", "peak_replicas", "gpu_only_cost",
                      "optimal_replicas", "hybrid_cost", "breakeven_utilization", "replica_can_pay",
                      "breakeven_demand_multiplier", "breakeven_monthly_tokens"}
    for key in ("hours", "peak_replicas", "optimal_replicas"):
        assert type(r[key]) is int
    assert type(r["replica_can_pay"]) is bool


def test_ties_go_to_the_smaller_replica_count():
    # Free GPUs and an hour needing exactly one replica: Total(1) = 0; with no demand R=0 wins.
    d = Demand.from_arrays([0], [0], [0])
    assert simulate(d, ApiPricing(**API), GpuOption(**RENT)).optimal_replicas == 0
    # A replica that costs exactly what it saves: Total(0) == Total(1) -> 0.
    d = Demand.from_arrays([0], [0], [2500 * 2880])
    api = ApiPricing(input_per_mtok=0, cached_input_per_mtok=0, output_per_mtok=1.0)
    a = 2500 * 2880 / 1e6
    gpu = GpuOption(**{**RENT, "hourly_rate": a, "ops_per_gpu_month": 0})
    assert simulate(d, api, gpu).optimal_replicas == 0


def test_unit_round_trip():
    assert usd_per_token_to_usd_per_mtok(2.5e-06) == pytest.approx(2.50)
    for x in (0.0, 1e-9, 2.5e-06, 0.015, 3.0):
        assert usd_per_mtok_to_usd_per_token(usd_per_token_to_usd_per_mtok(x)) == pytest.approx(x)


# --- property tests against the reference loop -------------------------------------

token = st.integers(min_value=0, max_value=500_000_000).map(float)  # token counts are whole
hour_rows = st.lists(st.tuples(token, st.floats(0, 1), token, st.booleans()), min_size=1, max_size=40)
# Prices are zero or at least $0.0001 per Mtok: subnormal floats are not prices, and they make a
# bisection reference underflow rather than test the engine.
price = st.one_of(st.just(0.0), st.floats(min_value=1e-4, max_value=80, allow_nan=False))
unit = st.floats(min_value=0, max_value=1)
api_st = st.fixed_dictionaries(dict(input_per_mtok=price, cached_input_per_mtok=price, output_per_mtok=price,
                                    batch_discount=unit, batch_share=unit))
gpu_st = st.one_of(
    st.fixed_dictionaries(dict(
        pricing=st.just("rent"), hourly_rate=st.floats(0, 15), ops_per_gpu_month=st.floats(0, 2000),
        replica_gpus=st.integers(1, 8), input_tokens_per_s=st.floats(500, 1e5),
        output_tokens_per_s=st.floats(50, 2e4), max_utilization=st.floats(0.05, 1))),
    st.fixed_dictionaries(dict(
        pricing=st.just("buy"), purchase_price=st.floats(0, 60000), amortization_months=st.floats(1, 72),
        power_watts=st.floats(0, 1500), pue=st.floats(1, 2), electricity_per_kwh=st.floats(0, 0.5),
        ops_per_gpu_month=st.floats(0, 2000), replica_gpus=st.integers(1, 8),
        input_tokens_per_s=st.floats(500, 1e5), output_tokens_per_s=st.floats(50, 2e4),
        max_utilization=st.floats(0.05, 1))),
)


def rows_of(raw):
    rows = []
    for inp, cached_share, out, idle in raw:
        rows.append((0.0, 0.0, 0.0) if idle else (inp, math.floor(inp * cached_share), out))
    return rows


def demand_of(rows):
    return Demand.from_arrays(*zip(*rows))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=hour_rows, api=api_st, gpu=gpu_st)
def test_simulate_matches_the_reference_loop(raw, api, gpu):
    rows = rows_of(raw)
    ref = reference_contract(rows, api, gpu)
    got = simulate(demand_of(rows), ApiPricing(**api), GpuOption(**gpu)).as_contract_dict()
    assert got["hours"] == ref["hours"]
    assert got["peak_replicas"] == ref["peak_replicas"]
    totals = ref["_totals"]
    # Exact for ints; the only latitude is a tie the reference itself cannot tell apart.
    if got["optimal_replicas"] != ref["optimal_replicas"]:
        assert close(totals[got["optimal_replicas"]], totals[ref["optimal_replicas"]], rel=1e-9, abs_=1e-7)
    for key in ("api_only_cost", "gpu_hourly_cost", "gpu_only_cost", "hybrid_cost"):
        assert close(got[key], ref[key]), key
    for key in ("breakeven_utilization", "breakeven_demand_multiplier", "breakeven_monthly_tokens"):
        assert (got[key] is None) == (ref[key] is None), key
        if got[key] is not None:
            assert close(got[key], ref[key], abs_=1e-9), key
    assert got["replica_can_pay"] == ref["replica_can_pay"]


@settings(max_examples=100, deadline=None)
@given(raw=hour_rows, api=api_st, gpu=gpu_st)
def test_hybrid_is_never_worse_and_no_replica_count_beats_the_optimum(raw, api, gpu):
    rows = rows_of(raw)
    r = simulate(demand_of(rows), ApiPricing(**api), GpuOption(**gpu))
    assert r.hybrid_cost <= min(r.api_only_cost, r.gpu_only_cost) + 1e-6
    for total in reference_contract(rows, api, gpu)["_totals"]:
        assert r.hybrid_cost <= total + 1e-6 + 1e-9 * abs(total)


@settings(max_examples=100, deadline=None)
@given(raw=hour_rows, api=api_st, gpu=gpu_st)
def test_breakeven_multiplier_is_where_one_replica_starts_to_pay(raw, api, gpu):
    rows = rows_of(raw)
    d, a, g = demand_of(rows), ApiPricing(**api), GpuOption(**gpu)
    k = simulate(d, a, g).breakeven_demand_multiplier
    assume(k is not None and k > 0)

    def saving_of_one_replica(scale):
        p = prepare(d.scaled(scale), a, g)
        t0, t1 = p.totals(np.array([0.0, 1.0]))
        return t0 - t1

    assert saving_of_one_replica(k * 1.01) > 0
    assert saving_of_one_replica(k * 0.99) <= 1e-9 * max(1.0, replica_hourly_cost(g) * d.hours)


@settings(max_examples=60, deadline=None)
@given(raw=hour_rows, api=api_st, gpu=gpu_st, factor=st.floats(0.1, 10))
def test_scaling_all_prices_scales_every_cost(raw, api, gpu, factor):
    rows = rows_of(raw)
    d = demand_of(rows)
    base = simulate(d, ApiPricing(**api), GpuOption(**gpu))
    money = ("input_per_mtok", "cached_input_per_mtok", "output_per_mtok")
    gpu_money = ("hourly_rate", "purchase_price", "electricity_per_kwh", "ops_per_gpu_month")
    api2 = {k: v * factor if k in money else v for k, v in api.items()}
    gpu2 = {k: v * factor if k in gpu_money else v for k, v in gpu.items()}
    scaled = simulate(d, ApiPricing(**api2), GpuOption(**gpu2))
    for key in ("api_only_cost", "gpu_hourly_cost", "gpu_only_cost", "hybrid_cost"):
        assert close(getattr(scaled, key), getattr(base, key) * factor, rel=1e-6), key
    if base.breakeven_demand_multiplier is not None and scaled.breakeven_demand_multiplier is not None:
        assert close(scaled.breakeven_demand_multiplier, base.breakeven_demand_multiplier, rel=1e-6)


def test_breakeven_multiplier_when_the_gpu_is_free_is_zero():
    d = Demand.from_arrays([1e6], [0], [1e5])
    gpu = GpuOption(**{**RENT, "hourly_rate": 0, "ops_per_gpu_month": 0})
    assert breakeven_multiplier(prepare(d, ApiPricing(**API), gpu)) == 0.0


def test_docs_worked_example_matches_the_hand_figures():
    from pathlib import Path

    from models.scenario_file import load_scenario_with_demand

    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / "worked-example.yaml"
    scenario, demand = load_scenario_with_demand(path)
    r = simulate(demand, scenario.api, scenario.gpu).as_contract_dict()
    assert r["api_only_cost"] == pytest.approx(49 + 98 + 196)
    assert r["gpu_hourly_cost"] == pytest.approx(3.19)
    assert (r["hours"], r["peak_replicas"], r["optimal_replicas"]) == (4, 2, 1)
    assert r["gpu_only_cost"] == pytest.approx(2 * 8 * 3.19 * 4)
    assert r["hybrid_cost"] == pytest.approx(8 * 3.19 * 4 + 98)
    assert r["breakeven_utilization"] == pytest.approx(25.52 / (3600 * 343 / 10080))
    assert r["breakeven_demand_multiplier"] == pytest.approx(102.08 / 343)
    assert r["breakeven_monthly_tokens"] == pytest.approx(102.08 / 343 * 113.4e6 * 730 / 4)


def test_formula_wrappers_agree_with_simulate():
    from models.economics.contract import hybrid_total, optimal_replicas

    d = Demand.from_arrays([0, 14.4e6, 28.8e6, 57.6e6], [0, 4e6, 8e6, 16e6], [0, 1.8e6, 3.6e6, 7.2e6])
    gpu = GpuOption(**{**RENT, "ops_per_gpu_month": 146, "replica_gpus": 8})
    api = ApiPricing(**API)
    assert optimal_replicas(d, api, gpu) == 1
    assert [hybrid_total(d, api, gpu, r) for r in range(3)] == pytest.approx([343, 200.08, 204.16])
