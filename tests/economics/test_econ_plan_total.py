"""`plan_total`: Total(R) at a chosen replica count, v2 by rule 4 with the blocks and exactly v1 without them."""

from pathlib import Path

import numpy as np
import pytest

from models.economics.contract import prepare
from models.economics.plan import plan_total
from models.economics.plan_inputs import PlanningInputs, SloInputs
from models.scenario_file import load_scenario_with_demand

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
# Total(R) for R = 0..3 as ECONOMICS-v2-example.md computes them by hand.
HAND_TOTALS = [58.33125, 47.465625, 60.8, 84.8]


def test_v2_total_at_each_replica_count_is_the_hand_figure():
    scenario, demand = load_scenario_with_demand(EXAMPLES / "v2-worked.yaml")
    got = [plan_total(demand, scenario.api, scenario.gpu, scenario.planning, r) for r in range(4)]
    assert got == pytest.approx(HAND_TOTALS)
    # five replicas are two more than the peak needs: the same serving, two more replicas paid for every hour
    extra = 2 * scenario.gpu.replica_gpus * 4.0 * demand.hours
    assert plan_total(demand, scenario.api, scenario.gpu, scenario.planning, 5) == pytest.approx(84.8 + extra)


def test_without_blocks_it_is_the_v1_total_exactly():
    scenario, demand = load_scenario_with_demand(EXAMPLES / "v2-worked.yaml")
    prep = prepare(demand, scenario.api, scenario.gpu)
    for r in range(4):
        v1 = float(prep.totals(np.array([float(r)]))[0])
        assert plan_total(demand, scenario.api, scenario.gpu, None, r) == v1
        assert plan_total(demand, scenario.api, scenario.gpu, PlanningInputs(), r) == v1
    assert plan_total(demand, scenario.api, scenario.gpu, None, 1) != pytest.approx(HAND_TOTALS[1])


def test_no_curve_point_within_the_slo_has_no_total():
    scenario, demand = load_scenario_with_demand(EXAMPLES / "v2-worked.yaml")
    strict = SloInputs(p95_itl_ms=0.001, p95_ttft_ms=0.001, curve=scenario.slo.curve)
    assert plan_total(demand, scenario.api, scenario.gpu, PlanningInputs(plan=scenario.plan, slo=strict), 1) is None
