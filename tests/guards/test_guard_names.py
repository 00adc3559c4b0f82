"""Names that cannot impersonate: bidi and zero-width characters shown escaped everywhere, kept exact in the DB."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from guard_support import run_cli

from app.charts.spend import spend_by_group
from app.reports.html import cell_text
from app.ui.format import display_frame, name
from ingest import records as r
from ingest.loader import load
from models.names import lookalikes, shown
from models.queries.names import lookalike_names
from tests.app.conftest import assert_clean, open_page

RLO_TEAM = "\u202etxt.exe\u202c-team"  # displays as "exe.txt-team"
ZW_ADMIN = "ad\u200bmin"  # displays exactly as "admin"
START = datetime(2026, 10, 5, 9, tzinfo=UTC)


def _seed(engine) -> None:
    load(engine, [r.Price(provider="openai", model="gpt-4.1", effective_from=date(2026, 1, 1),
                          input_usd_per_mtok=Decimal("2"), output_usd_per_mtok=Decimal("8"))]
         + [r.UsageRequest(source="t", request_id=f"{team}-{i}", started_at=START + timedelta(hours=i),
                           provider="openai", model="gpt-4.1", team=team, workload_tag=team, input_tokens=1000,
                           output_tokens=100) for i, team in enumerate([RLO_TEAM, ZW_ADMIN, "admin"])],
         source="t", target="t")


def test_shown_escapes_and_the_database_keeps_the_name_exact(engine):
    _seed(engine)
    assert shown(RLO_TEAM) == "<U+202E>txt.exe<U+202C>-team"
    assert shown(ZW_ADMIN) == "ad<U+200B>min" and shown("plain-team") == "plain-team"
    with engine.connect() as conn:
        stored = set(conn.execute(sa.text("SELECT team FROM usage_requests")).scalars())
        flagged = lookalike_names(conn)
    assert stored == {RLO_TEAM, ZW_ADMIN, "admin"}
    assert {"kind": "team", "names": ["admin", "ad\u200bmin"], "shown": ["admin", "ad<U+200B>min"]} in flagged
    assert lookalikes(["x", "x\u2060", "y"]) == [["x", "x\u2060"]]


def test_cli_table_shows_names_escaped(cli_env, engine):
    _seed(engine)
    result = run_cli("spend", "--since", "2026-10-01", "--until", "2026-10-31", "--by", "team")
    assert result.code == 0, result.output
    assert "<U+202E>txt.exe<U+202C>-team" in result.output and "ad<U+200B>min" in result.output
    assert "\u202e" not in result.output and "\u200b" not in result.output
    raw = run_cli("spend", "--since", "2026-10-01", "--until", "2026-10-31", "--by", "team", "--json")
    assert RLO_TEAM in {row["group"] for row in json.loads(raw.output)}  # machine output keeps the exact name


def test_doctor_flags_lookalike_names(cli_env, engine):
    _seed(engine)
    result = run_cli("doctor")
    assert "lookalike_names" in result.output and "team: admin / ad<U+200B>min" in result.output


def test_report_chart_and_table_surfaces_escape():
    assert cell_text(RLO_TEAM, "text") == "<U+202E>txt.exe<U+202C>-team"
    import polars as pl

    frame = pl.DataFrame({"group": [RLO_TEAM, "admin"], "cost_usd": [1.0, 2.0], "input_tokens": [1, 2],
                          "output_tokens": [1, 1]})
    fig = spend_by_group(frame, title="t")
    labels = [str(v) for trace in fig.data for v in list(trace.y if trace.y is not None else [])]
    assert "<U+202E>txt.exe<U+202C>-team" in labels and RLO_TEAM not in labels
    assert display_frame(frame)["group"].to_list() == ["<U+202E>txt.exe<U+202C>-team", "admin"]
    assert name(ZW_ADMIN) == "ad<U+200B>min"


def test_spend_page_shows_names_escaped(cli_env, engine):
    _seed(engine)
    at = open_page("spend", date_range=(date(2026, 10, 1), date(2026, 10, 31)), spend_by="team")
    assert_clean(at)
    groups = [str(v) for v in at.dataframe[0].value["group"]]
    assert "<U+202E>txt.exe<U+202C>-team" in groups and RLO_TEAM not in groups


def test_data_page_flags_lookalike_names(cli_env, engine):
    _seed(engine)
    at = open_page("data", date_range=(date(2026, 10, 1), date(2026, 10, 31)))
    assert_clean(at)
    warnings = [w.value for w in at.warning]
    assert any("Lookalike team names: admin / ad<U+200B>min" in w for w in warnings), warnings
