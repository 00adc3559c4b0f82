"""Locale and units never become money: invoices read by declared locale, prices per Mtok, bounds with an override."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from guard_support import refused, rows, run_cli, scalar

from ingest.base import SourceError
from ingest.sources._amounts import AmountReader
from models import bounds
from tests_support import REPO_ROOT

HEADER = "Date,Vendor,Description,Amount,Currency\n"
MAPPING = """columns:
  date: Date
  provider: Vendor
  description: Description
  amount: Amount
  currency: Currency
{extra}
"""


def _invoice(tmp_path: Path, amounts: list[str], extra: str = "") -> tuple[Path, Path]:
    csv_path, mapping = tmp_path / "invoice.csv", tmp_path / "mapping.yaml"
    csv_path.write_text(HEADER + "".join(f'2026-10-0{i + 1},acme,line {i},"{a}",EUR\n' for i, a in enumerate(amounts)))
    mapping.write_text(MAPPING.format(extra=extra))
    return csv_path, mapping


def _billed(url: str) -> list[Decimal]:
    return [r[0] for r in rows(url, "SELECT billed_cost FROM cost_lines ORDER BY charge_period_start_at")]


@pytest.mark.parametrize("amount, locale, expected", [
    ("1.234,56", "decimal_separator: ','", Decimal("1234.56")),  # was stored as 1.23456 (1000x low)
    ("1234,56", "", Decimal("1234.56")),  # was 123456 (100x high); only one reading
    ("1 234,56", "locale: fr-FR", Decimal("1234.56")),  # was 123456
    ("1.234,56", "locale: de-DE", Decimal("1234.56")),
    ("1,234.56", "", Decimal("1234.56")),
    ("(12.50)", "", Decimal("-12.50")),
])
def test_invoice_amounts_follow_the_locale(cli_env, tmp_path, no_run_left_running, amount, locale, expected):
    csv_path, mapping = _invoice(tmp_path, [amount], locale)
    result = run_cli("ingest", "invoice", csv_path, "--mapping", mapping)
    assert result.code == 0, result.output
    assert _billed(cli_env) == [expected]


def test_invoice_ambiguous_amount_is_refused_with_both_readings(cli_env, tmp_path, no_run_left_running):
    csv_path, mapping = _invoice(tmp_path, ["12.50", "1,234"])
    line = refused(run_cli("ingest", "invoice", csv_path, "--mapping", mapping), str(csv_path), "line 3",
                   "'Amount'", "1.234 if ',' is the decimal separator", "1234 if it groups thousands")
    assert "declare the file's locale" in line
    assert _billed(cli_env) == []  # no partial rows
    assert scalar(cli_env, "SELECT status FROM ingest_runs ORDER BY id DESC LIMIT 1") == "failed"
    # The same file with its locale declared on the command line loads, and means 1,234 = 1234.
    ok = run_cli("ingest", "invoice", csv_path, "--mapping", mapping, "--decimal-separator", ".")
    assert ok.code == 0, ok.output
    assert _billed(cli_env) == [Decimal("12.50"), Decimal("1234")]


def test_invoice_lines_that_disagree_on_the_separator_are_refused(cli_env, tmp_path):
    csv_path, mapping = _invoice(tmp_path, ["1,234.56", "1234,56"])
    refused(run_cli("ingest", "invoice", csv_path, "--mapping", mapping), "line 3", "line 2 used '.'")
    assert _billed(cli_env) == []


@pytest.mark.parametrize("amount, problem", [
    ("1e30", "not a number"), ("1e300", "not a number"), ("1_000", "not a number"),
    ("2000000000", "outside the plausible range"),
])
def test_invoice_exponents_underscores_and_huge_amounts_are_refused(cli_env, tmp_path, amount, problem):
    csv_path, mapping = _invoice(tmp_path, [amount])
    refused(run_cli("ingest", "invoice", csv_path, "--mapping", mapping), str(csv_path), "line 2", "Amount", problem)
    assert _billed(cli_env) == []


def test_invoice_huge_amount_loads_with_the_audited_override(cli_env, tmp_path):
    csv_path, mapping = _invoice(tmp_path, ["2000000000"])
    result = run_cli("ingest", "invoice", csv_path, "--mapping", mapping, "--accept-implausible", "amount",
                     "--actor", "cfo@example.com")
    assert result.code == 0, result.output
    assert _billed(cli_env) == [Decimal("2000000000")]
    actor, after = rows(cli_env, "SELECT actor, after FROM audit_log WHERE action = 'accept_implausible'")[0]
    assert actor == "cfo@example.com" and after["fields"] == ["amount"] and after["values"][0]["line"] == 2


def test_invoice_period_that_ends_before_it_starts_is_refused(cli_env, tmp_path):
    csv_path, mapping = tmp_path / "inv.csv", tmp_path / "map.yaml"
    csv_path.write_text("From,To,Vendor,Amount\n2026-10-31,2026-10-01,acme,10.00\n")
    mapping.write_text("columns:\n  period_start: From\n  period_end: To\n  provider: Vendor\n  amount: Amount\n")
    refused(run_cli("ingest", "invoice", csv_path, "--mapping", mapping), "line 2", "'To'", "ends", "before it starts")
    assert _billed(cli_env) == []


def test_unknown_override_field_is_refused(cli_env, tmp_path):
    csv_path, mapping = _invoice(tmp_path, ["10.00"])
    refused(run_cli("ingest", "invoice", csv_path, "--mapping", mapping, "--accept-implausible", "amout"),
            "unknown field 'amout'")


@pytest.mark.parametrize("option, value, hint", [
    ("--input", "0.0000025", "0.0000025 looks like a per-token price: 2.50 per Mtok?"),
    ("--output", "2500000", "per Mtok is $2.5 per token"),
])
def test_prices_per_token_or_millions_are_refused(cli_env, option, value, hint):
    other = "--output" if option == "--input" else "--input"
    result = run_cli("prices", "set", "openai", "gpt-x", option, value, other, "1.00", "--effective-from", "2026-01-01")
    refused(result, f"field '{option}'", hint, "--accept-implausible usd_per_mtok")
    # A first price for a model applies at once, so a wrong one must never get in: nothing was stored.
    assert scalar(cli_env, "SELECT count(*) FROM prices") == 0


def test_prices_nan_and_zero(cli_env):
    refused(run_cli("prices", "set", "openai", "gpt-x", "--input", "nan", "--output", "1"), "--input")
    ok = run_cli("prices", "set", "openai", "gpt-free", "--input", "0", "--output", "0")
    assert ok.code == 0, ok.output  # zero is a real price (a free tier)


def test_prices_per_token_accepted_when_the_user_says_so(cli_env):
    result = run_cli("prices", "set", "openai", "gpt-nano", "--input", "0.0005", "--output", "1",
                     "--accept-implausible", "usd_per_mtok")
    assert result.code == 0, result.output
    assert scalar(cli_env, "SELECT input_usd_per_mtok FROM prices") == Decimal("0.0005")
    assert scalar(cli_env, "SELECT count(*) FROM audit_log WHERE action = 'accept_implausible'") == 1


def test_litellm_price_map_in_wrong_units_is_refused(cli_env, tmp_path):
    path = tmp_path / "prices.json"
    path.write_text('{"gpt-x": {"litellm_provider": "openai", "input_cost_per_token": 2.5, '
                    '"output_cost_per_token": 0.00001}}')  # 2.5 USD per token is $2.5M per Mtok
    refused(run_cli("prices", "import-litellm", path), str(path), "gpt-x.input_cost_per_token", "2500000")
    assert scalar(cli_env, "SELECT count(*) FROM prices") == 0


def test_dashboard_edits_use_the_bounds(engine):
    from datetime import date

    from models.edits import EditError, add_price, check_price_field, set_budget

    with pytest.raises(EditError, match="per-token price"):
        add_price(engine, provider="openai", model="m", effective_from=date(2026, 1, 1),
                  input_usd_per_mtok="0.0000025", output_usd_per_mtok="10")
    with pytest.raises(EditError, match="per-token price"):
        check_price_field("input price", "0.000001")
    with pytest.raises(EditError, match="monthly budget"):
        set_budget(engine, scope="team", name="t", monthly_usd="1e12")


def test_fx_rate_and_gpu_profile_bounds(engine):
    from models.ledger import LedgerError
    from models.ledger.edits import save_gpu_profile
    from models.ledger.fx import check_rate

    with pytest.raises(LedgerError, match="outside the plausible range"):
        check_rate("10000000", "rates.csv:2")
    with engine.begin() as conn, pytest.raises(LedgerError, match="hourly rate usd"):
        save_gpu_profile(conn, "p", {"gpu_type": "H100", "gpu_count": 8, "pricing": "rent", "hourly_rate_usd": 2500})


def test_amount_reader_never_guesses():
    reader = AmountReader("f.csv")
    with pytest.raises(SourceError, match="ambiguous"):
        reader.parse("1.234", field="a", line=2)
    assert AmountReader("f.csv", ",").parse("1.234", field="a", line=2) == Decimal("1234")
    assert AmountReader("f.csv", ".").parse("1.234", field="a", line=2) == Decimal("1.234")
    assert AmountReader("f.csv").parse("0.125", field="a", line=2) == Decimal("0.125")  # no group starts with 0


def test_bounds_table_is_in_docs():
    text = (REPO_ROOT / "docs" / "ingest.md").read_text()
    assert bounds.markdown_table() in text
    assert "--accept-implausible" in text


def test_every_bound_names_its_override():
    for kind, bound in bounds.BOUNDS.items():
        message = bounds.problem(kind, bound.high * 2 + 1)
        assert message and f"--accept-implausible {kind}" in message and bound.unit in message
    assert "outside the plausible window" in bounds.time_problem("observed_at", datetime(1970, 1, 1, tzinfo=UTC))
    assert "outside the plausible window" in bounds.time_problem("observed_at", datetime(2100, 1, 1, tzinfo=UTC))
