"""GPU fleet page: empty state, utilization, idle cost, signals, measured throughput."""

from datetime import date

from tests.app.conftest import assert_clean, metrics, open_page, texts


def test_fleet_empty_database_says_what_to_load(cli_env):
    at = open_page("fleet")
    assert_clean(at)
    assert at.title[0].value == "GPU fleet"
    assert "hybridcost demo load" in texts(at)


def test_fleet_on_demo_shows_utilization_idle_cost_and_signals(demo_env):
    at = open_page("fleet")
    assert_clean(at)
    shown = metrics(at)
    assert shown["GPUs"] == "8"
    assert shown["Idle cost"].startswith("$") and shown["Idle cost"] != "$0.00"
    tables = [df.value for df in at.dataframe]
    assert any("signal" in t.columns and len(t) for t in tables)
    throughput = tables[-1]
    assert len(throughput) == 1 and throughput["generation_tokens_per_s"].iloc[0] > 0


def test_fleet_date_range_changes_the_numbers(demo_env):
    month = metrics(open_page("fleet"))["GPU cost"]
    week = metrics(open_page("fleet", date_range=(date(2026, 11, 14), date(2026, 11, 20))))["GPU cost"]
    assert month != week


def test_fleet_says_plainly_when_gpus_look_busy_but_their_sms_are_not(demo_env):
    at = open_page("fleet")
    assert_clean(at)
    warnings = [w.value for w in at.warning]
    # the demo's vLLM GPUs: utilization reads high while under half their SMs are active
    busy = [w for w in warnings if "of SMs active over" in w and "looks busy" in w]
    assert busy and all(w.startswith("GPU-") and "gpu-node-1" in w for w in busy)
    (endpoint,) = [w for w in warnings if w.startswith("gpu-node-1 (8 GPUs, gpu-node-1:8000, segment-labeling)")]
    assert "of SM time was active" in endpoint and "on the model's curve" in endpoint
    assert "of busy GPU time" in endpoint and "produced no tokens" in endpoint
    sm_table = next(df.value for df in at.dataframe if "sm_active_gpu_hours" in df.value.columns)
    row = sm_table.iloc[0]
    assert row["mapping"] == "host" and 0 < row["delivered_frac"] < 1 and row["capacity_not_delivered_usd"] > 0
