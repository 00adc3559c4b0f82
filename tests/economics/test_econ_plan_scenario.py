"""The plan: and slo: blocks and the peak_factor column: every refusal is one line naming the key, exit 2."""

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from app.cli.simulate import register
from models.economics.plan_inputs import peak_factors
from models.scenario_file import ScenarioError, load_scenario, load_scenario_with_demand

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
WORKED = yaml.safe_load((EXAMPLES / "v2-worked.yaml").read_text())
CSV = (EXAMPLES / "v2-worked.csv").read_text()
V1_KEYS = {"hours", "api_only_cost", "gpu_hourly_cost", "peak_replicas", "gpu_only_cost", "optimal_replicas",
           "hybrid_cost", "breakeven_utilization", "replica_can_pay", "breakeven_demand_multiplier",
           "breakeven_monthly_tokens"}
V2_KEYS = {"slo_met", "slo_concurrency", "slo_output_tokens_per_s", "slo_input_tokens_per_s", "escalated_cost",
           "fixed_cost", "on_demand_replica_hours", "on_demand_cost", "deferred_local_share",
           "api_peak_tokens_per_minute", "plan_class", "flips"}


def write(tmp_path, doc, csv_text=CSV):
    (tmp_path / "v2-worked.csv").write_text(csv_text)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def changed(section, key, value):
    doc = json.loads(json.dumps(WORKED))
    if value is ...:
        del doc[section][key]
    else:
        doc[section][key] = value
    return doc


def error_of(tmp_path, doc, csv_text=CSV) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario_with_demand(write(tmp_path, doc, csv_text))
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("section", "key", "value", "expected"), [
    ("plan", "escalation_share", 1, "plan.escalation_share: must be at least 0 and below 1, got 1"),
    ("plan", "escalation_share", -0.1, "plan.escalation_share: must be at least 0 and below 1, got -0.1"),
    ("plan", "deferrable_share", 1.5, "plan.deferrable_share: must be between 0 and 1, got 1.5"),
    ("plan", "peak_factor", 0.9, "plan.peak_factor: must be at least 1"),
    ("plan", "fixed_monthly", -1, "plan.fixed_monthly: must not be negative, got -1"),
    ("plan", "on_demand_hourly_rate", 0, "plan.on_demand_hourly_rate: rate must be above zero, got 0"),
    ("plan", "lead_time_days", -3, "plan.lead_time_days: must not be negative, got -3"),
    ("plan", "escalation_share", "a lot", "plan.escalation_share: must be a number, got 'a lot'"),
    ("plan", "fixed_monthly", True, "plan.fixed_monthly: must be a number, got True"),
    ("plan", "peak_factor", float("inf"), "plan.peak_factor: must be a finite number"),
    ("plan", "spillover", 1, "plan.spillover: unknown key"),
    ("slo", "p95_itl_ms", ..., "slo.p95_itl_ms: missing"),
    ("slo", "p95_ttft_ms", ..., "slo.p95_ttft_ms: missing"),
    ("slo", "p95_itl_ms", 0, "slo.p95_itl_ms: target must be above zero, got 0"),
    ("slo", "p95_ttft_ms", -5, "slo.p95_ttft_ms: target must be above zero, got -5"),
    ("slo", "curve", ..., "slo.curve: missing"),
    ("slo", "curve", [], "slo.curve: must be a list of at least one point"),
    ("slo", "curve", "fast", "slo.curve: must be a list of at least one point"),
    ("slo", "curve", [7], "slo.curve[0]: must be a mapping"),
    ("slo", "p99_itl_ms", 50, "slo.p99_itl_ms: unknown key"),
])
def test_each_bad_block_value_names_its_key(tmp_path, section, key, value, expected):
    message = error_of(tmp_path, changed(section, key, value))
    assert message.startswith(f"{tmp_path / 's.yaml'}: {expected}")


@pytest.mark.parametrize("missing", ["concurrency", "input_tokens_per_s", "output_tokens_per_s", "p95_itl_ms",
                                     "p95_ttft_ms"])
def test_every_curve_point_needs_all_five_keys(tmp_path, missing):
    doc = changed("slo", "p95_itl_ms", 50)
    del doc["slo"]["curve"][1][missing]
    assert f"slo.curve[1].{missing}: missing" in error_of(tmp_path, doc)


@pytest.mark.parametrize(("key", "value"), [("concurrency", 0), ("output_tokens_per_s", -1), ("p95_ttft_ms", 0)])
def test_every_curve_value_is_positive(tmp_path, key, value):
    doc = changed("slo", "p95_itl_ms", 50)
    doc["slo"]["curve"][2][key] = value
    assert f"slo.curve[2].{key}: must be above zero" in error_of(tmp_path, doc)


def test_unknown_curve_key_and_non_number(tmp_path):
    doc = changed("slo", "p95_itl_ms", 50)
    doc["slo"]["curve"][0]["gpu"] = "H100"
    assert "slo.curve[0].gpu: unknown key" in error_of(tmp_path, doc)
    doc = changed("slo", "p95_itl_ms", 50)
    doc["slo"]["curve"][0]["p95_itl_ms"] = "fast"
    assert "slo.curve[0].p95_itl_ms: must be a number" in error_of(tmp_path, doc)


def test_deferrable_share_with_a_batch_share_is_refused(tmp_path):
    doc = changed("api", "batch_share", 0.2)
    assert "plan.deferrable_share: must be 0 while api.batch_share is above 0" in error_of(tmp_path, doc)
    doc["plan"]["deferrable_share"] = 0  # the batch share alone is fine
    load_scenario_with_demand(write(tmp_path, doc))


def test_blocks_must_be_mappings(tmp_path):
    doc = changed("plan", "escalation_share", 0.1)
    doc["plan"] = [1, 2]
    assert "plan: must be a mapping" in error_of(tmp_path, doc)
    doc = changed("plan", "escalation_share", 0.1)
    doc["slo"] = None
    assert "slo.p95_itl_ms: missing" in error_of(tmp_path, doc)


def test_an_empty_plan_block_takes_every_default(tmp_path):
    doc = {k: v for k, v in WORKED.items() if k not in ("plan", "slo")}
    doc["plan"] = None
    scenario = load_scenario(write(tmp_path, doc))
    assert scenario.plan is not None and scenario.plan.escalation_share == 0 and scenario.plan.peak_factor == 1
    assert scenario.plan.on_demand_hourly_rate is None and scenario.slo is None


HEADER = "hour,input_tokens,cached_input_tokens,output_tokens,peak_factor"


def test_peak_factor_column_wins_with_a_plan_and_an_empty_cell_takes_the_plan_value(tmp_path):
    rows = CSV.strip().splitlines()[1:]
    csv_text = "\n".join([HEADER] + [r + (",2" if i == 1 else ",") for i, r in enumerate(rows)]) + "\n"
    scenario, demand = load_scenario_with_demand(write(tmp_path, WORKED, csv_text))
    assert demand.peak_factor[1] == 2 and all(v != v for j, v in enumerate(demand.peak_factor) if j != 1)
    assert peak_factors(scenario.plan, demand.peak_factor, demand.hours).tolist() == [1.5, 2, 1.5, 1.5, 1.5, 1.5]


def test_peak_factor_column_is_validated_with_a_plan_and_ignored_without(tmp_path):
    rows = CSV.strip().splitlines()[1:]
    bad = "\n".join([HEADER] + [r + (",0.5" if i == 2 else ",1") for i, r in enumerate(rows)]) + "\n"
    message = error_of(tmp_path, WORKED, bad)
    assert message.startswith(f"{tmp_path / 'v2-worked.csv'}: line 4: peak_factor: must be at least 1")
    junk = "\n".join([HEADER] + [r + ",abc" for r in rows]) + "\n"
    assert "line 2: peak_factor: not a number: 'abc'" in error_of(tmp_path, WORKED, junk)
    v1 = {k: v for k, v in WORKED.items() if k not in ("plan", "slo")}
    _, demand = load_scenario_with_demand(write(tmp_path, v1, junk))
    assert demand.peak_factor is None


# --- through the command ----------------------------------------------------------


def run(*args):
    app = typer.Typer()
    register(app)
    app.command("version")(lambda: None)
    return CliRunner().invoke(app, ["simulate", *map(str, args)])


def test_cli_json_has_every_v2_key_and_the_worked_figures():
    result = run(EXAMPLES / "v2-worked.yaml", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == V1_KEYS | V2_KEYS
    assert data["plan_class"] == "hybrid" and data["optimal_replicas"] == 1
    assert data["hybrid_cost"] == pytest.approx(47.465625) and data["flips"]["throughput"] == 2 ** (-17 / 24)


def test_cli_without_either_block_prints_only_v1_keys():
    result = run(EXAMPLES / "tfd-labeling.yaml", "--json")
    assert result.exit_code == 0 and set(json.loads(result.stdout)) == V1_KEYS


def test_cli_refuses_a_bad_block_with_one_line_and_exit_2(tmp_path):
    result = run(write(tmp_path, changed("plan", "escalation_share", 1)), "--json")
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "plan.escalation_share" in lines[0] and "Traceback" not in result.output


def test_cli_summary_says_the_plan_and_its_flips():
    result = run(EXAMPLES / "v2-worked.yaml")
    assert result.exit_code == 0, result.output
    assert "concurrency 8" in result.stdout and "On-demand" in result.stdout
    assert "This answer flips to tokens if" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("Own 1 replica")


def test_utc_days_are_taken_after_converting_offsets(tmp_path):
    """The worked demand written at +05:00: the same instants, so the same UTC days and figures."""
    from datetime import datetime, timedelta, timezone

    rows = []
    for line in CSV.strip().splitlines()[1:]:
        stamp, rest = line.split(",", 1)
        local = datetime.fromisoformat(stamp).astimezone(timezone(timedelta(hours=5)))
        rows.append(f"{local.isoformat()},{rest}")
    path = write(tmp_path, WORKED, "hour,input_tokens,cached_input_tokens,output_tokens\n" + "\n".join(rows) + "\n")
    assert rows[0].startswith("2026-10-02T02:00:00+05:00")  # a local date that is not the UTC date
    result = run(path, "--json")
    assert json.loads(result.stdout)["deferred_local_share"] == pytest.approx(0.6875)
