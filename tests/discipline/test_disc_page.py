"""The Workflow page under AppTest: empty state, and a scorecard with data."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from disc_traffic import DAY, build, price_records
from ingest.loader import load
from tests_support import APP_ENTRY




def _open(range_: tuple[date, date] | None = None) -> AppTest:
    at = AppTest.from_file(APP_ENTRY, default_timeout=60)
    if range_:
        at.session_state["filters_range"] = range_
    at.run()
    at.switch_page("app_pages/workflow.py").run()
    assert not at.exception, at.exception
    return at


def test_disc_page_empty(cli_env):
    at = _open()
    assert at.title[0].value == "Workflow"
    assert any("No per-request data" in i.value for i in at.info)


def test_disc_page_with_data(cli_env):
    engine = sa.create_engine(cli_env)
    try:
        load(engine, price_records(), source="test", target="prices")
        load(engine, build().records(), source="test", target="usage_requests")
    finally:
        engine.dispose()
    at = _open((DAY, DAY + timedelta(days=0)))
    labels = [m.label for m in at.metric]
    assert labels == ["Cache could save (in logs)", "Batch could save (in logs)", "Routing could save (in logs)",
                      "429 rate"]
    assert all(m.help for m in at.metric)
    assert at.metric[3].value != "—"
    frame = at.dataframe[0].value
    assert set(frame["group"]) == {"alpha", "beta", "gamma"}
    assert any("no price in effect" in w.value for w in at.warning)
    at.sidebar.radio[0].set_value("workload").run()
    assert not at.exception
    assert set(at.dataframe[0].value["group"]) == {"chat", "review", "ingest"}


def test_disc_charts_without_streamlit():
    """The chart functions return figures for a scorecard and for an empty one."""
    import polars as pl

    from app.charts.workflow import saturation, savings_ranked
    from models.discipline import derive
    from models.queries.discipline import MONEY

    raw = pl.DataFrame({"group": ["a", "b"], "attempts": [10, 5], "requests": [9, 5], "fingerprinted_requests": [9, 0],
                        "repeat_requests": [3, 0], "reasoning_requests": [1, 0], "reasoning_tokens": [50, 0],
                        "routable_requests": [1, 0], "loop_requests": [0, 3], "batch_candidates": [2, 0],
                        "rate_limited": [1, 0], "latency_p50_ms": [10.0, None], "latency_p95_ms": [20.0, None],
                        "unpriced_requests": [0, 0]})
    raw = raw.with_columns(*[pl.lit(1, dtype=pl.Decimal(38, 10)).alias(m) for m in MONEY])
    card = derive(raw)
    assert card["repeat_share"].to_list()[card["group"].to_list().index("b")] is None
    assert len(savings_ranked(card).data) == 3
    assert len(saturation(card).data) == 2
    assert savings_ranked(card.head(0)).layout.annotations
