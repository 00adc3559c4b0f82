"""`hybridcost discipline --json`: one object per group, numbers as numbers, null where not measurable."""

from __future__ import annotations

import json

import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from disc_traffic import build, price_records
from ingest.loader import load

KEYS = {"group", "requests", "repeat_share", "repeat_savings_usd", "reasoning_share", "reasoning_savings_usd",
        "loop_requests", "batch_candidate_share", "batch_savings_usd", "rate_limited_share", "latency_p95_ms"}


def _load(db_url):
    engine = sa.create_engine(db_url)
    try:
        load(engine, price_records(), source="test", target="prices")
        load(engine, build().records(), source="test", target="usage_requests")
    finally:
        engine.dispose()


def test_disc_cli_json_shape(cli_env):
    context.reset()
    _load(cli_env.replace("postgresql://", "postgresql+psycopg://", 1))
    result = CliRunner().invoke(app, ["discipline", "--since", "2026-03-10", "--until", "2026-03-10",
                                      "--by", "workload", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list) and {r["group"] for r in rows} == {"chat", "review", "ingest"}
    for row in rows:
        assert KEYS <= set(row)
        for key in KEYS - {"group"}:
            assert row[key] is None or isinstance(row[key], (int, float)) and not isinstance(row[key], bool), key
    chat = next(r for r in rows if r["group"] == "chat")
    assert chat["requests"] == 54 and chat["loop_requests"] == 4
    ingest = next(r for r in rows if r["group"] == "ingest")
    assert ingest["repeat_share"] is None and ingest["repeat_savings_usd"] is None


def test_disc_cli_table_and_empty(cli_env):
    context.reset()
    empty = CliRunner().invoke(app, ["discipline", "--since", "2026-03-10", "--until", "2026-03-11"])
    assert empty.exit_code == 0 and "no requests" in empty.stdout
    _load(cli_env.replace("postgresql://", "postgresql+psycopg://", 1))
    context.reset()
    table = CliRunner().invoke(app, ["discipline", "--since", "2026-03-10", "--until", "2026-03-10"])
    assert table.exit_code == 0 and "alpha" in table.stdout and "n/m" in table.stdout
    json_empty = CliRunner().invoke(app, ["discipline", "--since", "2026-01-01", "--until", "2026-01-02", "--json"])
    assert json.loads(json_empty.stdout) == []
    bad = CliRunner().invoke(app, ["discipline", "--since", "2026-03-10", "--until", "2026-03-01"])
    assert bad.exit_code != 0
