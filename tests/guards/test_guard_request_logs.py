"""Request logs that never collapse or shift: keys for records without ids, time units, totals, shapes, overflows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from guard_support import refused, rows, run_cli, scalar

from tests_support import FIXTURES, SAMPLES


def _span(n: int, **extra) -> dict:
    """A GenAI span without trace or span id (as some exporters write them)."""
    start = 1767261600000000000 + n * 1_000_000_000
    return {"name": "chat", "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 500_000_000),
            "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
                           {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(100 + n)}},
                           {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "10"}}], **extra}


def _otel(tmp_path: Path, spans: list[dict], name: str = "spans.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans}]}]}))
    return path


def test_otel_spans_without_ids_never_collapse(cli_env, tmp_path, no_run_left_running):
    spans = [_span(0), _span(0), _span(1), _span(2)]  # two are identical: still two requests
    path = _otel(tmp_path, spans)
    result = run_cli("ingest", "otel", path)
    assert result.code == 0, result.output
    assert "4 record(s) had no id of their own: keyed by their content and position" in result.output
    assert "0 duplicates skipped" in result.output
    assert scalar(cli_env, "SELECT count(*) FROM usage_requests") == 4
    again = run_cli("ingest", "otel", path)  # the same file again: nothing new
    assert again.code == 0 and scalar(cli_env, "SELECT count(*) FROM usage_requests") == 4


@pytest.mark.parametrize("scale, unit", [(10**9, "ns"), (10**6, "us"), (10**3, "ms"), (1, "s")])
def test_otel_time_units_from_magnitude(cli_env, tmp_path, scale, unit):
    seconds = 1767261600  # 2026-01-01 10:00Z
    span = _span(0, traceId="t", spanId=unit, startTimeUnixNano=str(seconds * scale),
                 endTimeUnixNano=str(seconds * scale + scale // 2 if scale > 1 else seconds + 1))
    result = run_cli("ingest", "otel", _otel(tmp_path, [span]))
    assert result.code == 0, result.output
    started = scalar(cli_env, "SELECT started_at FROM usage_requests")
    assert started.isoformat() == "2026-01-01T10:00:00+00:00"


def test_otel_time_no_unit_makes_plausible_is_refused(cli_env, tmp_path):
    path = _otel(tmp_path, [_span(0, traceId="t", spanId="s", startTimeUnixNano="50000000000")])
    refused(run_cli("ingest", "otel", path), "startTimeUnixNano", "not a plausible time in nanoseconds")


def test_otel_bad_shapes_never_crash(cli_env, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [5]}]}))
    refused(run_cli("ingest", "otel", path), str(path), "resourceSpans[0].scopeSpans", "list of objects")
    path.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": ["x"]}]}]}))
    refused(run_cli("ingest", "otel", path), "spans", "list of objects")


def test_otel_int64_overflow_is_refused(cli_env, tmp_path, no_run_left_running):
    span = _span(0, traceId="t", spanId="s")
    span["attributes"][1]["value"] = {"intValue": "99999999999999999999999"}
    refused(run_cli("ingest", "otel", _otel(tmp_path, [span])), "gen_ai.usage.input_tokens",
            "exceeds what the database can store")
    span["attributes"][1]["value"] = {"intValue": "200000000"}  # fits BIGINT, still no single request
    refused(run_cli("ingest", "otel", _otel(tmp_path, [span])), "0..100000000 tokens per request",
            "--accept-implausible tokens")


def test_langfuse_observations_without_id_never_collapse(cli_env, tmp_path):
    doc = json.loads((SAMPLES / "langfuse/framework_trace_openai-agents-2025-09-30.json").read_text())
    generations = [o for o in doc["observations"] if o["type"] == "GENERATION"]
    for obs in generations:
        obs.pop("id")
    doc["observations"] = generations + [dict(generations[0])]  # three generations, two identical
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(doc))
    result = run_cli("ingest", "langfuse", path)
    assert result.code == 0, result.output
    assert "3 record(s) had no id of their own" in result.output
    assert scalar(cli_env, "SELECT count(*) FROM usage_requests") == 3


def _vertex(tmp_path: Path, total) -> Path:
    doc = json.loads((SAMPLES / "langfuse/framework_trace_google-gemini-2025-08-01.json").read_text())
    obs = next(o for o in doc["observations"] if o["type"] == "GENERATION")
    obs["model"] = "vertex_ai/gemini-2.5-pro"
    obs["metadata"] = {"attributes": json.dumps({"gen_ai.system": "vertex_ai"})}  # attributes as JSON text
    obs["usageDetails"] = {"input": 5, "output": 845, "total": total}
    path = tmp_path / "vertex.json"
    path.write_text(json.dumps(doc))
    return path


def test_langfuse_vertex_total_above_parts_keeps_thinking_and_provider(cli_env, tmp_path):
    result = run_cli("ingest", "langfuse", _vertex(tmp_path, 2023))
    assert result.code == 0, result.output
    got = rows(cli_env, "SELECT provider, input_tokens, output_tokens, reasoning_tokens, other_tokens "
                        "FROM usage_requests")
    assert got == [("vertex_ai", 5, 845 + 1173, 1173, 0)]  # 5 + 2018 = 2023: nothing dropped


def test_langfuse_token_overflow_is_refused(cli_env, tmp_path, no_run_left_running):
    refused(run_cli("ingest", "langfuse", _vertex(tmp_path, 1e30)), "usageDetails.total",
            "exceeds what the database can store")


def test_litellm_single_object_array_and_lines_load_alike(cli_env, tmp_path):
    record = json.loads((FIXTURES / "litellm_spendlogs.jsonl").read_text().splitlines()[0])
    shapes = {"one.json": json.dumps(record, indent=2), "array.json": json.dumps([record]),
              "lines.jsonl": json.dumps(record) + "\n", "api.json": json.dumps({"data": [record]})}
    for name, text in shapes.items():
        path = tmp_path / name
        path.write_text(text)
        result = run_cli("ingest", "litellm", path)
        assert result.code == 0, (name, result.output)
    assert scalar(cli_env, "SELECT count(*) FROM usage_requests") == 1  # one request, four shapes


def test_litellm_total_above_parts_is_kept(cli_env, tmp_path):
    record = json.loads((FIXTURES / "litellm_spendlogs.jsonl").read_text().splitlines()[0])
    record.update(prompt_tokens=100, completion_tokens=50, total_tokens=400)
    path = tmp_path / "one.json"
    path.write_text(json.dumps(record))
    assert run_cli("ingest", "litellm", path).code == 0
    assert rows(cli_env, "SELECT input_tokens, output_tokens, other_tokens FROM usage_requests") == [(100, 50, 250)]


@pytest.mark.parametrize("value", [1e20, "1e20", 10**19])
def test_litellm_token_counts_beyond_bigint_are_refused(cli_env, tmp_path, no_run_left_running, value):
    record = json.loads((FIXTURES / "litellm_spendlogs.jsonl").read_text().splitlines()[0])
    record["prompt_tokens"] = value
    path = tmp_path / "big.json"
    path.write_text(json.dumps(record))
    refused(run_cli("ingest", "litellm", path), str(path), "prompt_tokens")
    assert scalar(cli_env, "SELECT status FROM ingest_runs ORDER BY id DESC LIMIT 1") == "failed"
