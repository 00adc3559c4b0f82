"""What the bill says decides: line items, cost types and token types; repeated buckets count once."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ingest import records as r
from ingest.loader import load
from ingest.sources.anthropic_usage import AnthropicCostFileSource, usage_records
from ingest.sources.anthropic_usage import cost_records as anthropic_costs
from ingest.sources.openai_usage import OpenAICostsFileSource, cost_records, line_item_fields
from models.queries.spend import spend_by


@pytest.mark.parametrize("item, expected", [
    ("gpt-4o-2024-08-06, input", ("token", "tokens", "gpt-4o-2024-08-06", "input")),
    ("GPT-4o, input", ("token", "tokens", "gpt-4o", "input")),
    ("gpt-4.1-mini-2025-04-14, cached input", ("token", "tokens", "gpt-4.1-mini-2025-04-14", "cached_input")),
    ("gpt-4.1, output", ("token", "tokens", "gpt-4.1", "output")),
    ("web search tool calls", ("other_ai", "web_search", "", "")),
    ("file search tool calls", ("other_ai", "file_search", "", "")),
    ("Code Interpreter sessions", ("other_ai", "code_execution", "", "")),
    ("Image models", ("other_ai", "images", "", "")),
    ("fine-tuning training, gpt-4o-mini", ("other_ai", "fine_tuning", "", "")),
    ("vector store storage", ("other_ai", "storage", "", "")),
    ("input_tokens", ("token", "tokens", "", "input")),
    ("", ("token", "tokens", "", "")),
])
def test_openai_line_items(item, expected):
    assert line_item_fields(item) == expected


def _openai_costs(tmp_path, samples, results, repeat_bucket=False):
    doc = json.loads((samples / "openai/openai_costs_apiref_example.json").read_text())
    doc["data"][0]["results"] = results
    if repeat_bucket:
        doc["data"].append(copy.deepcopy(doc["data"][0]))
    path = tmp_path / "costs.json"
    path.write_text(json.dumps(doc))
    return path


def _result(item, value):
    return {"object": "organization.costs.result", "amount": {"value": value, "currency": "usd"},
            "line_item": item, "project_id": "proj_1", "api_key_id": None}


def test_a_repeated_cost_bucket_is_not_summed_twice(engine, tmp_path, samples):
    path = _openai_costs(tmp_path, samples, [_result("gpt-4.1, input", 1.25)], repeat_bucket=True)
    result = load(engine, OpenAICostsFileSource(path, "org").collect(), source="t", target="t")
    assert result.rows_read == 2 and result.rows_written == 1 and result.rows_skipped == 1
    doc = json.loads((samples / "anthropic/anthropic_cost_report_docs_example.json").read_text())
    twice = doc["data"] + copy.deepcopy(doc["data"])
    load(engine, anthropic_costs(twice, "f", "org"), source="t", target="t")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT sum(billed_cost) FROM cost_lines")).scalar_one() == Decimal("2.4878912")


def test_tool_charges_are_kept_apart_from_token_spend(engine, tmp_path, samples):
    from models.queries.charges import non_token_charges

    path = _openai_costs(tmp_path, samples, [_result("gpt-4.1, input", 3.5), _result("web search tool calls", 1.0),
                                             _result("Code Interpreter sessions", 0.25)])
    load(engine, OpenAICostsFileSource(path, "org").collect(), source="t", target="t")
    since, until = datetime(2024, 11, 1, tzinfo=UTC), datetime(2024, 11, 2, tzinfo=UTC)
    with engine.connect() as conn:
        spend = spend_by(conn, since=since, until=until, by="provider").row(0, named=True)
        other = {r["charge_kind"]: r["cost_usd"] for r in non_token_charges(conn, since=since, until=until).iter_rows(
            named=True)}
    assert spend["cost_usd"] == Decimal("3.5")
    assert other == {"web_search": Decimal("1.0"), "code_execution": Decimal("0.25")}


def test_anthropic_cost_types_and_token_types(samples):
    doc = json.loads((samples / "anthropic/anthropic_cost_report_docs_example.json").read_text())
    base = doc["data"][0]["results"][0]
    results = [dict(base, token_type="cache_creation.ephemeral_1h_input_tokens"),
               dict(base, token_type="cache_read_input_tokens"),
               {"amount": "250", "currency": "USD", "cost_type": "web_search", "description": "Web Search Usage",
                "model": None, "token_type": None, "workspace_id": None},
               {"amount": "40", "currency": "USD", "cost_type": "code_execution", "description": "Code Execution Usage"}]
    lines = list(anthropic_costs([dict(doc["data"][0], results=results)], "f", "org"))
    assert [(x.ai_class, x.charge_kind, x.token_type) for x in lines] == [
        ("token", "tokens", "cache_write_1h"), ("token", "tokens", "cached_input"),
        ("other_ai", "web_search", ""), ("other_ai", "code_execution", "")]
    assert lines[2].billed_cost == Decimal("2.5")


def test_one_hour_cache_writes_are_priced_apart(engine, samples):
    doc = json.loads((samples / "anthropic/anthropic_usage_report_messages_docs_example.json").read_text())
    [usage] = list(usage_records(doc["data"], "f", "org"))
    assert (usage.cache_write_input_tokens, usage.cache_write_1h_input_tokens) == (1500, 1000)
    model = usage.model
    load(engine, [usage, r.Price(provider="anthropic", model=model, effective_from=date(2025, 1, 1),
                                 input_usd_per_mtok=Decimal("3"), output_usd_per_mtok=Decimal("15"),
                                 cached_input_usd_per_mtok=Decimal("0.30"),
                                 cache_write_usd_per_mtok=Decimal("3.75"))], source="t", target="t")
    since = datetime(2025, 8, 1, tzinfo=UTC)
    with engine.connect() as conn:
        cost = spend_by(conn, since=since, until=since + timedelta(days=1), by="model").row(0, named=True)["cost_usd"]
    # 1500 uncached x 3 + 200 read x 0.30 + 500 (5-minute) x 3.75 + 1000 (1-hour) x 6 (2x input) + 500 x 15, per Mtok
    expected = (Decimal(1500) * 3 + Decimal(200) * Decimal("0.30") + Decimal(500) * Decimal("3.75")
                + Decimal(1000) * 6 + Decimal(500) * 15) / 1_000_000
    assert cost == expected


def test_anthropic_cost_file_by_model(samples):
    path = samples / "anthropic/anthropic_cost_report_docs_example.json"
    [line] = list(AnthropicCostFileSource(path, "org").collect())
    assert (line.model, line.token_type, line.charge_kind) == ("claude-sonnet-4-20250514", "input", "tokens")


def test_short_and_full_bucket_share_a_key(samples):
    doc = json.loads((samples / "openai/openai_costs_apiref_example.json").read_text())
    short = copy.deepcopy(doc["data"][0])
    short["start_time"] += 37 * 60  # the same day, pulled from 00:37
    full, partial = cost_records(doc["data"], "f", "org"), cost_records([short], "f", "org", 86400)
    [a], [b] = list(full), list(partial)
    assert a.source_line_key == b.source_line_key and a.charge_period_start_at == b.charge_period_start_at
