"""Data page: runs, rules, prices, unpriced rows; the add-rule and add-price forms validate and write."""

from datetime import date

from tests.app.conftest import assert_clean, metrics, open_page, texts


def test_data_empty_database_says_what_to_load(cli_env):
    at = open_page("data")
    assert_clean(at)
    assert at.title[0].value == "Data"
    assert "hybridcost demo load" in texts(at)


def test_data_on_demo_lists_runs_rules_prices_and_unpriced(demo_env):
    at = open_page("data")
    assert_clean(at)
    assert metrics(at)["Failed runs"] == "0"
    assert "USD per 1,000,000 tokens" in texts(at)
    models = set().union(*(set(df.value["model"]) for df in at.dataframe if "model" in df.value.columns))
    assert "gpt-4o-realtime-preview" in models


def _price_form(at, **values):
    for key, value in values.items():
        at.text_input(key=f"data_price_{key}").set_value(value)
    at.button[1].click()  # forms in page order: rule, price
    return at.run()


def test_data_add_price_validates_then_prices_the_unpriced_model(demo_env):
    at = open_page("data")
    at = _price_form(at, provider="openai", model="gpt-4o-realtime-preview", input="abc", output="20")
    assert any("must be a number" in e.value for e in at.error)
    at = _price_form(at, input="-1")
    assert any("non-negative" in e.value for e in at.error)
    at.date_input(key="data_price_from").set_value(date(2026, 1, 1))
    at = _price_form(at, input="5", output="20")
    assert not at.error and not at.exception
    at.run()
    assert "Every usage row in this period has a price" in texts(at)


def test_data_add_rule_validates_and_allocates(demo_env):
    at = open_page("data")
    at.text_input(key="data_rule_workload").set_value("sandbox")
    at.button[0].click()
    at.run()
    assert any("pattern is required" in e.value for e in at.error)
    at.selectbox(key="data_rule_field").set_value("project_id")
    at.text_input(key="data_rule_pattern").set_value("proj_sandbox")
    at.button[0].click()
    at.run()
    assert not at.exception and not at.error
    assert "sandbox" in set(at.dataframe[2].value["workload"])


def test_data_fx_rate_form_validates_saves_and_is_audited(demo_env):
    at = open_page("data")
    at.text_input(key="data_fx_currency").set_value("EUR")
    at.text_input(key="data_fx_rate").set_value("-2")
    at.button[3].click()  # forms in page order: rule, price, GPU profile, exchange rate
    at.run()
    assert any("positive" in e.value for e in at.error)
    at.text_input(key="data_fx_currency").set_value("EUR")
    at.text_input(key="data_fx_rate").set_value("1.0832")
    at.button[3].click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.run()
    frames = [df.value for df in at.dataframe]
    assert any("rate" in f.columns and "EUR" in set(f["currency"]) for f in frames if "currency" in f.columns)
    assert any("entity" in f.columns and "fx_rate" in set(f["entity"]) for f in frames)


def test_data_price_per_token_is_refused_with_a_hint_unless_accepted(demo_env):
    at = open_page("data")
    at = _price_form(at, provider="openai", model="gpt-4o-realtime-preview", input="0.0000025", output="0.00001")
    assert any("looks like a per-token price: 2.50 per Mtok?" in e.value for e in at.error)
    at = _price_form(at, input="2500", output="10")
    assert any("outside the plausible range 0..1000 USD per 1M tokens" in e.value for e in at.error)
    at.checkbox(key="data_price_accept").check()
    at = _price_form(at, input="2500", output="10")
    assert not at.error and not at.exception
    at.run()
    audit = next(df.value for df in at.dataframe if "entity" in df.value.columns)
    price = audit[audit["entity"] == "price"].iloc[0]
    assert "accepted as real" in price["note"]


def _profile_form(at, suffix, **values):
    for key, value in values.items():
        if key == "pricing":
            at.selectbox(key=f"data_gpu_pricing_{suffix}").set_value(value)
        else:
            at.text_input(key=f"data_gpu_{key}_{suffix}").set_value(value)
    at.button[2].click()  # forms in page order: rule, price, GPU profile
    return at.run()


def test_data_gpu_profile_form_creates_edits_and_audits(demo_env):
    at = open_page("data")
    at = _profile_form(at, "new", name="l40s-pool", gpu_type="L40S", gpu_count="4", pricing="rent",
                       host_pattern="l40-*", hourly_rate_usd="950")
    assert any("Rent: USD per GPU-hour = 950 is outside" in e.value for e in at.error)
    at = _profile_form(at, "new", hourly_rate_usd="1.10", ops_usd_per_gpu_month="100")
    assert not at.error and not at.exception, [e.value for e in at.error]
    at.run()
    profiles = next(df.value for df in at.dataframe if "host_pattern" in df.value.columns)
    row = profiles[profiles["name"] == "l40s-pool"].iloc[0]
    assert abs(row["usd_per_gpu_hour"] - (1.10 + 100 / 730)) < 1e-9
    at.selectbox(key="data_gpu_profile").set_value("l40s-pool")
    at.run()
    at = _profile_form(at, "l40s-pool", gpu_count="6")
    assert not at.error and not at.exception, [e.value for e in at.error]
    at.run()
    audit = next(df.value for df in at.dataframe if "entity" in df.value.columns)
    actions = audit[(audit["entity"] == "gpu_profile") & (audit["entity_key"] == "l40s-pool")]["action"].tolist()
    assert actions == ["update", "create"]  # newest first
