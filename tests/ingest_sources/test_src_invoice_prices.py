"""Invoice CSV with a YAML mapping, and the LiteLLM price map."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import yaml

from ingest.base import SourceError
from ingest.records import CostLine, Price
from ingest.sources.invoice_csv import InvoiceCsvSource, load_mapping
from ingest.sources.litellm_prices import LiteLLMPriceSource, per_mtok

UTC = timezone.utc


def test_invoice_golden(fixtures):
    lines = list(InvoiceCsvSource(fixtures / "invoice.csv", fixtures / "invoice_mapping.yaml").collect())
    assert [x.billed_cost for x in lines] == [Decimal("1234.56"), Decimal("987.10"), Decimal("-100.00"), Decimal("55.25")]
    assert [x.charge_category for x in lines] == ["usage", "usage", "credit", "tax"]
    first = lines[0]
    assert first == CostLine(
        basis="invoice", provider="openai", account_id="org-Acme123", source_line_key=first.source_line_key,
        charge_period_start_at=datetime(2026, 2, 1, tzinfo=UTC), charge_period_end_at=datetime(2026, 3, 1, tzinfo=UTC),
        billed_cost=Decimal("1234.56"), currency="USD", project_id="proj_support", model="gpt-4o",
        line_item="GPT-4o, input tokens",
    )
    assert len({x.source_line_key for x in lines}) == 4


def test_invoice_cents_and_single_date(tmp_path):
    csv_path = tmp_path / "inv.csv"
    csv_path.write_text("day,cost_cents\n2026-01-02,12345\n2026-01-02,12345\n")
    mapping = {"columns": {"date": "day", "amount": "cost_cents"}, "amount_unit": "cents",
               "defaults": {"provider": "Anthropic", "account": "acct-9", "currency": "EUR"}}
    lines = list(InvoiceCsvSource(csv_path, mapping).collect())
    assert lines[0].billed_cost == Decimal("123.45") and lines[0].currency == "EUR"
    assert lines[0].charge_period_end_at == datetime(2026, 1, 3, tzinfo=UTC)
    assert lines[1].source_line_key == lines[0].source_line_key + "#2"


@pytest.mark.parametrize("column, value, problem, field", [
    ("Amount", "12.3.4", "not a number", "Amount"),
    ("Currency", "bitcoin", "unknown currency", "Currency"),
    ("Service Period Start", "2026-02-01", "does not match", "Service Period Start"),
])
def test_invoice_bad_cells(tmp_path, fixtures, column, value, problem, field):
    import csv

    rows = list(csv.DictReader(open(fixtures / "invoice.csv", newline="")))
    rows[2][column] = value
    path = tmp_path / "bad.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(SourceError, match=problem) as err:
        list(InvoiceCsvSource(path, fixtures / "invoice_mapping.yaml").collect())
    assert err.value.line == 4 and err.value.field == field


def test_invoice_missing_column_and_bad_mapping(tmp_path, fixtures):
    path = tmp_path / "inv.csv"
    path.write_text((fixtures / "invoice.csv").read_text().replace("Amount", "Total", 1))
    with pytest.raises(SourceError, match="missing column 'Amount'") as err:
        list(InvoiceCsvSource(path, fixtures / "invoice_mapping.yaml").collect())
    assert err.value.line == 1
    bad = tmp_path / "m.yaml"
    bad.write_text(yaml.safe_dump({"columns": {"date": "d"}}))
    with pytest.raises(SourceError, match="columns.amount is required"):
        load_mapping(bad)


def test_prices_golden(fixtures):
    prices = list(LiteLLMPriceSource(fixtures / "litellm_prices.json", date(2026, 1, 1)).collect())
    by_model = {(p.model, p.above_context_tokens): p for p in prices}
    assert "sample_spec" not in {p.model for p in prices} and "dall-e-3" not in {p.model for p in prices}
    assert by_model[("gpt-4o", 0)] == Price(
        provider="openai", model="gpt-4o", effective_from=date(2026, 1, 1), input_usd_per_mtok=Decimal("2.50"),
        output_usd_per_mtok=Decimal("10"), cached_input_usd_per_mtok=Decimal("1.25"),
        batch_input_usd_per_mtok=Decimal("1.25"), batch_output_usd_per_mtok=Decimal("5"), source="litellm",
    )
    mini = by_model[("gpt-4o-mini", 0)]
    assert (mini.input_usd_per_mtok, mini.cached_input_usd_per_mtok) == (Decimal("0.15"), Decimal("0.075"))
    tier = by_model[("claude-sonnet-4-20250514", 200_000)]
    assert (tier.input_usd_per_mtok, tier.output_usd_per_mtok, tier.cache_write_usd_per_mtok) == (
        Decimal("6"), Decimal("22.5"), Decimal("7.5"))
    assert by_model[("text-embedding-3-small", 0)].output_usd_per_mtok == Decimal("0")


@pytest.mark.parametrize("value, expected", [(2.5e-06, "2.5"), ("3e-07", "0.3"), (1e-05, "10"), (1.1e-07, "0.11")])
def test_per_mtok_exact(value, expected):
    assert per_mtok(value, "f", "x") == Decimal(expected)


def test_prices_bad_values(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"m": {"input_cost_per_token": "cheap", "litellm_provider": "x"}}')
    with pytest.raises(SourceError, match="not a number") as err:
        list(LiteLLMPriceSource(path, date(2026, 1, 1)).collect())
    assert err.value.field == "m.input_cost_per_token"
    path.write_text('{"m": {"input_cost_per_token": -1e-6, "litellm_provider": "x"}}')
    with pytest.raises(SourceError, match="negative"):
        list(LiteLLMPriceSource(path, date(2026, 1, 1)).collect())
    path.write_text('{"m": {"input_cost_per_token": 1e-6,')
    with pytest.raises(SourceError, match="invalid JSON"):
        list(LiteLLMPriceSource(path, date(2026, 1, 1)).collect())
