"""The dashboard entry point runs under AppTest with no exception, on an empty and a loaded database."""

from streamlit.testing.v1 import AppTest

from tests_support import APP_ENTRY


def test_entry_point_runs_on_empty_database(cli_env):
    at = AppTest.from_file(APP_ENTRY, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert any("No token usage" in info.value for info in at.info)
