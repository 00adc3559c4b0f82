"""OTel GenAI spans (OTLP JSON): the hand-made fixture, JSON lines, and bad input."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from ingest.base import SourceError
from ingest.records import UsageRequest
from ingest.sources.otel_genai import OtelGenAISource

UTC = timezone.utc


def test_fixture_golden(fixtures):
    records = list(OtelGenAISource(fixtures / "otel_genai_spans.json", account_id="acme").collect())
    assert [r.request_id.split(":")[1] for r in records] == [
        "eee19b7ec3c1b174", "b7ad6b7169203331", "00f067aa0ba902b7", "1a2b3c4d5e6f7081"]  # the HTTP span is skipped
    assert records[0] == UsageRequest(
        source="otel", request_id="5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174",
        started_at=datetime(2026, 1, 1, 10, 0, tzinfo=UTC), provider="openai", model="gpt-4o-mini-2024-07-18",
        account_id="acme", team="customer-experience", workload_tag="ticket-triage",
        tags={"service.name": "support-bot", "k8s.namespace.name": "cx-prod", "gen_ai.operation.name": "chat",
              "gen_ai.response.id": "chatcmpl-C1x2y3", "server.address": "api.openai.com", "status": "ok",
              "request_model": "gpt-4o-mini"},
        input_tokens=1520, cached_input_tokens=1024, output_tokens=210, latency_ms=1250.0,
    )
    err = records[1]
    assert (err.reasoning_tokens, err.output_tokens, err.status_code) == (1536, 1900, 429)
    assert err.tags["status"] == "error" and err.tags["status_message"].startswith("Rate limit")
    old = records[2]
    assert (old.provider, old.input_tokens, old.output_tokens) == ("anthropic", 4200, 350)
    assert (old.team, old.workload_tag, old.tags["k8s.namespace.name"]) == ("data-platform", "doc-labeling", "ml-batch")
    assert records[3].endpoint_kind == "local" and records[3].latency_ms == pytest.approx(400.0)


def test_json_lines(tmp_path, fixtures):
    doc = json.loads((fixtures / "otel_genai_spans.json").read_text())
    path = tmp_path / "traces.jsonl"
    path.write_text("\n".join(json.dumps({"resourceSpans": [rs]}) for rs in doc["resourceSpans"]) + "\n")
    assert len(list(OtelGenAISource(path).collect())) == 4


def _mutated(tmp_path, fixtures, key, value):
    doc = json.loads((fixtures / "otel_genai_spans.json").read_text())
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    for attr in span["attributes"]:
        if attr["key"] == key:
            attr["value"] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("value, problem", [({"intValue": "-3"}, "negative"), ({"stringValue": "many"}, "not a number")])
def test_bad_token_count(tmp_path, fixtures, value, problem):
    path = _mutated(tmp_path, fixtures, "gen_ai.usage.input_tokens", value)
    with pytest.raises(SourceError, match=problem) as err:
        list(OtelGenAISource(path).collect())
    assert err.value.field == "resourceSpans[0].scopeSpans[0].spans[0].attributes.gen_ai.usage.input_tokens"


def test_truncated_and_wrong_shape(tmp_path, fixtures):
    path = tmp_path / "cut.json"
    path.write_text((fixtures / "otel_genai_spans.json").read_text()[:900])
    with pytest.raises(SourceError, match="invalid JSON") as err:
        list(OtelGenAISource(path).collect())
    assert err.value.line > 1
    path.write_text('{"spans": []}')
    with pytest.raises(SourceError, match="resourceSpans"):
        list(OtelGenAISource(path).collect())


def test_jsonl_error_names_line(tmp_path, fixtures):
    doc = json.loads((fixtures / "otel_genai_spans.json").read_text())
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"resourceSpans": doc["resourceSpans"][:1]}) + "\n" + '{"resourceSpans": [\n')
    with pytest.raises(SourceError) as err:
        list(OtelGenAISource(path).collect())
    assert err.value.line == 2
