"""Paths and small helpers shared by tests (imported as a plain module from tests/)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_ENTRY = str(REPO_ROOT / "app" / "streamlit_app.py")
# CI clones the repository into another folder with a copy of shared/ beside it.
SAMPLES = (REPO_ROOT.parent / "shared" / "samples").resolve()
FIXTURES = REPO_ROOT / "tests" / "fixtures"
