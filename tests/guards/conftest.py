"""Fixtures of the guard tests."""

from __future__ import annotations

import pytest

from guard_support import scalar

from tests.app.conftest import demo_env, demo_template_url  # noqa: F401  (the demo database for page tests)


@pytest.fixture
def no_run_left_running(cli_env):
    """After the test, no ingest run of its database is left `running`."""
    yield cli_env
    assert scalar(cli_env, "SELECT count(*) FROM ingest_runs WHERE status = 'running'") == 0
