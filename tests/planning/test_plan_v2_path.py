"""The planning path under contract v2: plan fields, the platform setting, the published curve, v1 when nothing applies."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from ingest import records as r
from ingest.loader import load
from models.economics.gpu_rates import catalog_rates, rates_for, reference_rate
from models.economics.published_curves import COLUMNS as CURVE_COLUMNS
from models.economics.units import HOURS_PER_MONTH
from models.infra.database import make_engine
from models.planning.candidate import Candidate
from models.planning.inputs import on_demand_rate
from models.planning.plans import Plan
from tests.planning.plan_seed import LOCAL, OUTPUT_HEAVY, add_local_serving, add_output_heavy
from tests_support import DEMO_NOW


def _run(*args: str):
    context.reset()
    return CliRunner().invoke(app, list(args))


def _simulate(workload: str) -> dict:
    result = _run("simulate", "--workload", workload, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def seeded(cli_env, pin_clock):
    pin_clock(DEMO_NOW)
    engine = make_engine(cli_env)
    load(engine, [r.Price(provider="anthropic", model="claude-sonnet-4", effective_from=date(2026, 1, 1),
                          input_usd_per_mtok=Decimal(3), cached_input_usd_per_mtok=Decimal("0.3"),
                          output_usd_per_mtok=Decimal(15))], source="t", target="t")
    add_output_heavy(engine)
    add_local_serving(engine)
    yield engine
    engine.dispose()


def test_the_default_pairing_runs_v2_on_its_published_curve(seeded):
    out = _simulate(OUTPUT_HEAVY)  # gpt-4.1 pairs with Llama 3.3 70B on 2x H100: NIM's table applies
    v2 = out["v2_inputs"]
    assert out["contract_version"] == "v2" and v2["curve"] == "published"
    assert v2["measured"] == []  # no request logs, no vLLM scrapes: everything is assumed, and says so
    assert v2["inputs"]["deferrable_share"]["basis"] == "default"
    assert out["slo_concurrency"] == 25 and out["slo_met"] is True
    assert out["contract"]["plan_class"] == out["plan_class"]


def test_without_any_v2_input_the_figures_are_v1(seeded):
    # L4 has neither a published curve nor a published rate; nothing is measured: contract v1, its keys only
    result = _run("plan", "set", OUTPUT_HEAVY, "--model", "Llama 3.1 8B FP8", "--gpu", "L4", "--tp", "1",
                  "--throughput", "entered", "--input-tps", "8000", "--output-tps", "1000", "--hourly-rate", "0.80")
    assert result.exit_code == 0, result.output
    assert not rates_for(catalog_rates(), "L4", "on_demand")
    out = _simulate(OUTPUT_HEAVY)
    assert out["contract_version"] == "v1" and out["v2_inputs"]["contract"] == "v1"
    assert "slo_met" not in out and out["flip_sentence"] is None
    assert out["v2_inputs"]["measured"] == []
    assert out["v2_inputs"]["inputs"]["on_demand_hourly_rate"]["basis"] == "default"


def test_the_on_demand_tier_takes_the_catalogs_published_rate_unless_the_plan_sets_one(seeded):
    published = reference_rate(catalog_rates(), "H100")
    rate = _simulate(OUTPUT_HEAVY)["v2_inputs"]["inputs"]["on_demand_hourly_rate"]
    assert rate["basis"] == "published" and rate["value"] == float(published.usd_per_gpu_hour)
    assert rate["source"].startswith("published: GPU rate catalog") and published.source_url in rate["source"]
    assert published.provider in rate["source"]
    result = _run("plan", "set", OUTPUT_HEAVY, "--model", "Llama 3.3 70B FP8", "--gpu", "H100", "--tp", "2",
                  "--on-demand-rate", "6.98")
    assert result.exit_code == 0, result.output
    rate = _simulate(OUTPUT_HEAVY)["v2_inputs"]["inputs"]["on_demand_hourly_rate"]
    assert rate["basis"] == "plan" and rate["value"] == 6.98


def test_a_users_own_curve_file_is_the_published_curve_of_its_pair(seeded, tmp_path, monkeypatch):
    mine = tmp_path / "curves.csv"
    meta = {"curve_id": "my-bench", "model": "Llama 3.1 8B FP8", "gpu_type": "H100", "gpu_count": "1",
            "parallelism": "TP1", "precision": "fp8", "engine": "vLLM", "input_tokens": "1000",
            "output_tokens": "1000", "latency_statistic": "p95", "source_name": "our own load test",
            "source_version": "run 7", "source_url": "https://wiki.example.org/bench/7", "read_on": "2026-11-30"}
    points = [("1", "30", "6", "160"), ("64", "400", "20", "3100")]
    lines = [",".join(CURVE_COLUMNS)] + [",".join([*meta.values(), *p]) for p in points]
    mine.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("HYBRIDCOST_PUBLISHED_CURVES_CSV", str(mine))
    assert _run("plan", "set", OUTPUT_HEAVY, "--model", "Llama 3.1 8B FP8", "--gpu", "H100", "--tp", "1").exit_code == 0
    out = _simulate(OUTPUT_HEAVY)
    curve = out["v2_inputs"]["inputs"]["slo_curve"]
    assert out["v2_inputs"]["curve"] == "published" and curve["basis"] == "published"
    assert "our own load test" in curve["source"] and "https://wiki.example.org/bench/7" in curve["source"]
    assert [p["concurrency"] for p in curve["value"]] == [1, 64]
    assert out["slo_concurrency"] == 64  # 20 ms and 400 ms meet the default 50 ms / 2,000 ms targets


def test_plan_fields_feed_escalation_targets_and_lead_time(seeded):
    result = _run("plan", "set", OUTPUT_HEAVY, "--model", "Llama 3.3 70B FP8", "--gpu", "H100", "--tp", "2",
                  "--escalation-share", "0.2", "--lead-time-days", "30", "--p95-itl-ms", "100")
    assert result.exit_code == 0, result.output
    out = _simulate(OUTPUT_HEAVY)
    inputs = out["v2_inputs"]["inputs"]
    assert inputs["escalation_share"]["basis"] == "plan" and inputs["escalation_share"]["value"] == 0.2
    assert inputs["slo_targets"]["value"] == {"p95_itl_ms": 100.0, "p95_ttft_ms": 2000.0}
    # 100 ms ITL admits concurrency 50 (59.7 ms) and 100 (92.9 ms), but 100's first token takes 8 s
    assert out["slo_concurrency"] == 50
    assert out["escalated_cost"] == pytest.approx(0.2 * out["api_only_usd_month"] * out["hours"] / HOURS_PER_MONTH,
                                                  rel=1e-6)
    assert out["move"]["lead_time_days"] == 30


def test_the_platform_cost_comes_from_the_team_setting(seeded, monkeypatch):
    monkeypatch.setenv("HYBRIDCOST_PLATFORM_USD_PER_MONTH", "1000")
    monkeypatch.setenv("HYBRIDCOST_PLATFORM_USD_PER_MONTH_BY_TEAM", "content=9000, other=5")
    heavy, local = _simulate(OUTPUT_HEAVY), _simulate(LOCAL)
    assert heavy["v2_inputs"]["inputs"]["fixed_monthly"]["value"] == 9000
    assert local["v2_inputs"]["inputs"]["fixed_monthly"]["value"] == 1000
    for out, f in ((heavy, 9000), (local, 1000)):
        uses_gpus = out["optimal_replicas"] > 0 or out["on_demand_replica_hours"] > 0
        assert out["fixed_cost"] == pytest.approx(f * out["hours"] / HOURS_PER_MONTH if uses_gpus else 0.0)


@pytest.mark.parametrize("args, message", [
    (["--escalation-share", "1"], "below 1"),
    (["--p95-itl-ms", "0"], "above zero"),
    (["--lead-time-days", "-3"], "zero or more"),
    (["--on-demand-rate", "900"], "plausible range"),
])
def test_bad_v2_plan_fields_are_refused_in_one_line(seeded, args, message):
    result = _run("plan", "set", OUTPUT_HEAVY, "--model", "Llama 3.3 70B FP8", "--gpu", "H100", "--tp", "2", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_a_broken_rate_file_is_refused_in_one_line_naming_it(seeded, tmp_path, monkeypatch):
    mine = tmp_path / "rates.csv"
    mine.write_text("gpu_type,provider,offer,tier,usd_per_gpu_hour,gpus_per_instance,instance_usd_per_hour,region,"
                    "source_url,read_via,read_on,note\nH100,Us,8x H100,on_demand,55.04,8,55.04,,https://example.org,,"
                    "2026-11-30,\n")
    monkeypatch.setenv("HYBRIDCOST_GPU_RATES_CSV", str(mine))
    result = _run("simulate", "--workload", OUTPUT_HEAVY, "--json")
    assert result.exit_code == 2, result.output
    # a per-instance price in the per-GPU column: 55.04 is not 55.04 / 8
    assert f"error: {mine}:2: usd_per_gpu_hour 55.04 is not instance_usd_per_hour" in result.output
    assert len(result.output.strip().splitlines()) == 1


def _candidate(gpu_type: str | None, model: str = "Llama 3.3 70B FP8", tp: int = 2) -> Candidate:
    return Candidate(workload="w", chosen=False, replaces=None, api_class=None, model=model, gpu_type=gpu_type,
                     tensor_parallel=tp, pricing="rent", throughput_source="published", throughput_note="", gpu=None,
                     reason="")


def test_the_on_demand_rate_says_where_it_came_from():
    rates = catalog_rates()
    value, row = on_demand_rate(None, _candidate("H100"), rates)
    assert row.basis == "published" and value == float(reference_rate(rates, "H100").usd_per_gpu_hour)
    assert row.words().startswith("On-demand rate: assumed (published: GPU rate catalog")
    value, row = on_demand_rate(Plan(workload="w", choice="self_host", on_demand_usd_per_gpu_hour=2.5), _candidate("H100"), rates)
    assert (value, row.basis) == (2.5, "plan")
    for gpu_type in ("L4", None):
        value, row = on_demand_rate(None, _candidate(gpu_type), rates)
        assert value is None and row.basis == "default" and "no on-demand tier" in row.source
