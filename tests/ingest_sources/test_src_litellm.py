"""LiteLLM SpendLogs exports: JSON lines, CSV and JSON array agree; bad input is named."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from ingest.base import SourceError
from ingest.records import UsageRequest
from ingest.sources.litellm import LiteLLMSpendLogsSource

UTC = timezone.utc


def test_jsonl_golden(fixtures):
    records = list(LiteLLMSpendLogsSource(fixtures / "litellm_spendlogs.jsonl", account_id="proxy-1").collect())
    assert len(records) == 4
    assert records[0] == UsageRequest(
        source="litellm", request_id="chatcmpl-9f1c2a7e-41b8-4f0e-9a51-3c2d1e0b7a11",
        started_at=datetime(2026, 1, 5, 9, 14, 2, 118000, tzinfo=UTC), provider="openai", model="gpt-4o-mini",
        account_id="proxy-1", project_id="proj_support",
        api_key_id="88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b", user_id="u-4821",
        team="team-cx", workload_tag="ticket-triage",
        tags={"request_tags": ["workload:ticket-triage", "env:prod"], "call_type": "acompletion", "cache_hit": "False",
              "model_group": "fast-chat", "status": "success", "end_user": "acct-77", "session_id": "sess-01",
              "api_base": "https://api.openai.com/v1"},
        input_tokens=1230, output_tokens=165, latency_ms=1784.0, reported_cost_usd=Decimal("0.00031725"),
    )
    assert records[1].latency_ms == pytest.approx(6250.0) and records[1].workload_tag == "doc-labeling"
    assert records[2].team == "search" and records[2].tags["cache_hit"] == "True"
    assert records[3].tags["status"] == "failure" and records[3].started_at == datetime(2026, 1, 5, 9, 31, 10, tzinfo=UTC)
    assert sum(r.reported_cost_usd for r in records) == Decimal("0.00031725") + Decimal("0.0198")


def test_csv_and_array_match_jsonl(tmp_path, fixtures):
    jsonl = list(LiteLLMSpendLogsSource(fixtures / "litellm_spendlogs.jsonl").collect())
    assert list(LiteLLMSpendLogsSource(fixtures / "litellm_spendlogs.csv").collect()) == jsonl
    array = tmp_path / "rows.json"
    array.write_text("[" + ",".join((fixtures / "litellm_spendlogs.jsonl").read_text().split("\n")[:-1]) + "]")
    assert list(LiteLLMSpendLogsSource(array).collect()) == jsonl


def test_snake_case_start_time(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"request_id": "r1", "start_time": "2026-01-05T09:00:00+01:00", "model": "m",
                                "spend": 1e-7}) + "\n")
    [rec] = list(LiteLLMSpendLogsSource(path).collect())
    assert rec.started_at == datetime(2026, 1, 5, 8, tzinfo=UTC) and rec.reported_cost_usd == Decimal("1e-7")


def _bad(tmp_path, fixtures, key, value):
    lines = (fixtures / "litellm_spendlogs.jsonl").read_text().splitlines()
    row = json.loads(lines[2])
    row[key] = value
    lines[2] = json.dumps(row)
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("key, value, problem", [
    ("prompt_tokens", -10, "negative"), ("completion_tokens", "n/a", "not a number"), ("spend", "free", "not a number"),
    ("startTime", "yesterday", "not an ISO 8601"), ("request_id", None, "required value"),
    ("metadata", "{oops", "not valid JSON"),
])
def test_bad_values_name_line_and_field(tmp_path, fixtures, key, value, problem):
    path = _bad(tmp_path, fixtures, key, value)
    with pytest.raises(SourceError, match=problem) as err:
        list(LiteLLMSpendLogsSource(path).collect())
    assert err.value.line == 3 and err.value.field == key and str(path) in str(err.value)


def test_naive_refused_when_asked(fixtures):
    with pytest.raises(SourceError, match="no time zone"):
        list(LiteLLMSpendLogsSource(fixtures / "litellm_spendlogs.csv", naive_is_utc=False).collect())


def test_csv_missing_column_and_truncated_json(tmp_path, fixtures):
    text = (fixtures / "litellm_spendlogs.csv").read_text().replace("startTime", "started", 1)
    path = tmp_path / "x.csv"
    path.write_text(text)
    with pytest.raises(SourceError, match="missing column 'startTime'") as err:
        list(LiteLLMSpendLogsSource(path).collect())
    assert err.value.line == 1
    cut = tmp_path / "cut.jsonl"
    text = (fixtures / "litellm_spendlogs.jsonl").read_text()[:2000]
    cut.write_text(text)
    with pytest.raises(SourceError, match="invalid JSON") as err:
        list(LiteLLMSpendLogsSource(cut).collect())
    assert err.value.line == text.count("\n") + 1


def test_raw_key_is_hashed(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"request_id": "r", "startTime": "2026-01-01T00:00:00Z", "model": "m",
                                "api_key": "sk-live-secret"}) + "\n")
    [rec] = list(LiteLLMSpendLogsSource(path).collect())
    assert "secret" not in rec.api_key_id and len(rec.api_key_id) == 64
