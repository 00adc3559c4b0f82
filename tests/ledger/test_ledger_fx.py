"""Currencies: an EUR FOCUS file converts exactly at each charge day's rate; without rates it stays unconverted."""

import csv
import json
from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa

from ingest.loader import load
from ingest.sources.focus import FocusSource
from models.ledger import lines
from models.queries.spend import allocated_daily

SEPT = dict(since=datetime(2024, 9, 1, tzinfo=timezone.utc), until=datetime(2024, 10, 1, tzinfo=timezone.utc))
WINDOW = ("--since", "2024-09-01", "--until", "2024-09-30")


def _rates_file(tmp_path, rows):
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,rate\n" + "".join(f"{d},{c},{r}\n" for d, c, r in rows))
    return path


def _september_rates():
    # a different rate every day, so a line converted at the wrong day's rate would show
    return [(f"2024-09-{d:02d}", "EUR", f"1.08{d:02d}37") for d in range(1, 31)]


def _expected_usd(path):
    rates = {d: Decimal(r) for d, _c, r in _september_rates()}
    with open(path, newline="") as fh:
        return sum((Decimal(row["BilledCost"]) * rates[row["ChargePeriodStart"][:10]] for row in csv.DictReader(fh)),
                   Decimal(0))


def _load_focus(engine, path):
    src = FocusSource(path)
    load(engine, src.collect(), source="focus", target=src.describe())


def test_eur_focus_converts_exactly_with_rates(engine, cli, eur_focus, tmp_path):
    _load_focus(engine, eur_focus)
    result = cli("fx", "load", _rates_file(tmp_path, _september_rates()))
    assert result.exit_code == 0, result.output
    expected = _expected_usd(eur_focus)
    with engine.connect() as conn:
        daily = allocated_daily(conn, **SEPT)
        ledger = lines.totals(lines.ledger_daily(conn, **SEPT, currency="USD"))
    assert sum(daily["cost_usd"].to_list(), Decimal(0)) == expected  # exact Decimal, no float on the way
    assert daily["unconverted_rows"].sum() == 0
    assert ledger["net"][0] == expected and ledger["unconverted_rows"][0] == 0
    rows = json.loads(cli("spend", *WINDOW, "--json").stdout)
    assert rows[0]["currency"] == "USD" and rows[0]["unconverted_rows"] == 0
    assert abs(Decimal(str(rows[0]["cost_usd"])) - expected) < Decimal("1e-9")
    assert {"gross_usd", "credits_usd", "tax_usd", "cost_basis", "unpriced_rows"} <= rows[0].keys()


def test_without_rates_lines_are_unconverted_not_dollars(engine, cli, eur_focus):
    _load_focus(engine, eur_focus)
    with engine.connect() as conn:
        daily = allocated_daily(conn, **SEPT)
        ledger_daily = lines.ledger_daily(conn, **SEPT, currency="USD")
    assert daily["unconverted_rows"].sum() == 9
    assert sum(daily["cost_usd"].to_list(), Decimal(0)) == 0  # never summed at 1:1
    totals = lines.totals(ledger_daily)
    assert totals["net"][0] == 0 and totals["unconverted_rows"][0] == 9
    assert totals["unconverted_currencies"][0] == "EUR"
    shown = lines.unconverted(ledger_daily)
    assert shown["currency"].to_list() == ["EUR"] and shown["rows"][0] == 9
    result = cli("spend", *WINDOW)
    assert "unconverted: 9 cost line(s)" in result.stderr
    rows = json.loads(cli("spend", *WINDOW, "--json").stdout)
    assert rows[0]["unconverted_rows"] == 9 and rows[0]["cost_usd"] == 0


def test_report_in_another_currency(engine, cli, eur_focus, tmp_path):
    _load_focus(engine, eur_focus)
    cli("fx", "load", _rates_file(tmp_path, _september_rates()))
    rows = json.loads(cli("spend", *WINDOW, "--json", "--currency", "EUR").stdout)
    # EUR lines converted to USD and back to EUR give the original EUR amounts (to 1e-9 per day row)
    with open(eur_focus, newline="") as fh:
        original = sum(Decimal(r["BilledCost"]) for r in csv.DictReader(fh))
    assert rows[0]["currency"] == "EUR"
    assert abs(Decimal(str(rows[0]["cost"])) - original) < Decimal("1e-8")
    assert abs(Decimal(str(rows[0]["cost_usd"])) - _expected_usd(eur_focus)) < Decimal("1e-9")  # USD stays USD
    no_rate = cli("spend", "--since", "2024-08-01", "--until", "2024-09-30", "--currency", "EUR")
    assert no_rate.exit_code == 0
    assert cli("spend", *WINDOW, "--currency", "XYZ").exit_code == 2


def test_bad_rate_files_write_nothing(engine, cli, tmp_path):
    cases = {
        "missing": ("2024-09-01,EUR,1.1\n2024-09-02,EUR,\n", ":3: missing rate"),
        "text": ("2024-09-01,EUR,abc\n", ":2: rate 'abc' is not a number"),
        "duplicate": ("2024-09-01,EUR,1.1\n2024-09-01,EUR,1.2\n", ":3: duplicate rate for EUR on 2024-09-01"),
        "currency": ("2024-09-01,EUX,1.1\n", ":2: unknown currency 'EUX'"),
    }
    for name, (body, message) in cases.items():
        path = tmp_path / f"{name}.csv"
        path.write_text("date,currency,rate\n" + body)
        result = cli("fx", "load", path)
        assert result.exit_code == 2, (name, result.output)
        lines_out = result.stderr.strip().splitlines()
        assert len(lines_out) == 1 and str(path) in lines_out[0] and message in lines_out[0], (name, result.stderr)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM fx_rates")).scalar() == 0
