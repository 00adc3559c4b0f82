"""Test databases on a real PostgreSQL: the embedded server, or HYBRIDCOST_TEST_DATABASE_URL.

Each session migrates one template database; a test that commits gets a database cloned
from it and dropped afterwards. Tests never read DATABASE_URL or the user's data folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import make_url

# Hide the user's configuration before anything reads it.
for _name in ("DATABASE_URL", "HYBRIDCOST_DATABASE_URL", "HYBRIDCOST_DATA_DIR"):
    os.environ.pop(_name, None)
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
# No background cache warming in tests (each would start a thread per cleared cache); tests of it turn it on.
os.environ["HYBRIDCOST_CACHE_WARM_SECONDS"] = "0"

REPO_ROOT = Path(__file__).resolve().parent.parent

# CI runs the same examples every time (a red build must be reproducible); locally they vary.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
from tests_support import FIXTURES, SAMPLES  # noqa: E402


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """An admin URL on a server where tests may create and drop databases."""
    given = os.environ.get("HYBRIDCOST_TEST_DATABASE_URL")
    if given:
        from models.infra.database import normalise_url

        yield normalise_url(given)
        return
    from models.infra import embedded

    data_dir = Path(tempfile.mkdtemp(prefix="hybridcost-test-"))
    socket_dir = embedded.start(data_dir)
    try:
        yield embedded.url_for(socket_dir, "postgres")
    finally:
        try:
            embedded.stop(data_dir)
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(data_dir, ignore_errors=True)


def _admin_execute(admin_url: str, *statements: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for stmt in statements:
                conn.execute(sa.text(stmt))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def template_db_url(pg_admin_url: str) -> Iterator[str]:
    """A database migrated to head, used as the template of every test database."""
    from models.infra.migrate import upgrade

    name = f"hc_template_{uuid.uuid4().hex[:8]}"
    _admin_execute(pg_admin_url, f'CREATE DATABASE "{name}"')
    url = _with_database(pg_admin_url, name)
    upgrade(url)
    yield url
    _admin_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_db_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh database with no schema, dropped after the test."""
    name = f"hc_test_{uuid.uuid4().hex[:10]}"
    _admin_execute(pg_admin_url, f'CREATE DATABASE "{name}"')
    yield _with_database(pg_admin_url, name)
    _admin_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_url(pg_admin_url: str, template_db_url: str) -> Iterator[str]:
    """A migrated database of the test's own, cloned from the template and dropped after."""
    name = f"hc_test_{uuid.uuid4().hex[:10]}"
    template = make_url(template_db_url).database
    _admin_execute(pg_admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _with_database(pg_admin_url, name)
    _admin_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """An engine on the test's own database."""
    from models.infra.database import make_engine

    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at the test's database and a scratch data folder."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("HYBRIDCOST_DATA_DIR", str(tmp_path / "data"))
    return db_url


@pytest.fixture
def pin_clock(monkeypatch: pytest.MonkeyPatch):
    """Pin the product's clock (HYBRIDCOST_AS_OF, inherited by subprocesses) for this test."""
    from models.clock import ENV_NAME

    def pin(moment: datetime) -> datetime:
        monkeypatch.setenv(ENV_NAME, moment.isoformat())
        return moment

    return pin


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The shared real sample payloads."""
    if not SAMPLES.is_dir():
        pytest.skip(f"samples folder {SAMPLES} is missing")
    return SAMPLES


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Hand-made fixtures for formats with no public sample (tests/fixtures/README.md)."""
    return FIXTURES


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """Each test starts with no cached CLI settings or engine and empty Streamlit caches."""
    import streamlit as st

    from app.cli import context

    context.reset()
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    context.reset()
    st.cache_resource.clear()
    st.cache_data.clear()
