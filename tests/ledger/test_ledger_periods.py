"""Period close: frozen totals, restatements from later loads, refusals, reopen."""

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa

from ingest import records as r
from ingest.loader import load
from models.ledger import periods

OCT = datetime(2026, 10, 1, tzinfo=timezone.utc)
WINDOW = ("--since", "2026-10-01", "--until", "2026-10-31")


def _cost(key, day, amount):
    start = OCT + timedelta(days=day)
    return r.CostLine(basis="cost_api", provider="openai", account_id="acct", source_line_key=key,
                      charge_period_start_at=start, charge_period_end_at=start + timedelta(days=1),
                      billed_cost=Decimal(amount))


def _spend_total(cli, *extra):
    rows = json.loads(cli("spend", *WINDOW, "--json", *extra).stdout)
    return sum(Decimal(str(row["cost_usd"])) for row in rows), rows


def test_load_after_close_is_a_restatement_and_the_closed_total_stays(engine, cli):
    load(engine, [_cost("a", 0, "10.00"), _cost("b", 5, "20.00")], source="test", target="first")
    result = cli("period", "close", "2026-10", "--actor", "fin@example.com")
    assert result.exit_code == 0, result.output
    assert _spend_total(cli)[0] == Decimal("30.00")
    late = load(engine, [_cost("c", 9, "7.50")], source="test", target="late")  # a late line for a closed month
    total, rows = _spend_total(cli)
    assert total == Decimal("30.00")  # the closed total did not change
    assert rows[0]["restated"] == 7.5
    assert "restatement: closed month(s) 2026-10" in cli("spend", *WINDOW).stderr
    with engine.connect() as conn:
        found = periods.restatements(conn, period="2026-10")
    total_row = found.filter(found["dimension"] == "total").row(0, named=True)
    assert (total_row["before"], total_row["after"], total_row["difference"]) == (
        Decimal("30.00"), Decimal("37.50"), Decimal("7.50"))
    assert total_row["run_id"] == late.run_id and "late" in total_row["reason"]
    listed = json.loads(cli("period", "list", "--json").stdout)[0]
    assert listed["state"] == "closed" and listed["frozen_total_usd"] == 30 and listed["restated_usd"] == 7.5
    # the same load again changes nothing more: no second restatement
    load(engine, [_cost("c", 9, "7.50")], source="test", target="late")
    with engine.connect() as conn:
        assert periods.restatements(conn, period="2026-10").height == found.height
    reopened = cli("period", "reopen", "2026-10", "--reason", "late invoice")
    assert reopened.exit_code == 0 and _spend_total(cli)[0] == Decimal("37.50")


def test_close_refusals(engine, cli):
    for month, message in (("2026-13", "month '2026-13' is malformed"), ("oct", "month 'oct' is malformed"),
                           ("2026-09", "month 2026-09 has no data to close")):
        result = cli("period", "close", month)
        assert result.exit_code == 2 and result.stderr.strip() == f"error: {message}" + (
            ": use YYYY-MM (2026-10)" if "malformed" in message else "")
    start = OCT + timedelta(days=2, hours=1)
    load(engine, [r.UsageHourly(provider="openai", account_id="acct", bucket_start_at=start,
                                bucket_end_at=start + timedelta(hours=1), model="no-price-model", input_tokens=10,
                                output_tokens=5)], source="test", target="t")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO ingest_runs (source, target, status, error) "
                             "VALUES ('focus', 'oct.csv', 'failed', 'bad row')"))
    refused = cli("period", "close", "2026-10")
    assert refused.exit_code == 2
    assert "refusing to close 2026-10: 1 failed runs, 1 unpriced rows" in refused.stderr
    assert cli("period", "close", "2026-10", "--force").exit_code == 2  # --force needs --reason
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM periods")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM period_snapshots")).scalar() == 0
    forced = cli("period", "close", "2026-10", "--force", "--reason", "model price pending from vendor")
    assert forced.exit_code == 0, forced.output
    with engine.connect() as conn:
        state = periods.period_state(conn, "2026-10")
    assert state["forced"] and state["reason"] == "model price pending from vendor"
    assert cli("period", "close", "2026-10").exit_code == 2  # already closed


def test_frozen_figures_cover_only_the_closed_month(engine, cli):
    load(engine, [_cost("a", 0, "10.00"), _cost("nov", 31, "4.00")], source="test", target="t")
    assert cli("period", "close", "2026-10").exit_code == 0
    load(engine, [_cost("nov2", 32, "1.00")], source="test", target="t2")  # November is open: no restatement
    res = cli("spend", "--since", "2026-10-01", "--until", "2026-11-30", "--json", "--by", "day")
    assert res.exception is None, repr(res.exception)
    rows = json.loads(res.stdout)
    by_day = {row["group"]: Decimal(str(row["cost_usd"])) for row in rows}
    assert by_day == {str(date(2026, 10, 1)): Decimal("10.00"), str(date(2026, 11, 1)): Decimal("4.00"),
                      str(date(2026, 11, 2)): Decimal("1.00")}
    with engine.connect() as conn:
        assert periods.restatements(conn).height == 0
