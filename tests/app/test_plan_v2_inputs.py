"""Contract v2 on the planning path: every demo workload says which v2 inputs were measured and which assumed."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from models.economics.plan_inputs import SloInputs, operating_point
from models.economics.published_curves import catalog_curves, find_curve
from models.planning.curve import MIN_INTERVALS, measured_curve
from models.planning.inputs import PEAK_MIN_REQUESTS, hourly_peaks

runner = CliRunner()
V2_KEYS = ("slo_met", "escalated_cost", "fixed_cost", "on_demand_replica_hours", "on_demand_cost",
           "deferred_local_share", "api_peak_tokens_per_minute", "plan_class", "flips")
INPUTS = ("peak_factor", "slo_targets", "slo_curve", "deferrable_share", "escalation_share", "lead_time_days",
          "fixed_monthly", "on_demand_hourly_rate")
DEMO_WORKLOADS = ("code-review", "doc-summaries", "segment-labeling", "support-assistant")


def _json(workload: str) -> dict:
    context.reset()
    result = runner.invoke(app, ["simulate", "--workload", workload, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("workload", DEMO_WORKLOADS)
def test_each_demo_workload_lists_measured_and_assumed_inputs(demo_env, workload):
    out = _json(workload)
    v2 = out["v2_inputs"]
    assert v2["contract"] == "v2" and out["contract_version"] == "v2"
    assert set(v2["inputs"]) == set(INPUTS)
    assert sorted(v2["measured"] + v2["assumed"]) == sorted(INPUTS)
    for key, item in v2["inputs"].items():
        assert item["status"] == ("measured" if key in v2["measured"] else "assumed") and item["source"]
    for key in V2_KEYS:
        assert key in out, key
    # the request logs find batch candidates for every demo workload; its hours are too quiet for a peak factor
    assert "deferrable_share" in v2["measured"] and "peak_factor" in v2["assumed"]
    assert out["flip_sentence"] and out["flip_sentence"].startswith("This answer")


def test_the_local_endpoint_gives_a_measured_curve_and_a_throughput_flag(demo_env):
    out = _json("segment-labeling")
    v2 = out["v2_inputs"]
    assert v2["curve"] == "measured" and "slo_curve" in v2["measured"]
    curve = v2["inputs"]["slo_curve"]["value"]
    assert len(curve) >= 2 and all(p["output_tokens_per_s"] > 0 for p in curve)
    assert [p["concurrency"] for p in curve] == sorted(p["concurrency"] for p in curve)
    flag = v2["throughput_flag"]
    # the plan assumes the published 15,220 tok/s; the demo's server produces a few hundred
    assert flag["curve"] == "measured" and flag["flagged"] and flag["gap"] > 1.5
    # the demo server exports latency histograms: every point's p95 ITL and TTFT are measured, not estimated
    latency = v2["curve_latency"]
    assert latency["p95_itl_ms"] == "measured" and latency["p95_ttft_ms"] == "measured"
    assert latency["itl_measured_points"] == latency["ttft_measured_points"] == len(curve)
    assert "measured from vLLM's histogram" in v2["inputs"]["slo_curve"]["source"]
    assert "estimated" not in v2["inputs"]["slo_curve"]["source"]
    targets = v2["inputs"]["slo_targets"]["value"]
    within = [p for p in curve if p["p95_itl_ms"] <= targets["p95_itl_ms"] and p["p95_ttft_ms"] <= targets["p95_ttft_ms"]]
    # queueing at the busiest bin pushes the measured time to first token past its target: that point is out
    assert len(within) < len(curve) and curve[-1]["p95_ttft_ms"] > targets["p95_ttft_ms"]
    assert out["slo_met"] is True and out["slo_output_tokens_per_s"] == pytest.approx(
        max(p["output_tokens_per_s"] for p in within))
    assert v2["inputs"]["slo_targets"]["basis"] == "plan"
    assert out["move"]["lead_time_days"] == 28 and out["move"]["order_by"] is not None


def test_a_default_pairing_with_a_published_curve_uses_it(demo_env):
    out = _json("support-assistant")
    v2 = out["v2_inputs"]
    assert v2["curve"] == "published" and "slo_curve" in v2["assumed"]
    assert "docs.nvidia.com/nim" in v2["inputs"]["slo_curve"]["source"]
    points = find_curve(catalog_curves(), "Llama 3.3 70B FP8", "H100", 2).points
    # 50 ms p95 ITL by default: the point at concurrency 25 (38.75 ms), not 50 (59.73 ms)
    assert out["slo_concurrency"] == 25
    assert out["slo_output_tokens_per_s"] == pytest.approx(points[2].output_tokens_per_s)


def test_text_output_says_measured_and_assumed_in_words(demo_env):
    context.reset()
    result = runner.invoke(app, ["simulate", "--workload", "segment-labeling"])
    assert result.exit_code == 0, result.output
    assert "Throughput/latency curve: measured" in result.stdout
    assert "Peak factor: assumed" in result.stdout and "This answer" in result.stdout


def test_hourly_peaks_need_enough_requests():
    hour = datetime(2026, 11, 1, tzinfo=UTC)
    minutes = pl.DataFrame({"hour_at": [hour, hour + timedelta(hours=1)],
                            "requests": [PEAK_MIN_REQUESTS, PEAK_MIN_REQUESTS - 1],
                            "tokens": [6000.0, 6000.0], "busiest_minute_tokens": [250.0, 900.0]},
                           schema_overrides={"hour_at": pl.Datetime("us", "UTC")})
    hours = pl.Series("hour", [hour, hour + timedelta(hours=1), hour + timedelta(hours=2)],
                      dtype=pl.Datetime("us", "UTC"))
    p = hourly_peaks(minutes, hours)
    assert p[0] == pytest.approx(250 / 100) and np.isnan(p[1]) and np.isnan(p[2])


def test_measured_curve_reproduces_the_measured_rate_at_its_mix():
    rng = np.random.default_rng(7)
    running = rng.uniform(10, 200, 400)
    gen = 3.0 * running
    frame = pl.DataFrame({"endpoint": ["e"] * 400, "sampled_at": [datetime(2026, 11, 1, tzinfo=UTC)] * 400,
                          "seconds": [60.0] * 400, "prompt_tokens_per_s": 20 * gen,
                          "generation_tokens_per_s": gen, "running": running})
    curve = measured_curve(frame, 2000.0)
    assert curve is not None and len(curve.points) == 8 and curve.intervals == 400
    for point, raw in zip(curve.points, curve.generation_tokens_per_s):
        at_mix = 1 / (20 / point.input_tokens_per_s + 1 / point.output_tokens_per_s)
        assert at_mix == pytest.approx(raw)
        assert point.p95_itl_ms == pytest.approx(1000 / 3.0)
    assert measured_curve(frame.head(MIN_INTERVALS - 1), 2000.0) is None
    assert curve.itl_measured_points == 0 and all(p.p95_ttft_ms == 2000.0 for p in curve.points)

    assert operating_point(SloInputs(p95_itl_ms=300, p95_ttft_ms=2000, curve=curve.points)) is None


def test_measured_curve_takes_p95_latencies_from_the_histograms_of_its_bins():
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    n = 240
    times = [t0 + timedelta(minutes=i) for i in range(n)]
    running = np.arange(n, dtype=float) + 1.0  # bin k holds the intervals k*30 .. k*30+29
    frame = pl.DataFrame({"endpoint": ["e"] * n, "sampled_at": times, "seconds": [60.0] * n,
                          "prompt_tokens_per_s": [100.0] * n, "generation_tokens_per_s": [50.0] * n,
                          "running": running})
    inf = float("inf")
    rows = []
    for i, at in enumerate(times):
        slow = i >= 120  # the upper half of the bins: most inter-token gaps between 0.05 and 0.1 s
        itl = {0.025: 10, 0.05: 10 if slow else 20, 0.1: 20, inf: 20}
        ttft = {0.5: 3 if i < 210 else 0, 1.0: 4, inf: 4}  # the last bin: every first token after 0.5 s
        rows += [("e", at, "itl", le, c) for le, c in itl.items()] + [("e", at, "ttft", le, c) for le, c in ttft.items()]
    latency = pl.DataFrame(rows, orient="row", schema={"endpoint": pl.String, "sampled_at": pl.Datetime("us", "UTC"),
                                                       "metric": pl.String, "le_seconds": pl.Float64,
                                                       "observations": pl.Float64})
    curve = measured_curve(frame, 2000.0, latency)
    assert curve.itl_measured_points == 8 and curve.ttft_measured_points == 8 and curve.observations == n * 20
    itl = [p.p95_itl_ms for p in curve.points]
    # fast bins: 600 gaps, 300 <= 25 ms, all <= 50 ms; rank 570 is 270/300 into (25, 50]: 47.5 ms
    assert itl[:4] == pytest.approx([47.5] * 4)
    # slow bins: 300 <= 50 ms, 600 <= 100 ms; rank 570 is 270/300 into (50, 100]: 95 ms
    assert itl[4:] == pytest.approx([95.0] * 4)
    ttft = [p.p95_ttft_ms for p in curve.points]
    # 120 first tokens a bin, 90 <= 0.5 s: rank 114 is 24/30 into (0.5, 1]: 900 ms; the last bin 0 <= 0.5 s: 975 ms
    assert ttft[:7] == pytest.approx([900.0] * 7) and ttft[7] == pytest.approx(975.0)
    # too few observations in a bin: the labelled fallbacks (ITL estimate, the TTFT target) come back
    sparse = latency.with_columns(pl.col("observations") / 100)
    fallback = measured_curve(frame, 2000.0, sparse)
    assert fallback.itl_measured_points == 0 and fallback.ttft_measured_points == 0
    assert [p.p95_ttft_ms for p in fallback.points] == [2000.0] * 8
