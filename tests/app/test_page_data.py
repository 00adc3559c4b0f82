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
    at.button[2].click()  # forms in page order: rule, price, exchange rate
    at.run()
    assert any("positive" in e.value for e in at.error)
    at.text_input(key="data_fx_currency").set_value("EUR")
    at.text_input(key="data_fx_rate").set_value("1.0832")
    at.button[2].click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.run()
    frames = [df.value for df in at.dataframe]
    assert any("rate" in f.columns and "EUR" in set(f["currency"]) for f in frames if "currency" in f.columns)
    assert any("entity" in f.columns and "fx_rate" in set(f["entity"]) for f in frames)
