"""Langfuse trace exports: the two real framework traces, the usage-map rules, bad input."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from ingest.base import SourceError
from ingest.records import UsageRequest
from ingest.sources.langfuse import LangfuseSource, split_usage

UTC = timezone.utc
GEMINI = "langfuse/framework_trace_google-gemini-2025-08-01.json"
AGENTS = "langfuse/framework_trace_openai-agents-2025-09-30.json"


def test_gemini_golden(samples):
    [rec] = list(LangfuseSource(samples / GEMINI).collect())
    assert rec == UsageRequest(
        source="langfuse", request_id="b7a63ca7e1d083bc", started_at=datetime(2025, 8, 1, 13, 22, 0, 147000, tzinfo=UTC),
        provider="google", model="gemini-2.5-flash", account_id="cloramnkj0002jz088vzn1ja4",
        tags={"trace_id": "9f2f0fe0228fd81a9fe75882934b384a", "trace_name": "GenerateContent", "environment": "default",
              "name": "GenerateContent", "level": "DEFAULT"},
        input_tokens=6, output_tokens=2055, reasoning_tokens=1104, latency_ms=12032.0,
        reported_cost_usd=Decimal("0.005139299999"),
    )


def test_openai_agents_generations_only(samples):
    records = list(LangfuseSource(samples / AGENTS).collect())
    doc = json.loads((samples / AGENTS).read_text())
    generations = [o for o in doc["observations"] if o["type"] == "GENERATION"]
    assert [r.request_id for r in records] == [o["id"] for o in generations]
    assert [(r.input_tokens, r.output_tokens, r.cached_input_tokens) for r in records] == [(85, 29, 0), (55, 15, 0)]
    assert [r.reported_cost_usd for r in records] == [Decimal("0.000402"), Decimal("0.00023")]
    assert {r.provider for r in records} == {"openai"} and records[0].latency_ms == pytest.approx(1150.0)


@pytest.mark.parametrize("details, expected", [
    ({"input": 60, "input_cached_tokens": 40, "output": 10, "total": 110}, (100, 40, 10, 0)),  # beside (SDK)
    ({"input": 100, "prompt_details.cache_read": 40, "output": 10, "total": 110}, (100, 40, 10, 0)),  # inside
    ({"input": 60, "cache_read_input_tokens": 40, "output": 5, "output_reasoning_tokens": 5}, (100, 40, 10, 5)),
    ({"input": 6, "output": 2055, "completion_details.reasoning": 1104, "total": 2061}, (6, 0, 2055, 1104)),
])
def test_split_usage(details, expected):
    assert split_usage(details, "f", "usageDetails") == expected


def _bad(tmp_path, samples, mutate):
    doc = json.loads((samples / GEMINI).read_text())
    mutate(doc["observations"][0])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("mutate, field, problem", [
    (lambda o: o["usageDetails"].__setitem__("input", -6), "observations[0].usageDetails.input", "negative"),
    (lambda o: o["usageDetails"].__setitem__("output", "x"), "observations[0].usageDetails.output", "not a number"),
    (lambda o: o.__setitem__("startTime", "2025-08-01T13:22:00"), "observations[0].startTime", "no time zone"),
    (lambda o: o["costDetails"].__setitem__("total", "cheap"), "observations[0].costDetails.total", "not a number"),
])
def test_bad_input(tmp_path, samples, mutate, field, problem):
    path = _bad(tmp_path, samples, mutate)
    with pytest.raises(SourceError, match=problem) as err:
        list(LangfuseSource(path).collect())
    assert err.value.field == field and str(path) in str(err.value)


def test_list_of_exports_and_truncated(tmp_path, samples):
    both = [json.loads((samples / GEMINI).read_text()), json.loads((samples / AGENTS).read_text())]
    path = tmp_path / "both.json"
    path.write_text(json.dumps(both))
    assert len(list(LangfuseSource(path).collect())) == 3
    path.write_text((samples / GEMINI).read_text()[:5000])
    with pytest.raises(SourceError, match="invalid JSON") as err:
        list(LangfuseSource(path).collect())
    assert err.value.line is not None
