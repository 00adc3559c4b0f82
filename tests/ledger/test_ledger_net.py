"""Gross and net: usage, credits, refunds and tax kept apart and netted."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from ingest import records as r
from ingest.loader import load
from models.ledger import lines
from models.queries.spend import spend_by

D0 = datetime(2026, 10, 5, tzinfo=timezone.utc)
WINDOW = dict(since=D0, until=D0 + timedelta(days=1))


def _line(key, category, amount):
    return r.CostLine(basis="focus", provider="openai", account_id="acct", source_line_key=key,
                      charge_period_start_at=D0, charge_period_end_at=D0 + timedelta(days=1),
                      billed_cost=Decimal(amount), charge_category=category, ai_class="token",
                      billing_period_start_at=datetime(2026, 10, 1, tzinfo=timezone.utc))


def test_credits_and_refunds_are_netted(engine, cli):
    load(engine, [_line("u", "usage", "100.00"), _line("c", "credit", "-20.00"), _line("r", "refund", "-5.00"),
                  _line("t", "tax", "8.25")], source="test", target="t")
    with engine.connect() as conn:
        row = spend_by(conn, by="provider", **WINDOW).row(0, named=True)
        totals = lines.totals(lines.ledger_daily(conn, **WINDOW)).row(0, named=True)
    assert row["gross_usd"] == Decimal("100.00") and row["credits_usd"] == Decimal("-25.00")
    assert row["tax_usd"] == Decimal("8.25") and row["cost_usd"] == Decimal("83.25")
    assert (totals["gross"], totals["credits"], totals["refunds"], totals["tax"], totals["net"]) == (
        Decimal("100"), Decimal("-20"), Decimal("-5"), Decimal("8.25"), Decimal("83.25"))
    net = json.loads(cli("spend", "--since", "2026-10-05", "--until", "2026-10-05", "--json").stdout)[0]
    gross = json.loads(cli("spend", "--since", "2026-10-05", "--until", "2026-10-05", "--json", "--gross").stdout)[0]
    assert net["cost"] == 83.25 and gross["cost"] == 100.0 and net["cost_usd"] == gross["cost_usd"] == 83.25
    assert net["credits_usd"] == -25.0 and net["tax_usd"] == 8.25
    table = cli("ledger", "totals", "--since", "2026-10-05", "--until", "2026-10-05", "--json")
    assert json.loads(table.stdout)[0]["net"] == 83.25
