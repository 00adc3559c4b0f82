"""What-if page: inputs drive the curve and waterfall; scenarios save and compare."""

from tests.app.conftest import assert_clean, metrics, open_page


def test_whatif_empty_database_uses_the_synthetic_shape(cli_env):
    at = open_page("whatif")
    assert_clean(at)
    assert at.title[0].value == "What-if"
    assert metrics(at)["Volume (per month)"] in ("1.0B tok", "1,000.0M tok")


def test_whatif_inputs_change_costs_and_waterfall(demo_env):
    at = open_page("whatif", whatif_workload="support-assistant")
    assert_clean(at)
    before = metrics(at)
    waterfall = at.dataframe[0].value
    assert list(waterfall["lever"]) == ["today", "cache", "batch", "route", "move", "after levers"]
    at.slider(key="whatif_cache_support-assistant").set_value(0.3)
    at.number_input(key="whatif_growth").set_value(10.0)
    at.number_input(key="whatif_months_ahead").set_value(6)
    at.run()
    assert_clean(at)
    after = metrics(at)
    assert after["Volume (per month)"] != before["Volume (per month)"]
    assert after["API only (USD/month)"] != before["API only (USD/month)"]
    cache_saving = at.dataframe[0].value.set_index("lever").loc["cache", "saving_usd_month"]
    assert cache_saving > 0


def test_whatif_saves_and_compares_scenarios(demo_env):
    at = open_page("whatif", whatif_workload="support-assistant")
    at.text_input(key="whatif_scenario_name").set_value("")
    at.button[0].click()
    at.run()
    assert any("scenario name is required" in e.value for e in at.error)
    at.text_input(key="whatif_scenario_name").set_value("support on 2x L40S")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert any("Saved scenario" in s.value for s in at.success)
    compared = at.dataframe[-1].value
    assert "support on 2x L40S" in set(compared["scenario"])
    assert "segment-labeling on 4x H100" in set(compared["scenario"])  # the demo's saved scenario


def test_whatif_lever_sliders_start_at_the_measured_shares(demo_env):
    from datetime import datetime, time, timedelta, timezone

    import sqlalchemy as sa

    from models.discipline import lever_shares_by_workload
    from tests.app.conftest import DEMO_RANGE

    since = datetime.combine(DEMO_RANGE[0], time(0), tzinfo=timezone.utc)
    until = datetime.combine(DEMO_RANGE[1] + timedelta(days=1), time(0), tzinfo=timezone.utc)
    engine = sa.create_engine(demo_env)
    with engine.connect() as conn:
        measured = lever_shares_by_workload(conn, since, until)["support-assistant"]
    engine.dispose()
    at = open_page("whatif", whatif_workload="support-assistant")
    assert_clean(at)
    assert measured["repeat_share"] is not None and measured["repeat_share"] > 0
    assert at.slider(key="whatif_cache_support-assistant").value == round(min(0.9, measured["repeat_share"]), 2)
    assert at.slider(key="whatif_batchable_support-assistant").value == round(measured["batchable_share"], 2)
