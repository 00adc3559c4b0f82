"""A load that changes a closed month shows up in the next weekly report as a restatement."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa

from app.reports.tables import quality_tables
from ingest import records as r
from ingest.loader import load
from models.ledger.periods import close_period
from models.reports.data import restatements_in, week_of

OCT = datetime(2026, 10, 5, tzinfo=timezone.utc)


def _line(key: str, amount: str) -> r.CostLine:
    return r.CostLine(basis="cost_api", provider="openai", account_id="a", source_line_key=key,
                      charge_period_start_at=OCT, charge_period_end_at=OCT + timedelta(days=1),
                      billed_cost=Decimal(amount))


def test_restatement_recorded_this_week_is_listed(engine):
    load(engine, [_line("k1", "100.00")], source="t", target="t")
    with engine.begin() as conn:
        close_period(conn, "2026-10", actor="test")
    load(engine, [_line("k2", "5.00")], source="t", target="late invoice line")
    with engine.connect() as conn:
        # Restatements are stamped by the database server at the write; the week is the server's.
        week = week_of(conn.execute(sa.text("SELECT now()")).scalar_one())
        found = restatements_in(conn, week)
    assert found.height >= 1
    assert Decimal("5.00") in {row["difference"] for row in found.iter_rows(named=True)}

    class Rep:  # just what quality_tables reads
        quality = {"unpriced_tokens": 0, "unpriced_rows": 0, "unpriced_models": [], "unallocated_usd": Decimal(0),
                   "bases": ["cost_api"]}
        failed_runs = found.head(0)
        restatements = found

        class fleet:
            unpriced_gpu_hours = 0.0

    tables = {t.title: t for t in quality_tables(Rep)}
    assert tables["Restatements of closed months"].rows
