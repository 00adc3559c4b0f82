"""Commitments: amortized by day over their term, used and unused parts shown; no term, no commitment."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa

from ingest import records as r
from ingest.loader import load
from models.ledger import commitments as cm


def test_one_year_commitment_amortized_by_day_with_unused_part(engine, cli):
    result = cli("ledger", "commitment", "add", "h100-reserved", "--provider", "aws", "--account", "acct",
                 "--amount", "36500.00", "--start", "2026-01-01", "--months", "12", "--kind", "reserved_gpu")
    assert result.exit_code == 0, result.output
    day = datetime(2026, 3, 1, tzinfo=timezone.utc)
    # usage the commitment paid for: FOCUS says BilledCost 0, EffectiveCost 60
    load(engine, [r.CostLine(basis="focus", provider="aws", account_id="acct", source_line_key="covered",
                             charge_period_start_at=day, charge_period_end_at=day + timedelta(days=1),
                             billed_cost=Decimal(0), effective_cost=Decimal("60"), ai_class="gpu")],
         source="test", target="t")
    with engine.connect() as conn:
        year = cm.amortized(conn, since=date(2026, 1, 1), until=date(2027, 1, 1))
    assert year.height == 365
    assert sum(year["amortized"].to_list(), Decimal(0)) == Decimal("36500.00")
    march1 = year.filter(year["day"] == date(2026, 3, 1)).row(0, named=True)
    assert (march1["amortized"], march1["used"], march1["unused"]) == (Decimal(100), Decimal(60), Decimal(40))
    summary = cm.summary(year).row(0, named=True)
    assert summary["used"] == Decimal(60) and summary["unused"] == Decimal("36440.00")


def test_uneven_amount_sums_exactly():
    parts = cm.daily_amounts(Decimal("1000.00"), date(2026, 1, 1), date(2026, 12, 31))
    assert len(parts) == 365 and sum(a for _d, a in parts) == Decimal("1000.00")


def test_commitment_without_a_term_is_refused(engine, cli):
    result = cli("ledger", "commitment", "add", "credits", "--provider", "openai", "--amount", "5000")
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: commitment 'credits' has no term: give its start and end day "
                                     "(or a number of months)")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar() == 0


def test_focus_purchase_with_a_term_becomes_a_commitment(engine):
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    load(engine, [
        r.CostLine(basis="focus", provider="azure", account_id="a", source_line_key="ptu", charge_category="purchase",
                   charge_period_start_at=start, charge_period_end_at=start + timedelta(days=365),
                   billed_cost=Decimal("7300"), line_item="Provisioned Throughput Units", ai_class="token"),
        r.CostLine(basis="focus", provider="azure", account_id="a", source_line_key="oneoff", charge_category="purchase",
                   charge_period_start_at=start, charge_period_end_at=start + timedelta(days=1),
                   billed_cost=Decimal("10"), line_item="Support", ai_class="other"),
    ], source="test", target="t")
    with engine.begin() as conn:
        assert cm.commitments_from_focus(conn, actor="tester") == (1, 1)
        row = conn.execute(sa.text("SELECT kind, start_on, end_on, amount FROM commitments")).one()
    assert row == ("provisioned_throughput", date(2026, 1, 1), date(2026, 12, 31), Decimal("7300"))
