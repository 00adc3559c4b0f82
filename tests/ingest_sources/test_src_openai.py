"""OpenAI usage and costs: saved files, and the real SDK against a loopback replay server."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from decimal import Decimal

import openai
import pytest

from ingest.base import SourceError
from ingest.records import CostLine, UsageHourly
from ingest.sources.openai_usage import (
    OpenAICostsFileSource,
    OpenAICostsSource,
    OpenAIUsageFileSource,
    OpenAIUsageSource,
)

UTC = timezone.utc


def _cookbook(samples):
    return json.loads((samples / "openai/openai_usage_completions_cookbook_output.json").read_text())


def _pages(samples):
    buckets = _cookbook(samples)
    page1 = {"object": "page", "data": buckets[:5], "has_more": True, "next_page": "page_two"}
    page2 = {"object": "page", "data": buckets[5:], "has_more": False, "next_page": None}
    return page1, page2


def _client(server, retries=0):
    return openai.OpenAI(api_key="sk-unused", admin_api_key="sk-admin-test", base_url=server.url + "/v1",
                         max_retries=retries, timeout=5)


def test_cookbook_file_golden(samples):
    path = samples / "openai/openai_usage_completions_cookbook_output.json"
    records = list(OpenAIUsageFileSource(path, "org-1").collect())
    buckets = _cookbook(samples)
    assert len(records) == sum(len(b["results"]) for b in buckets) == 12
    assert sum(r.input_tokens for r in records) == sum(x["input_tokens"] for b in buckets for x in b["results"])
    # The short first bucket (from 17:31) is stored as the whole UTC day it belongs to.
    assert records[0] == UsageHourly(
        provider="openai", account_id="org-1",
        bucket_start_at=datetime(2025, 1, 11, tzinfo=UTC), bucket_end_at=datetime(2025, 1, 12, tzinfo=UTC),
        input_tokens=141201, output_tokens=9756, num_requests=470,
    )
    assert records[2].cached_input_tokens == 76544
    assert OpenAIUsageFileSource(path).describe().startswith(f"file {path} sha256:")


def test_apiref_page_golden(samples):
    records = list(OpenAIUsageFileSource(samples / "openai/openai_usage_completions_apiref_example.json").collect())
    assert records == [UsageHourly(
        provider="openai", account_id="",
        bucket_start_at=datetime(2024, 11, 1, tzinfo=UTC), bucket_end_at=datetime(2024, 11, 2, tzinfo=UTC),
        input_tokens=1000, cached_input_tokens=400, cache_write_input_tokens=100, output_tokens=500, num_requests=5,
    )]


def test_costs_file_golden(samples):
    path = samples / "openai/openai_costs_apiref_example.json"
    records = list(OpenAICostsFileSource(path, "org-1").collect())
    assert len(records) == 1
    line = records[0]
    assert line == CostLine(
        basis="cost_api", provider="openai", account_id="org-1", source_line_key=line.source_line_key,
        charge_period_start_at=datetime(2024, 11, 1, tzinfo=UTC), charge_period_end_at=datetime(2024, 11, 2, tzinfo=UTC),
        billed_cost=Decimal("0.06"), currency="USD", service_name="OpenAI API",
    )
    assert line.source_line_key == list(OpenAICostsFileSource(path, "org-1").collect())[0].source_line_key


def test_cost_amount_keeps_every_digit(tmp_path, samples):
    doc = json.loads((samples / "openai/openai_costs_apiref_example.json").read_text())
    doc["data"][0]["results"][0]["amount"]["value"] = 0  # replaced in the text below
    text = json.dumps(doc).replace('"value": 0', '"value": 10.142563412345678901')
    path = tmp_path / "costs.json"
    path.write_text(text)
    assert list(OpenAICostsFileSource(path).collect())[0].billed_cost == Decimal("10.142563412345678901")


@pytest.mark.parametrize("mutate, field", [
    (lambda r: r.__setitem__("input_tokens", -5), "data[0].results[0].input_tokens"),
    (lambda r: r.__setitem__("output_tokens", "lots"), "data[0].results[0].output_tokens"),
    (lambda r: r.__setitem__("num_model_requests", 1.5), "data[0].results[0].num_model_requests"),
])
def test_bad_token_counts(tmp_path, samples, mutate, field):
    doc = json.loads((samples / "openai/openai_usage_completions_apiref_example.json").read_text())
    mutate(doc["data"][0]["results"][0])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SourceError) as err:
        list(OpenAIUsageFileSource(path).collect())
    assert err.value.field == field and str(path) in str(err.value)


def test_truncated_json_names_file_and_line(tmp_path, samples):
    text = (samples / "openai/openai_usage_completions_cookbook_output.json").read_text()
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(SourceError) as err:
        list(OpenAIUsageFileSource(path).collect())
    assert err.value.line and err.value.line > 1 and str(path) in str(err.value)


def test_unknown_currency(tmp_path, samples):
    doc = json.loads((samples / "openai/openai_costs_apiref_example.json").read_text())
    doc["data"][0]["results"][0]["amount"]["currency"] = "usdx"
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SourceError, match="unknown currency") as err:
        list(OpenAICostsFileSource(path).collect())
    assert err.value.field == "data[0].results[0].amount.currency"


def test_sdk_pagination(replay_server, samples):
    page1, page2 = _pages(samples)
    replay_server.script([(200, {}, page1), (200, {}, page2)])
    seen = []
    src = OpenAIUsageSource(_client(replay_server), "org-1", datetime(2025, 1, 11, 17, 31, tzinfo=UTC),
                            datetime(2025, 2, 1, tzinfo=UTC), bucket_width="1d", on_page=seen.append)
    records = list(src.collect())
    assert records == list(OpenAIUsageFileSource(samples / "openai/openai_usage_completions_cookbook_output.json",
                                                 "org-1").collect())
    first, second = replay_server.requests
    assert first.path == second.path == "/v1/organization/usage/completions"
    assert first.headers["authorization"] == "Bearer sk-admin-test"
    assert "page" not in first.query and second.query["page"] == ["page_two"]
    # the window starts on the bucket boundary (2025-01-11 00:00Z), never mid-bucket
    assert first.query["bucket_width"] == ["1d"] and first.query["start_time"] == [str(1736553600)]
    assert set(sum((v for k, v in first.query.items() if k.startswith("group_by")), [])) >= {"model", "batch"}
    assert [p.page_number for p in seen] == [1, 2]
    assert src.last_page_cursor == datetime.fromtimestamp(page2["data"][-1]["end_time"], UTC)
    assert src.describe() == "api openai usage 2025-01-11T00:00Z..2025-02-01T00:00Z"


def test_sdk_retries_429_then_succeeds(replay_server, samples):
    page1, page2 = _pages(samples)
    replay_server.script([(429, {"retry-after-ms": "10"}, {"error": {"message": "slow down"}}),
                          (200, {}, page1), (200, {}, page2)])
    src = OpenAIUsageSource(_client(replay_server, retries=2), "org-1", 1736616660, bucket_width="1d")
    assert len(list(src.collect())) == 12
    assert len(replay_server.requests) == 3


def test_sdk_429_after_retries_is_source_error(replay_server):
    busy = (429, {"retry-after-ms": "5"}, {"error": {"message": "slow down"}})
    replay_server.script([busy, busy])
    src = OpenAIUsageSource(_client(replay_server, retries=1), "org-1", 1736616660)
    with pytest.raises(SourceError, match="HTTP 429") as err:
        list(src.collect())
    assert "page 1" in str(err.value)


def test_sdk_401_is_source_error(replay_server):
    replay_server.script([(401, {}, {"error": {"message": "bad admin key"}})])
    with pytest.raises(SourceError, match="HTTP 401"):
        list(OpenAICostsSource(_client(replay_server), "org-1", 1730419200).collect())


def test_sdk_500_midway_then_resume_from_cursor(replay_server, samples):
    page1, page2 = _pages(samples)
    replay_server.script([(200, {}, page1), (500, {}, {"error": {"message": "boom"}})])
    src = OpenAIUsageSource(_client(replay_server), "org-1", 1736616660, bucket_width="1d")
    got = []
    with pytest.raises(SourceError, match="HTTP 500") as err:
        for record in src.collect():
            got.append(record)
    assert "page 2" in str(err.value) and "page_two" in str(err.value)
    assert len(got) == sum(len(b["results"]) for b in page1["data"])
    cursor = src.last_page_cursor
    assert cursor == datetime.fromtimestamp(page1["data"][-1]["end_time"], UTC)
    # Re-run from the stored cursor: the server now answers with the rest.
    rest = copy.deepcopy(page2)
    replay_server.script([(200, {}, rest)])
    again = OpenAIUsageSource(_client(replay_server), "org-1", cursor, bucket_width="1d")
    got += list(again.collect())
    assert replay_server.requests[-1].query["start_time"] == [str(int(cursor.timestamp()))]
    full = list(OpenAIUsageFileSource(samples / "openai/openai_usage_completions_cookbook_output.json", "org-1").collect())
    assert got == full


def test_sdk_costs_pages(replay_server, samples):
    doc = json.loads((samples / "openai/openai_costs_apiref_example.json").read_text())
    page1 = dict(doc, has_more=True, next_page="c2")
    page2 = copy.deepcopy(doc)
    page2["data"][0]["start_time"], page2["data"][0]["end_time"] = 1730505600, 1730592000
    page2["data"][0]["results"][0]["amount"] = {"value": 1.23456789, "currency": "usd"}
    replay_server.script([(200, {}, page1), (200, {}, page2)])
    src = OpenAICostsSource(_client(replay_server), "org-1", 1730419200, 1730592000)
    lines = list(src.collect())
    assert [x.billed_cost for x in lines] == [Decimal("0.06"), Decimal("1.23456789")]
    assert lines[0].source_line_key != lines[1].source_line_key
    assert replay_server.requests[0].path == "/v1/organization/costs"


def test_make_client_reads_env(monkeypatch, replay_server, samples):
    from ingest.sources.openai_usage import make_client

    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-env")
    monkeypatch.setenv("OPENAI_BASE_URL", replay_server.url + "/v1")
    replay_server.script([(200, {}, _pages(samples)[1])])
    records = list(OpenAIUsageSource(make_client(max_retries=0), "org-1", 1736985600, bucket_width="1d").collect())
    assert records and replay_server.requests[0].headers["authorization"] == "Bearer sk-admin-env"


def test_naive_window_refused():
    from ingest.sources.anthropic_usage import AnthropicUsageSource

    with pytest.raises(SourceError, match="naive"):
        OpenAIUsageSource(None, "org-1", datetime(2026, 1, 1))
    with pytest.raises(SourceError, match="no time zone"):
        AnthropicUsageSource("org-a", "2026-01-01T00:00:00", api_key="k")
