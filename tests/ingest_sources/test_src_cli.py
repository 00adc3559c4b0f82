"""`hybridcost ingest ...` end to end: every sample loads into Postgres, re-runs count nothing twice."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh_context():
    context.reset()
    yield
    context.reset()


def _invoke(*args):
    context.reset()
    return runner.invoke(app, list(args))


def _totals(url):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT (SELECT coalesce(sum(billed_cost), 0) FROM cost_lines), "
                "(SELECT coalesce(sum(input_tokens + output_tokens), 0) FROM usage_hourly), "
                "(SELECT count(*) FROM usage_requests), (SELECT count(*) FROM cost_lines)")).one()
    finally:
        engine.dispose()


def test_every_token_sample_loads_and_reloads_without_double_counting(cli_env, samples, fixtures):
    files = [
        ("openai", "--file", str(samples / "openai/openai_usage_completions_cookbook_output.json")),
        ("openai", "--file", str(samples / "openai/openai_costs_apiref_example.json"), "--costs"),
        ("anthropic", "--file", str(samples / "anthropic/anthropic_usage_report_messages_docs_example.json")),
        ("anthropic", "--file", str(samples / "anthropic/anthropic_cost_report_docs_example.json"), "--costs"),
        ("focus", str(samples / "focus/focus_sample_subset.csv")),
        ("focus", str(samples / "focus/focus_sample_ai_ml_rows.csv")),
        ("otel", str(fixtures / "otel_genai_spans.json")),
        ("litellm", str(fixtures / "litellm_spendlogs.jsonl")),
        ("langfuse", str(samples / "langfuse/framework_trace_openai-agents-2025-09-30.json")),
        ("langfuse", str(samples / "langfuse/framework_trace_google-gemini-2025-08-01.json")),
        ("invoice", str(fixtures / "invoice.csv"), "--mapping", str(fixtures / "invoice_mapping.yaml")),
    ]
    for args in files:
        result = _invoke("ingest", *args)
        assert result.exit_code == 0, (args, result.output)
    first = _totals(cli_env)
    assert first[0] != 0 and first[1] > 0 and first[2] > 0
    for args in files:
        assert _invoke("ingest", *args).exit_code == 0
    assert _totals(cli_env) == first


def test_focus_total_equals_decimal_sum_of_the_file(cli_env, samples):
    path = samples / "focus/focus_sample_subset.csv"
    with path.open(newline="") as handle:
        expected = sum((Decimal(row["BilledCost"]) for row in csv.DictReader(handle)
                        if row["BilledCost"] not in ("", "NULL")), Decimal(0))
    assert _invoke("ingest", "focus", str(path)).exit_code == 0
    assert _totals(cli_env)[0] == expected


def test_reissued_focus_month_replaces_its_rows(cli_env, samples, tmp_path):
    path = samples / "focus/focus_sample_ai_ml_rows.csv"
    assert _invoke("ingest", "focus", str(path)).exit_code == 0
    before = _totals(cli_env)
    # The month is re-issued with one row fewer: its total must drop, not keep the stale row.
    lines = path.read_text().splitlines(keepends=True)
    shorter = tmp_path / "reissued.csv"
    shorter.write_text("".join(lines[:-1]))
    assert _invoke("ingest", "focus", str(shorter)).exit_code == 0
    after = _totals(cli_env)
    assert after[3] == before[3] - 1


def test_bad_file_fails_cleanly_and_writes_nothing(cli_env, samples, tmp_path):
    broken = tmp_path / "usage.json"
    broken.write_text((samples / "openai/openai_usage_completions_apiref_example.json").read_text()[:300])
    result = _invoke("ingest", "openai", "--file", str(broken))
    assert result.exit_code == 2
    assert str(broken) in result.output and "Traceback" not in result.output
    assert _totals(cli_env)[1] == 0
    engine = sa.create_engine(cli_env)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM ingest_runs")).scalar() == "failed"
    engine.dispose()


def test_missing_file_and_missing_key_are_one_line_errors(cli_env, monkeypatch):
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    result = _invoke("ingest", "focus", "/nonexistent/file.csv")
    assert result.exit_code == 2 and "no such file" in result.output
    result = _invoke("ingest", "openai")
    assert result.exit_code == 2 and "OPENAI_ADMIN_KEY" in result.output


def test_openai_api_pull_uses_cursor_and_overlap(cli_env, replay_server, samples, monkeypatch):
    usage = json.loads((samples / "openai/openai_usage_completions_apiref_example.json").read_text())
    usage.update(has_more=False, next_page=None)
    costs = json.loads((samples / "openai/openai_costs_apiref_example.json").read_text())

    def answer(seen):
        return 200, {}, (costs if seen.path.endswith("/costs") else usage)

    replay_server.handler = answer
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-test")
    monkeypatch.setenv("OPENAI_BASE_URL", replay_server.url + "/v1")
    result = _invoke("ingest", "openai", "--since", "2024-11-01", "--until", "2024-11-03", "--account", "org-a")
    assert result.exit_code == 0, result.output
    first = _totals(cli_env)
    # A second pull without --since starts at the cursor minus the overlap, and counts nothing twice.
    result = _invoke("ingest", "openai", "--until", "2024-11-03", "--account", "org-a")
    assert result.exit_code == 0, result.output
    assert _totals(cli_env) == first
    starts = [int(r.query["start_time"][0]) for r in replay_server.requests]
    nov_1, nov_2 = 1730419200, 1730505600
    assert starts[:2] == [nov_1, nov_1]
    assert starts[2:] == [nov_2, nov_2]  # cursor (Nov 4) minus the 2-day overlap: re-read, not re-counted
    auth = replay_server.requests[0].headers["authorization"]
    assert auth == "Bearer sk-admin-test"
