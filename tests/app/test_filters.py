"""The shared view: parsed from and written to the address, the same on every page, one default range."""

from datetime import date, timedelta

from streamlit.testing.v1 import AppTest

from app.ui.filters import DEFAULT_DAYS, default_range, view_from_url, view_to_url
from tests.app.conftest import assert_clean, metrics, open_page
from tests_support import APP_ENTRY, DEMO_NOW

TODAY = date(2026, 11, 20)
WORKLOADS, TEAMS = ["code-review", "doc-summaries", "unallocated"], ["engineering", "knowledge", "unallocated"]


def _param(at: AppTest, key: str) -> list[str]:
    value = at.query_params[key]
    return [value] if isinstance(value, str) else list(value)


def test_view_round_trips_through_the_address():
    params = view_to_url(date(2026, 11, 1), date(2026, 11, 15), ["code-review"], ["engineering", "knowledge"])
    values, problems = view_from_url(params, today=TODAY, workloads=WORKLOADS, teams=TEAMS)
    assert problems == []
    assert values == {"filters_range": (date(2026, 11, 1), date(2026, 11, 15)), "filters_workloads": ["code-review"],
                      "filters_teams": ["engineering", "knowledge"]}


def test_bad_address_values_are_said_and_left_out():
    values, problems = view_from_url({"from": ["2026-13-01"], "to": ["2026-11-15"], "team": ["engineering", "nope"]},
                                     today=TODAY, workloads=WORKLOADS, teams=TEAMS)
    assert "filters_range" not in values and values["filters_teams"] == ["engineering"]
    assert any("YYYY-MM-DD" in p for p in problems) and any("'nope'" in p for p in problems)
    values, problems = view_from_url({"from": ["2026-11-15"], "to": ["2026-11-01"]}, today=TODAY,
                                     workloads=WORKLOADS, teams=TEAMS)
    assert values == {} and "after it ends" in problems[0]


def test_one_default_range_for_every_page(demo_env):
    assert default_range(TODAY) == (TODAY - timedelta(days=DEFAULT_DAYS - 1), TODAY)
    for page in ("overview", "breakeven"):
        at = open_page(page, date_range=None)
        assert at.session_state["filters_range"] == default_range(DEMO_NOW.date())


def test_address_opens_the_view_and_page_switches_keep_it(demo_env):
    at = AppTest.from_file(APP_ENTRY, default_timeout=120)
    at.query_params["from"] = "2026-11-01"
    at.query_params["to"] = "2026-11-15"
    at.query_params["team"] = "engineering"
    at.run()
    assert_clean(at)
    assert at.session_state["filters_range"] == (date(2026, 11, 1), date(2026, 11, 15))
    assert at.session_state["filters_teams"] == ["engineering"]
    linked = metrics(at)["Token spend"]
    direct = metrics(open_page("overview", date_range=(date(2026, 11, 1), date(2026, 11, 15)),
                               filters_teams=["engineering"]))["Token spend"]
    assert linked == direct
    for page in ("spend", "workloads", "breakeven", "workflow", "overview"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert_clean(at)
        assert at.session_state["filters_range"] == (date(2026, 11, 1), date(2026, 11, 15)), page
        assert at.session_state["filters_teams"] == ["engineering"], page
        assert _param(at, "from") == ["2026-11-01"] and _param(at, "team") == ["engineering"], page
    assert metrics(at)["Token spend"] == linked
