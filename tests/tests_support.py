"""Paths and small helpers shared by tests (imported as a plain module from tests/)."""

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_ENTRY = str(REPO_ROOT / "app" / "streamlit_app.py")
# CI clones the repository into another folder with a copy of shared/ beside it.
SAMPLES = (REPO_ROOT.parent / "shared" / "samples").resolve()
FIXTURES = REPO_ROOT / "tests" / "fixtures"
# The demo's anchor in every test that loads it; the product's clock is pinned there too.
DEMO_NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def require_program(name: str, install_hint: str | None = None) -> str:
    """The path of a program, or skip (fail under HYBRIDCOST_REQUIRE_SYSTEM_TESTS=1)."""
    path = shutil.which(name)
    if path:
        return path
    reason = f"{name} is not installed ({install_hint or f'apt-get install {name}'})"
    if os.environ.get("HYBRIDCOST_REQUIRE_SYSTEM_TESTS") == "1":
        pytest.fail(reason + " but HYBRIDCOST_REQUIRE_SYSTEM_TESTS=1")
    pytest.skip(reason)


def require_system_run(what: str) -> None:
    """Skip a long system test unless HYBRIDCOST_REQUIRE_SYSTEM_TESTS=1 (as .ci/run sets it), saying so."""
    if os.environ.get("HYBRIDCOST_REQUIRE_SYSTEM_TESTS") != "1":
        pytest.skip(f"{what} runs in CI (.ci/run) or with HYBRIDCOST_REQUIRE_SYSTEM_TESTS=1")
