"""Commitments (reserved GPUs, provisioned throughput, prepaid credits) amortized by day, unused part shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models import audit, bounds
from models.ledger import LedgerError
from models.ledger.fx import check_currency
from models.queries import spread

KINDS = ("reserved_gpu", "provisioned_throughput", "prepaid_credit", "other")
CENT_E10 = Decimal("1e-10")


def add_commitment(conn: Connection, *, provider: str, name: str, start_on: date | None, end_on: date | None,
                   amount: Decimal | str, currency: str = "USD", kind: str = "other", account_id: str = "",
                   actor: str | None = None, source: str = "manual") -> int:
    """Add (or replace) a commitment; one without a term (start and end day) is refused."""
    if start_on is None or end_on is None:
        raise LedgerError(f"commitment {name!r} has no term: give its start and end day (or a number of months)")
    if end_on < start_on:
        raise LedgerError(f"commitment {name!r}: term ends {end_on}, before it starts {start_on}")
    if kind not in KINDS:
        raise LedgerError(f"commitment {name!r}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    try:
        money = Decimal(str(amount))
    except InvalidOperation:
        raise LedgerError(f"commitment {name!r}: amount {amount!r} is not a number") from None
    if not money.is_finite():
        raise LedgerError(f"commitment {name!r}: amount {amount!r} is not a number")
    why = bounds.problem("amount", money)
    if why:
        raise LedgerError(f"commitment {name!r}: amount {why}")
    currency = check_currency(currency, f"commitment {name!r}")
    key = {"p": provider, "a": account_id, "n": name}
    before = audit.row_dict(conn, "commitments", "provider = :p AND account_id = :a AND name = :n", key)
    new_id = conn.execute(sa.text(
        "INSERT INTO commitments (provider, account_id, name, start_on, end_on, amount, currency, kind, source) "
        "VALUES (:p, :a, :n, :s, :e, :m, :c, :k, :src) ON CONFLICT (provider, account_id, name) DO UPDATE SET "
        "start_on = EXCLUDED.start_on, end_on = EXCLUDED.end_on, amount = EXCLUDED.amount, "
        "currency = EXCLUDED.currency, kind = EXCLUDED.kind, source = EXCLUDED.source RETURNING id"),
        {**key, "s": start_on, "e": end_on, "m": money, "c": currency, "k": kind, "src": source}).scalar_one()
    after = {"provider": provider, "account_id": account_id, "name": name, "start_on": start_on, "end_on": end_on,
             "amount": money, "currency": currency, "kind": kind}
    audit.record(conn, actor, "commitment", f"{provider}/{account_id}/{name}", "create" if before is None else "update",
                 None if before is None else {k: before[k] for k in after}, after)
    return new_id


def _kind_of(ai_class: str, text: str) -> str:
    low = text.lower()
    if "provisioned" in low or "throughput" in low:
        return "provisioned_throughput"
    if "credit" in low or "prepaid" in low:
        return "prepaid_credit"
    return "reserved_gpu" if ai_class == "gpu" else "other"


def commitments_from_focus(conn: Connection, *, actor: str | None = None) -> tuple[int, int]:
    """Make commitments from FOCUS Purchase lines with a term (a charge period over one day).

    Returns (added, skipped): purchases whose charge period is one day or less have no term
    and are left as one-off purchases.
    """
    rows = conn.execute(sa.text(
        "SELECT provider, account_id, source_line_key, line_item, ai_class, currency, billed_cost, "
        "CAST((charge_period_start_at AT TIME ZONE 'UTC') AS date), "
        "CAST((charge_period_end_at AT TIME ZONE 'UTC') AS date), charge_period_end_at - charge_period_start_at "
        "FROM cost_lines WHERE basis = 'focus' AND charge_category = 'purchase' ORDER BY id")).all()
    added = skipped = 0
    for provider, account, key, item, ai_class, currency, billed, start, end, length in rows:
        if length <= timedelta(days=1):
            skipped += 1
            continue
        # ChargePeriodEnd is exclusive in FOCUS; the commitment's end day is included.
        add_commitment(conn, provider=provider, account_id=account, name=item or key, start_on=start,
                       end_on=end - timedelta(days=1), amount=billed, currency=currency,
                       kind=_kind_of(ai_class, item), actor=actor, source=f"focus:{key}")
        added += 1
    return added, skipped


AMORTIZED_SCHEMA = {"commitment": pl.String, "provider": pl.String, "account_id": pl.String, "kind": pl.String,
                    "day": pl.Date, "currency": pl.String, "amortized": pl.Decimal(38, 18),
                    "used": pl.Decimal(38, 18), "unused": pl.Decimal(38, 18)}


def daily_amounts(amount: Decimal, start_on: date, end_on: date) -> list[tuple[date, Decimal]]:
    """The amount spread evenly over each day of the term (1e-10 steps), the last day taking the remainder."""
    days = (end_on - start_on).days + 1
    share = (amount / days).quantize(CENT_E10)
    out = [(start_on + timedelta(days=i), share) for i in range(days - 1)]
    out.append((end_on, amount - share * (days - 1)))
    return out


def amortized(conn: Connection, *, since: date, until: date) -> pl.DataFrame:
    """Each commitment's amortized amount per day in [since, until), split into used and unused.

    Used is the covered usage the provider reports for that provider and account and day:
    usage lines with BilledCost 0 and a positive EffectiveCost (FOCUS's way of saying "paid by
    a commitment"), up to the day's amortized amount, commitments in order of start.
    """
    commits = conn.execute(sa.text(
        "SELECT name, provider, account_id, kind, start_on, end_on, amount, currency FROM commitments "
        "WHERE start_on < :u AND end_on >= :s ORDER BY start_on, id"), {"s": since, "u": until}).all()
    commits = sorted([*commits, *_purchase_terms(conn, since, until)], key=lambda c: (c[4], c[0]))
    window = {"since": datetime.combine(since, time(0), tzinfo=UTC), "until": datetime.combine(until, time(0), tzinfo=UTC)}
    covered = {(p, a, d, c): v for p, a, d, c, v in conn.execute(sa.text(f"""
        WITH lines AS (
            SELECT c.id, c.provider, c.account_id, c.currency, c.effective_cost, sp.day, sp.win_secs,
                   {spread.share('c.effective_cost', 'c.id')} AS effective_day
            FROM cost_lines c {spread.spread_join('c.charge_period_start_at', 'c.charge_period_end_at')}
            WHERE c.charge_category = 'usage' AND c.billed_cost = 0 AND c.effective_cost > 0 AND {spread.overlaps('c')})
        SELECT provider, account_id, day, currency, sum(effective_day) FROM lines
        WHERE win_secs > 0 GROUP BY 1, 2, 3, 4"""), window).all()}
    out = []
    for name, provider, account, kind, start_on, end_on, amount, currency in commits:
        for day, share in daily_amounts(amount, start_on, end_on):
            if not since <= day < until:
                continue
            left = covered.get((provider, account, day, currency), Decimal(0))
            used = min(share, left)
            covered[(provider, account, day, currency)] = left - used
            out.append((name, provider, account, kind, day, currency, share, used, share - used))
    return pl.DataFrame(out, schema=AMORTIZED_SCHEMA, orient="row")


def _purchase_terms(conn: Connection, since: date, until: date) -> list[tuple]:
    """FOCUS and invoice Purchase lines with a term that no stored commitment came from, as commitments.

    A prepayment amortizes over its charge period whether or not `ledger commitment from-focus`
    has made it an editable commitment; ChargePeriodEnd is exclusive, so the term ends the day before.
    """
    rows = conn.execute(sa.text(
        "SELECT c.provider, c.account_id, c.source_line_key, c.line_item, c.ai_class, c.currency, c.billed_cost, "
        "CAST((c.charge_period_start_at AT TIME ZONE 'UTC') AS date), "
        "CAST((c.charge_period_end_at AT TIME ZONE 'UTC') AS date) - 1 "
        "FROM cost_lines c WHERE c.basis IN ('focus', 'invoice') AND c.charge_category = 'purchase' "
        "AND c.charge_period_end_at - c.charge_period_start_at > interval '1 day' "
        "AND c.charge_period_start_at < :u AND c.charge_period_end_at > :s "
        "AND NOT EXISTS (SELECT 1 FROM commitments m WHERE m.source = 'focus:' || c.source_line_key) ORDER BY c.id"),
        {"s": datetime.combine(since, time(0), tzinfo=UTC), "u": datetime.combine(until, time(0), tzinfo=UTC)}).all()
    return [(item or key, provider, account, _kind_of(ai_class, item), start, end, billed, currency)
            for provider, account, key, item, ai_class, currency, billed, start, end in rows]


def summary(frame: pl.DataFrame) -> pl.DataFrame:
    """Per commitment: amortized, used and unused over the frame's days, and the unused share."""
    return (frame.group_by("commitment", "provider", "kind", "currency")
            .agg(pl.col("day").count().alias("days"), pl.col("amortized").sum(), pl.col("used").sum(),
                 pl.col("unused").sum())
            .sort("commitment"))
