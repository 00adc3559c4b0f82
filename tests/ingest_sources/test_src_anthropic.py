"""Anthropic usage and cost reports: docs samples, and httpx against a loopback replay server."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from ingest.base import SourceError
from ingest.records import CostLine, UsageHourly
from ingest.sources.anthropic_usage import (
    AnthropicCostFileSource,
    AnthropicCostSource,
    AnthropicUsageFileSource,
    AnthropicUsageSource,
)

UTC = timezone.utc
START, END = datetime(2025, 8, 1, tzinfo=UTC), datetime(2025, 8, 2, tzinfo=UTC)


def _usage_doc(samples):
    return json.loads((samples / "anthropic/anthropic_usage_report_messages_docs_example.json").read_text())


def _cost_doc(samples):
    return json.loads((samples / "anthropic/anthropic_cost_report_docs_example.json").read_text())


def test_usage_file_golden(samples):
    path = samples / "anthropic/anthropic_usage_report_messages_docs_example.json"
    assert list(AnthropicUsageFileSource(path, "org-a").collect()) == [UsageHourly(
        provider="anthropic", account_id="org-a", bucket_start_at=START, bucket_end_at=END,
        model="claude-sonnet-4-20250514", project_id="wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
        api_key_id="apikey_01Rj2N8SVvo6BePZj99NhmiT", service_tier="standard",
        input_tokens=1500 + 1000 + 500 + 200, cached_input_tokens=200, cache_write_input_tokens=1500,
        cache_write_1h_input_tokens=1000, output_tokens=500,
    )]


def test_cost_file_golden_cents_to_dollars(samples):
    path = samples / "anthropic/anthropic_cost_report_docs_example.json"
    [line] = list(AnthropicCostFileSource(path, "org-a").collect())
    assert line == CostLine(
        basis="cost_api", provider="anthropic", account_id="org-a", source_line_key=line.source_line_key,
        charge_period_start_at=START, charge_period_end_at=END, billed_cost=Decimal("1.2378912"), currency="USD",
        project_id="wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", model="claude-sonnet-4-20250514",
        line_item="Claude Sonnet 4 Usage - Input Tokens", service_name="Anthropic API",
        tags={"cost_type": "tokens", "token_type": "uncached_input_tokens", "context_window": "0-200k",
              "service_tier": "standard"},
        charge_kind="tokens", token_type="input",
    )


@pytest.mark.parametrize("mutate, field, problem", [
    (lambda d: d["data"][0]["results"][0].__setitem__("output_tokens", -1), "data[0].results[0].output_tokens", "negative"),
    (lambda d: d["data"][0]["results"][0]["cache_creation"].__setitem__("ephemeral_5m_input_tokens", "x"),
     "data[0].results[0].cache_creation.ephemeral_5m_input_tokens", "not a number"),
    (lambda d: d["data"][0].__setitem__("starting_at", "2025-08-01T00:00:00"), "data[0].starting_at", "no time zone"),
])
def test_usage_bad_input(tmp_path, samples, mutate, field, problem):
    doc = _usage_doc(samples)
    mutate(doc)
    path = tmp_path / "u.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SourceError, match=problem) as err:
        list(AnthropicUsageFileSource(path).collect())
    assert err.value.field == field and str(path) in str(err.value)


def test_cost_bad_amount_and_currency(tmp_path, samples):
    for key, value, problem in (("amount", "12,5", "not a number"), ("currency", "DOLLARS", "unknown currency")):
        doc = _cost_doc(samples)
        doc["data"][0]["results"][0][key] = value
        path = tmp_path / f"{key}.json"
        path.write_text(json.dumps(doc))
        with pytest.raises(SourceError, match=problem) as err:
            list(AnthropicCostFileSource(path).collect())
        assert err.value.field == f"data[0].results[0].{key}"


def test_truncated_file(tmp_path, samples):
    path = tmp_path / "t.json"
    path.write_text((samples / "anthropic/anthropic_cost_report_docs_example.json").read_text()[:200])
    with pytest.raises(SourceError, match="invalid JSON") as err:
        list(AnthropicCostFileSource(path).collect())
    assert err.value.line is not None


def _two_pages(samples):
    page1 = _usage_doc(samples)
    page2 = copy.deepcopy(page1)
    page2["data"][0]["starting_at"], page2["data"][0]["ending_at"] = "2025-08-02T00:00:00Z", "2025-08-03T00:00:00Z"
    page2["has_more"], page2["next_page"] = False, None
    return page1, page2


def test_http_pagination_headers_and_params(replay_server, samples):
    page1, page2 = _two_pages(samples)
    replay_server.script([(200, {}, page1), (200, {}, page2)])
    src = AnthropicUsageSource("org-a", START, datetime(2025, 8, 3, tzinfo=UTC), bucket_width="1d",
                               api_key="sk-ant-admin-test", base_url=replay_server.url)
    records = list(src.collect())
    assert [r.bucket_start_at.day for r in records] == [1, 2]
    first, second = replay_server.requests
    assert first.path == "/v1/organizations/usage_report/messages"
    assert first.headers["x-api-key"] == "sk-ant-admin-test" and first.headers["anthropic-version"] == "2023-06-01"
    assert first.query["group_by[]"] == ["api_key_id", "workspace_id", "model", "service_tier"]
    assert first.query["starting_at"] == ["2025-08-01T00:00:00Z"] and "page" not in first.query
    assert second.query["page"] == [page1["next_page"]]
    assert src.describe() == "api anthropic usage 2025-08-01T00:00:00Z..2025-08-03T00:00:00Z"


def test_http_retries_429_and_503_honouring_retry_after(replay_server, samples):
    page1, page2 = _two_pages(samples)
    replay_server.script([(429, {"retry-after": "0.01"}, {"error": "rate"}), (200, {}, page1),
                          (503, {}, "overloaded"), (200, {}, page2)])
    waits = []
    src = AnthropicUsageSource("org-a", START, api_key="k", base_url=replay_server.url, backoff_s=0.001,
                               sleep=waits.append)
    assert len(list(src.collect())) == 2
    assert waits[0] == pytest.approx(0.01) and len(waits) == 2


def test_http_retry_after_is_bounded(replay_server, samples):
    replay_server.script([(429, {"retry-after": "3600"}, {}), (200, {}, _two_pages(samples)[1])])
    waits = []
    src = AnthropicUsageSource("org-a", START, api_key="k", base_url=replay_server.url, max_backoff_s=2,
                               sleep=waits.append)
    list(src.collect())
    assert waits == [2]


def test_http_429_after_retries_is_source_error(replay_server):
    replay_server.script([(429, {"retry-after": "0"}, {})] * 3)
    src = AnthropicCostSource("org-a", START, END, api_key="k", base_url=replay_server.url, max_retries=2,
                              sleep=lambda s: None)
    with pytest.raises(SourceError, match="HTTP 429 after 3 tries") as err:
        list(src.collect())
    assert "api anthropic costs 2025-08-01T00:00:00Z..2025-08-02T00:00:00Z page 1" in str(err.value)


def test_http_401_not_retried(replay_server):
    replay_server.script([(401, {}, {"error": {"type": "authentication_error"}})])
    src = AnthropicCostSource("org-a", START, api_key="bad", base_url=replay_server.url, sleep=lambda s: None)
    with pytest.raises(SourceError, match="HTTP 401"):
        list(src.collect())
    assert len(replay_server.requests) == 1


def test_http_500_midway_then_resume_with_cursor(replay_server, samples):
    page1, page2 = _two_pages(samples)
    replay_server.script([(200, {}, page1), (500, {}, "boom")])
    src = AnthropicUsageSource("org-a", START, api_key="k", base_url=replay_server.url, max_retries=0)
    got = []
    with pytest.raises(SourceError, match="HTTP 500") as err:
        got.extend(src.collect())
    assert "page 2" in str(err.value)
    assert src.next_page == page1["next_page"]
    replay_server.script([(200, {}, page2)])
    again = AnthropicUsageSource("org-a", START, api_key="k", base_url=replay_server.url, page=src.next_page)
    got += list(again.collect())
    assert [r.bucket_start_at.day for r in got] == [1, 2]


def test_http_cost_report(replay_server, samples):
    doc = _cost_doc(samples)
    doc["has_more"] = False
    replay_server.script([(200, {}, doc)])
    src = AnthropicCostSource("org-a", START, END, api_key="k", base_url=replay_server.url)
    [line] = list(src.collect())
    assert line.billed_cost == Decimal("1.2378912")
    assert replay_server.requests[0].query["group_by[]"] == ["workspace_id", "description"]
    assert replay_server.requests[0].query["bucket_width"] == ["1d"]


def test_base_url_from_env(monkeypatch, replay_server, samples):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", replay_server.url)
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", "from-env")
    replay_server.script([(200, {}, _two_pages(samples)[1])])
    list(AnthropicUsageSource("org-a", START).collect())
    assert replay_server.requests[0].headers["x-api-key"] == "from-env"
