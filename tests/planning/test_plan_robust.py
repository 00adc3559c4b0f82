"""Robust engine and inputs: no allocation grows with the demand or the replicas; one-line answers; JSON-safe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from models.economics.contract import Demand, GpuOption, OutOfRangeError, best_replicas, prepare, simulate
from models.economics.curves import curve_from_prepared
from tests_support import REPO_ROOT

LIMIT_BYTES = 1536 * 1024 * 1024  # a planning answer never needs more than this, whatever the inputs
GPU = dict(pricing="rent", hourly_rate=2.99, ops_per_gpu_month=150, replica_gpus=1, input_tokens_per_s=20000,
           output_tokens_per_s=2500, max_utilization=0.8)


def _limited(code: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run Python `code` in a subprocess whose address space is capped at LIMIT_BYTES."""
    prelude = (f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({LIMIT_BYTES}, {LIMIT_BYTES}))\n")
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=timeout)


def _brute(prep, k=1.0) -> tuple[int, float]:
    """The contract's optimum by trying every R (the definition the search must match)."""
    totals = prep.totals(np.arange(prep.peak(k) + 1, dtype=np.float64), k)
    best = totals.min()
    r = int(np.flatnonzero(totals <= best + 1e-9)[0])
    return r, float(totals[r])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 5e8), st.floats(0, 5e7)), min_size=1, max_size=60),
       st.floats(0.01, 40), st.floats(0, 3), st.sampled_from([1, 2, 8]))
def test_search_finds_the_optimum_every_replica_count_would(hours, rate, k, tp):
    inp = [h[0] for h in hours]
    out = [h[1] for h in hours]
    demand = Demand.from_arrays(inp, np.zeros(len(inp)), out)
    gpu = GpuOption(**{**GPU, "hourly_rate": rate, "replica_gpus": tp})
    prep = prepare(demand, None, gpu, api_costs=(np.array(inp) * 2 + np.array(out) * 8) / 1e6)
    replicas, totals = best_replicas(prep, k)
    want_r, want_total = _brute(prep, k)
    assert int(replicas[0]) == want_r
    assert float(totals[0]) == pytest.approx(want_total, rel=1e-12, abs=1e-9)


def test_huge_demand_and_tiny_throughput_stay_in_memory():
    # 1e20 tokens an hour asked np.arange(R_peak + 1) for 22.7 TiB; a throughput of 1e-6 for 2.85 GiB.
    done = _limited(
        "import numpy as np\n"
        "from models.economics.contract import Demand, GpuOption, simulate, prepare\n"
        "from models.economics.curves import curve_from_prepared\n"
        f"gpu = GpuOption(**{GPU!r})\n"
        "d = Demand.from_arrays([1e20] * 24, [0] * 24, [1e19] * 24)\n"
        "r = simulate(d, None, gpu, api_costs=np.full(24, 1e15))\n"
        "assert r.peak_replicas > 10**12 and r.optimal_replicas == r.peak_replicas\n"
        "curve = curve_from_prepared(prepare(d, None, gpu, np.full(24, 1e15)), np.linspace(0, 3, 200))\n"
        "assert curve['hybrid_replicas'].max() > 10**12\n"
        "slow = GpuOption(**{**gpu.model_dump(), 'input_tokens_per_s': 1e-6, 'output_tokens_per_s': 1e-6})\n"
        "r = simulate(Demand.from_arrays([5e6] * 24, [0] * 24, [1e6] * 24), None, slow, api_costs=np.full(24, 50.0))\n"
        "assert r.peak_replicas > 10**9\n"
        "print('ok')\n")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_curve_memory_does_not_grow_with_replicas():
    demand = Demand.from_arrays([1e14] * 48, [0] * 48, [1e13] * 48)
    prep = prepare(demand, None, GpuOption(**GPU), api_costs=np.full(48, 1e9))
    curve = curve_from_prepared(prep, np.linspace(0, 3, 200))
    assert curve.height == 200 and curve["hybrid_replicas"].max() > 10**6


def test_beyond_representable_replicas_is_one_line():
    gpu = GpuOption(**{**GPU, "input_tokens_per_s": 1e-9, "output_tokens_per_s": 1e-9})
    with pytest.raises(OutOfRangeError) as err:
        simulate(Demand.from_arrays([1e15], [0], [1e15]), None, gpu, api_costs=np.array([1.0]))
    assert "\n" not in str(err.value) and "replicas" in str(err.value)


def test_planning_path_on_extreme_inputs_under_a_memory_limit():
    driver = Path(__file__).with_name("plan_extremes.py")
    done = subprocess.run([sys.executable, str(driver), str(LIMIT_BYTES), "120"], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=900, env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


def _simulate(tmp_path, gpu_lines: str, *extra: str):
    (tmp_path / "d.csv").write_text("hour,input_tokens,cached_input_tokens,output_tokens\n"
                                    "2026-01-01T00:00Z,1000000,0,100000\n2026-01-01T01:00Z,2000000,0,200000\n")
    (tmp_path / "s.yaml").write_text("name: s\ndemand: d.csv\napi:\n  input_per_mtok: 2\n  cached_input_per_mtok: 1\n"
                                     "  output_per_mtok: 8\ngpu:\n" + gpu_lines)
    context.reset()
    return CliRunner().invoke(app, ["simulate", str(tmp_path / "s.yaml"), *extra])


RENT = ("  pricing: rent\n  hourly_rate: {rate}\n  ops_per_gpu_month: 150\n  input_tokens_per_s: {tps}\n"
        "  output_tokens_per_s: 2500\n")


def test_2e4_is_a_number(tmp_path):
    result = _simulate(tmp_path, RENT.format(rate="2.99", tps="2e4"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["hours"] == 2


def test_a_400_digit_integer_is_refused_cleanly(tmp_path):
    result = _simulate(tmp_path, RENT.format(rate="9" * 400, tps="20000"), "--json")
    assert result.exit_code == 2
    assert "gpu.hourly_rate" in result.output and "out of range" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_json_never_holds_infinity(tmp_path):
    result = _simulate(tmp_path, RENT.format(rate="1e308", tps="20000"), "--json")
    assert "Infinity" not in result.output and "NaN" not in result.output
    assert result.exit_code == 2 and "beyond what can be computed" in result.output

