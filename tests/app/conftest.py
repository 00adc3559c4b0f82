"""App-test fixtures: a demo-loaded database and a page opener (caches are cleared in tests/conftest.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from models.economics.flips import KIND_LABELS
from models.infra.database import make_engine
from models.planning import default_period, plan_workload
from tests_support import APP_ENTRY, DEMO_NOW

DEMO_RANGE = (date(2026, 10, 21), date(2026, 11, 20))


def _admin(admin_url: str, statement: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def _url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def demo_template_url(pg_admin_url: str, template_db_url: str) -> Iterator[str]:
    """A migrated database with the demo loaded once (anchor DEMO_NOW); tests clone it."""
    from ingest.demo import load_demo

    name = f"hc_demo_{uuid.uuid4().hex[:8]}"
    _admin(pg_admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template_db_url).database}"')
    url = _url(pg_admin_url, name)
    engine = make_engine(url)
    load_demo(engine, now=DEMO_NOW)
    engine.dispose()
    yield url
    _admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def demo_env(pg_admin_url: str, demo_template_url: str, tmp_path, monkeypatch) -> Iterator[str]:
    """DATABASE_URL set to a fresh clone of the demo database, the clock pinned at its anchor (dropped after)."""
    name = f"hc_test_{uuid.uuid4().hex[:10]}"
    _admin(pg_admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{make_url(demo_template_url).database}"')
    url = _url(pg_admin_url, name)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HYBRIDCOST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HYBRIDCOST_AS_OF", DEMO_NOW.isoformat())  # the product's clock is the demo's anchor
    yield url
    _admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def open_page(page: str, *, date_range: tuple[date, date] | None = DEMO_RANGE, **state) -> AppTest:
    """Run the entry point, switch to app_pages/<page>.py and run it, with the date range and state set."""
    at = AppTest.from_file(APP_ENTRY, default_timeout=120)
    if date_range is not None:
        at.session_state["filters_range"] = date_range
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(f"app_pages/{page}.py")
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    """Metric label -> shown value."""
    return {m.label: m.value for m in at.metric}


def frame_with(at: AppTest, *columns: str) -> pl.DataFrame:
    """The first table on the page that has all these columns, as a polars frame."""
    for element in at.dataframe:
        if all(c in element.value.columns for c in columns):
            return pl.from_pandas(element.value)
    raise AssertionError(f"no table with columns {columns}")


def texts(at: AppTest) -> str:
    """Every info, warning, success, caption and markdown text on the page, joined."""
    parts = [e.value for kind in (at.info, at.warning, at.success, at.caption, at.markdown) for e in kind]
    return "\n".join(str(p) for p in parts)


def plan_of(db_url: str, workload: str):
    """The planning path's figures for a demo workload over the default period at the demo anchor."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return plan_workload(conn, workload, *default_period(DEMO_NOW), now=DEMO_NOW)
    finally:
        engine.dispose()


def assert_tornado_is_the_plans(at: AppTest, figures) -> None:
    """The page's "What flips" tornado has one bar per flip point of the plan, ending at its multiplier."""
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    tornado = next(c for c in charts if "What flips" in c["layout"].get("title", {}).get("text", ""))
    ends = {b["y"][0]: b["base"][0] + b["x"][0] for b in tornado["data"] if b["type"] == "bar"}
    want = {KIND_LABELS[k]: m for k, m in figures.result.flips.items() if m is not None}
    assert want and ends.keys() == want.keys() and all(abs(ends[k] - want[k]) < 1e-12 for k in want)


def assert_clean(at: AppTest) -> None:
    """No exception and no error element on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
