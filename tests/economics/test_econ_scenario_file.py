"""Scenario YAML and demand CSV validation: each bad input gives one line naming file and place."""

from pathlib import Path

import pytest
import yaml

from models.scenario_file import ScenarioError, load_demand_csv, load_scenario, load_scenario_with_demand

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

GOOD = {
    "name": "t",
    "demand": "demand.csv",
    "api": {"input_per_mtok": 2.5, "cached_input_per_mtok": 1.25, "output_per_mtok": 10.0},
    "gpu": {"pricing": "rent", "hourly_rate": 2.99, "ops_per_gpu_month": 150,
            "input_tokens_per_s": 20000, "output_tokens_per_s": 2500, "max_utilization": 0.8},
}
HEADER = "hour,input_tokens,cached_input_tokens,output_tokens"
ROWS = ["2026-01-01T00:00:00Z,100,10,5", "2026-01-01T01:00:00+00:00,200,0,7", "2026-01-01T02:00:00Z,0,0,0"]


def write(tmp_path, doc=None, csv_lines=None):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(GOOD if doc is None else doc))
    (tmp_path / "demand.csv").write_text("\n".join([HEADER, *ROWS] if csv_lines is None else csv_lines) + "\n")
    return scenario


def with_key(section, key, value):
    doc = {**GOOD, section: {**GOOD[section]}}
    if value is ...:
        del doc[section][key]
    else:
        doc[section][key] = value
    return doc


def error_of(fn, *args) -> str:
    with pytest.raises(ScenarioError) as info:
        fn(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_good_scenario_loads_with_demand_relative_to_yaml(tmp_path):
    scenario, demand = load_scenario_with_demand(write(tmp_path))
    assert scenario.gpu.hourly_rate == 2.99 and scenario.api.batch_share == 0.0
    assert demand.hours == 3 and demand.input_tokens.tolist() == [100, 200, 0]


def test_example_scenario_loads():
    scenario, demand = load_scenario_with_demand(EXAMPLES / "tfd-labeling.yaml")
    assert scenario.name == "tfd-labeling" and demand.hours >= 72


def test_zero_price_is_valid(tmp_path):
    scenario = load_scenario(write(tmp_path, with_key("api", "cached_input_per_mtok", 0)))
    assert scenario.api.cached_input_per_mtok == 0


@pytest.mark.parametrize("section,key,value,expected", [
    ("api", "input_per_mtok", -1, "api.input_per_mtok: price must not be negative"),
    ("api", "output_per_mtok", ..., "api.output_per_mtok: missing price"),
    ("api", "input_per_mtok", "cheap", "api.input_per_mtok: must be a number"),
    ("api", "batch_share", 1.5, "api.batch_share: must be between 0 and 1"),
    ("api", "batch_discount", -0.1, "api.batch_discount: must be between 0 and 1"),
    ("gpu", "hourly_rate", ..., "gpu.hourly_rate: missing (required when gpu.pricing is rent)"),
    ("gpu", "hourly_rate", -2, "gpu.hourly_rate: must not be negative"),
    ("gpu", "max_utilization", 0, "gpu.max_utilization: utilization must be in (0, 1]"),
    ("gpu", "max_utilization", 1.2, "gpu.max_utilization: utilization must be in (0, 1]"),
    ("gpu", "output_tokens_per_s", 0, "gpu.output_tokens_per_s: throughput must be above zero"),
    ("gpu", "pricing", "lease", "gpu.pricing: unknown pricing mode 'lease'"),
    ("gpu", "hourly_rte", 3, "gpu.hourly_rte: unknown key"),
])
def test_bad_scenario_key_is_named(tmp_path, section, key, value, expected):
    message = error_of(load_scenario, write(tmp_path, with_key(section, key, value)))
    assert message.startswith(str(tmp_path / "s.yaml") + ": ")
    assert expected in message


def test_buy_mode_requires_only_buy_keys_and_rejects_zero_amortization(tmp_path):
    buy = {"pricing": "buy", "purchase_price": 30000, "amortization_months": 36, "power_watts": 700,
           "pue": 1.3, "electricity_per_kwh": 0.1, "ops_per_gpu_month": 500,
           "input_tokens_per_s": 20000, "output_tokens_per_s": 2500}
    assert load_scenario(write(tmp_path, {**GOOD, "gpu": buy})).gpu.hourly_rate is None
    message = error_of(load_scenario, write(tmp_path, {**GOOD, "gpu": {**buy, "amortization_months": 0}}))
    assert "gpu.amortization_months: must be above zero" in message
    no_power = {k: v for k, v in buy.items() if k != "power_watts"}
    assert "gpu.power_watts: missing (required when gpu.pricing is buy)" in error_of(
        load_scenario, write(tmp_path, {**GOOD, "gpu": no_power}))


@pytest.mark.parametrize("lines,expected", [
    ([], "demand file is empty"),
    ([HEADER], "demand file is empty"),
    (["hour,input_tokens,output_tokens", "2026-01-01T00:00:00Z,1,1"], "line 1: missing column(s) cached_input_tokens"),
    ([HEADER, ROWS[1], ROWS[0]], "line 3: hour: not sorted"),
    ([HEADER, ROWS[0], ROWS[0]], "line 3: hour: duplicate hour"),
    ([HEADER, ROWS[0], ROWS[2]], "line 3: hour: gap after"),
    ([HEADER, ROWS[0], "2026-01-01T01:00:00Z,-5,0,1"], "line 3: input_tokens: negative token count -5"),
    ([HEADER, ROWS[0], "2026-01-01T01:00:00Z,lots,0,1"], "line 3: input_tokens: not a number: 'lots'"),
    ([HEADER, ROWS[0], "2026-01-01T01:00:00Z,5,0,"], "line 3: output_tokens: missing value"),
    ([HEADER, ROWS[0], "2026-01-01T01:00:00Z,5,9,1"], "line 3: cached_input_tokens (9) exceeds input_tokens (5)"),
    ([HEADER, "2026-01-01T00:00:00,1,0,1"], "line 2: hour: '2026-01-01T00:00:00' has no time zone"),
    ([HEADER, "yesterday,1,0,1"], "line 2: hour: not an ISO 8601 timestamp"),
])
def test_bad_demand_names_file_and_line(tmp_path, lines, expected):
    write(tmp_path, csv_lines=lines)
    message = error_of(load_demand_csv, tmp_path / "demand.csv")
    assert message.startswith(str(tmp_path / "demand.csv") + ": ")
    assert expected in message


def test_non_utc_offset_is_converted_to_utc(tmp_path):
    write(tmp_path, csv_lines=[HEADER, "2026-01-01T01:00:00+01:00,1,0,1", "2026-01-01T01:00:00Z,1,0,1"])
    demand = load_demand_csv(tmp_path / "demand.csv")
    assert str(demand.hour[0]) == "2026-01-01T00:00:00"


def test_missing_files_and_bad_yaml(tmp_path):
    assert "cannot read file" in error_of(load_scenario, tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("api: [unclosed\n")
    assert error_of(load_scenario, bad).startswith(f"{bad}: ")
    doc = {k: v for k, v in GOOD.items() if k != "demand"}
    assert "demand: missing" in error_of(load_scenario_with_demand, write(tmp_path, doc))
    assert "cannot read demand file" in error_of(
        load_scenario_with_demand, write(tmp_path, {**GOOD, "demand": "other.csv"}))


def test_binary_files_are_rejected_in_one_line(tmp_path):
    write(tmp_path)
    (tmp_path / "demand.csv").write_bytes(b"hour,\xff\xfe\n")
    assert "not a UTF-8 text file" in error_of(load_demand_csv, tmp_path / "demand.csv")
