"""Period close: a closed month's figures are frozen; later changes are kept as restatements beside them."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from ingest.runs import abandon_dead_runs, unfinished_runs
from models import audit
from models.ledger import LedgerError
from models.ledger.lines import ledger_daily
from models.queries.spend import SCHEMA, allocated_daily

RESTATED_DIMENSIONS = {"total": None, "provider": "provider", "workload": "workload", "team": "team",
                       "basis": "cost_basis"}
_SPEND_COLUMNS = ("day", "provider", "account_id", "model", "workload", "team", "cost_basis", "cost_usd",
                  "gross_usd", "credits_usd", "tax_usd", "input_tokens", "cached_input_tokens", "output_tokens",
                  "reasoning_tokens", "unpriced_tokens", "unpriced_rows", "unconverted_rows")


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """[first day 00:00Z, next month's first day 00:00Z) of a YYYY-MM month, or a LedgerError."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", period or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise LedgerError(f"month {period!r} is malformed: use YYYY-MM (2026-10)")
    year, month = int(match.group(1)), int(match.group(2))
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=timezone.utc)
    return start, end


def _live_spend(conn: Connection, start: datetime, end: datetime) -> pl.DataFrame:
    return allocated_daily(conn, since=start, until=end)


def blockers(conn: Connection, period: str) -> dict[str, int]:
    """What stands in the way of closing: failed or abandoned ingest runs, unpriced rows, unconverted lines."""
    start, end = month_bounds(period)
    failed = conn.execute(sa.text(
        "SELECT count(*) FROM ingest_runs f WHERE f.status = 'failed' AND f.started_at >= :s AND NOT EXISTS ("
        "SELECT 1 FROM ingest_runs ok WHERE ok.status = 'succeeded' AND ok.source = f.source "
        "AND ok.target = f.target AND ok.started_at > f.started_at)"), {"s": start}).scalar_one()
    spend = _live_spend(conn, start, end)
    lines = ledger_daily(conn, since=start, until=end)
    return {"failed_runs": int(failed), "abandoned_runs": unfinished_runs(conn, since=start).get("abandoned", 0),
            "unpriced_rows": int(spend["unpriced_rows"].sum() or 0),
            "unconverted_rows": int(lines["unconverted_rows"].sum() or 0)}


def _has_data(conn: Connection, start: datetime, end: datetime) -> bool:
    return bool(conn.execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM cost_lines WHERE charge_period_start_at >= :s AND charge_period_start_at < :e) "
        "OR EXISTS (SELECT 1 FROM usage_hourly WHERE bucket_start_at >= :s AND bucket_start_at < :e) "
        "OR EXISTS (SELECT 1 FROM usage_requests WHERE started_at >= :s AND started_at < :e)"),
        {"s": start, "e": end}).scalar())


def period_state(conn: Connection, period: str) -> dict | None:
    """The period's row (state, who closed it, why), or None if never closed."""
    return audit.row_dict(conn, "periods", "period = :p", {"p": period})


def close_period(conn: Connection, period: str, *, actor: str | None = None, force: bool = False,
                 reason: str = "", reporting_currency: str = "USD") -> dict:
    """Freeze a month's figures into period_snapshots; refused on blockers unless forced with a reason."""
    start, end = month_bounds(period)
    state = period_state(conn, period)
    if state is not None and state["state"] == "closed":
        raise LedgerError(f"month {period} is already closed (reopen it first: `hybridcost period reopen {period}`)")
    if not _has_data(conn, start, end):
        raise LedgerError(f"month {period} has no data to close")
    if force and not reason.strip():
        raise LedgerError(f"closing {period} with --force needs --reason")
    abandon_dead_runs(conn)
    unfinished = unfinished_runs(conn, since=start)
    if unfinished.get("running"):
        # A load in flight would change the figures right after they are frozen: never close beside one.
        raise LedgerError(f"refusing to close {period}: {unfinished['running']} ingest run(s) still running; "
                          "wait for them to finish (`hybridcost doctor` marks dead ones abandoned)")
    found = blockers(conn, period)
    if any(found.values()) and not force:
        listed = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in found.items() if v)
        raise LedgerError(f"refusing to close {period}: {listed}; fix them or use --force --reason TEXT")
    snapshot(conn, period, start, end, reporting_currency)
    conn.execute(sa.text(
        "INSERT INTO periods (period, state, reporting_currency, closed_at, closed_by, forced, reason) "
        "VALUES (:p, 'closed', :c, now(), :a, :f, :r) ON CONFLICT (period) DO UPDATE SET state = 'closed', "
        "reporting_currency = :c, closed_at = now(), closed_by = :a, forced = :f, reason = :r"),
        {"p": period, "c": reporting_currency, "a": audit.default_actor(actor), "f": force, "r": reason})
    after = {"state": "closed", "forced": force, "reason": reason, "blockers": found,
             "total_usd": frozen_total(conn, period)}
    audit.record(conn, actor, "period", period, "close",
                 None if state is None else {"state": state["state"], "reason": state["reason"]}, after)
    return after


def snapshot(conn: Connection, period: str, start: datetime, end: datetime, currency: str) -> None:
    """Store the month's token spend (finest grain) and every cost line group, replacing any older snapshot."""
    conn.execute(sa.text("DELETE FROM period_snapshots WHERE period = :p"), {"p": period})
    spend = _live_spend(conn, start, end)
    for r in spend.iter_rows(named=True):
        conn.execute(sa.text(
            "INSERT INTO period_snapshots (period, kind, day, provider, account_id, model, workload, team, basis, "
            "currency, amount, gross, credits, tax, input_tokens, cached_input_tokens, output_tokens, "
            "reasoning_tokens, unpriced_tokens, unpriced_rows, unconverted_rows) VALUES (:p, 'spend', :day, "
            ":provider, :account_id, :model, :workload, :team, coalesce(:cost_basis, ''), 'USD', :cost_usd, "
            ":gross_usd, :credits_usd, :tax_usd, :input_tokens, :cached_input_tokens, :output_tokens, "
            ":reasoning_tokens, :unpriced_tokens, :unpriced_rows, :unconverted_rows)"), {"p": period, **r})
    lines = ledger_daily(conn, since=start, until=end, currency=currency)
    for r in lines.iter_rows(named=True):
        conn.execute(sa.text(
            "INSERT INTO period_snapshots (period, kind, day, provider, account_id, basis, currency, "
            "charge_category, ai_class, amount, amount_original, unconverted_rows) VALUES (:p, 'ledger', :day, "
            ":provider, :account_id, :basis, :currency, :charge_category, :ai_class, coalesce(:amount, 0), "
            ":amount_original, :unconverted_rows)"), {"p": period, **r})


def reopen_period(conn: Connection, period: str, *, actor: str | None = None, reason: str = "") -> None:
    """Reopen a closed month (audited): live figures count again; its snapshot is dropped, restatements kept."""
    month_bounds(period)
    state = period_state(conn, period)
    if state is None or state["state"] != "closed":
        raise LedgerError(f"month {period} is not closed")
    before = {"state": "closed", "closed_by": state["closed_by"], "total_usd": frozen_total(conn, period)}
    conn.execute(sa.text("DELETE FROM period_snapshots WHERE period = :p"), {"p": period})
    conn.execute(sa.text("UPDATE periods SET state = 'open', reason = :r WHERE period = :p"),
                 {"p": period, "r": reason})
    audit.record(conn, actor, "period", period, "reopen", before, {"state": "open", "reason": reason})


def closed_periods(conn: Connection) -> list[str]:
    """Closed months, oldest first."""
    return list(conn.execute(sa.text("SELECT period FROM periods WHERE state = 'closed' ORDER BY period")).scalars())


def frozen_total(conn: Connection, period: str) -> Decimal:
    """The closed month's frozen token spend total (USD)."""
    return conn.execute(sa.text("SELECT coalesce(sum(amount), 0) FROM period_snapshots WHERE period = :p "
                                "AND kind = 'spend'"), {"p": period}).scalar_one()


def frozen_spend(conn: Connection, period: str) -> pl.DataFrame:
    """The frozen spend rows of a closed month, in the shape of spend.allocated_daily."""
    rows = conn.execute(sa.text(
        "SELECT provider, account_id, day, model, workload, team, nullif(basis, ''), amount, gross, credits, tax, "
        "unconverted_rows, input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, unpriced_tokens, "
        "unpriced_rows FROM period_snapshots WHERE period = :p AND kind = 'spend'"), {"p": period}).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=SCHEMA, orient="row")


def _group_totals(frame: pl.DataFrame) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = {("total", "total"): sum(frame["cost_usd"].to_list(), Decimal(0))}
    for dim, column in RESTATED_DIMENSIONS.items():
        if column is None:
            continue
        for group, amount in frame.group_by(column).agg(pl.col("cost_usd").sum()).iter_rows():
            out[(dim, group or "")] = amount
    return out


def record_restatements(conn: Connection, *, run_id: int | None, reason: str) -> int:
    """Compare each closed month's live figures with what is known (frozen + earlier restatements); store changes."""
    written = 0
    for period in closed_periods(conn):
        start, end = month_bounds(period)
        live = _group_totals(_live_spend(conn, start, end))
        known = _group_totals(frozen_spend(conn, period))
        earlier = conn.execute(sa.text(
            "SELECT dimension, group_key, sum(difference) FROM restatements WHERE period = :p GROUP BY 1, 2"),
            {"p": period}).all()
        for dim, group, diff in earlier:
            known[(dim, group)] = known.get((dim, group), Decimal(0)) + diff
        for key in sorted(set(live) | set(known)):
            before, after = known.get(key, Decimal(0)), live.get(key, Decimal(0))
            if before == after:
                continue
            conn.execute(sa.text(
                "INSERT INTO restatements (period, dimension, group_key, before, after, difference, run_id, reason) "
                "VALUES (:p, :d, :g, :b, :a, :x, :r, :why)"),
                {"p": period, "d": key[0], "g": key[1], "b": before, "a": after, "x": after - before, "r": run_id,
                 "why": reason})
            written += 1
    return written


RESTATEMENT_SCHEMA = {"period": pl.String, "dimension": pl.String, "group": pl.String, "before": pl.Decimal(38, 18),
                      "after": pl.Decimal(38, 18), "difference": pl.Decimal(38, 18), "run_id": pl.Int64,
                      "reason": pl.String, "created_at": pl.Datetime(time_zone="UTC")}


def restatements(conn: Connection, *, period: str | None = None) -> pl.DataFrame:
    """Restatements of closed months, newest first (for the Data page and the next report)."""
    rows = conn.execute(sa.text(
        "SELECT period, dimension, group_key, before, after, difference, run_id, reason, created_at FROM restatements "
        "WHERE CAST(:p AS text) IS NULL OR period = :p ORDER BY created_at DESC, id DESC"), {"p": period}).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=RESTATEMENT_SCHEMA, orient="row")


def restated_by(conn: Connection, periods: list[str], dimension: str) -> dict[str, Decimal]:
    """Cumulative restated difference per group of `dimension` (or 'total') over the given closed months."""
    dim = dimension if dimension in RESTATED_DIMENSIONS else "total"
    rows = conn.execute(sa.text(
        "SELECT group_key, sum(difference) FROM restatements WHERE period = ANY(:ps) AND dimension = :d GROUP BY 1"),
        {"ps": periods, "d": dim}).all()
    return {g: v for g, v in rows}


def with_frozen(conn: Connection, daily: pl.DataFrame, *, since: datetime, until: datetime) -> tuple[pl.DataFrame, list[str]]:
    """Replace the live rows of closed months in an allocated daily frame by their frozen rows.

    Returns the frame and the closed months it touched. Only whole months are frozen: a window
    that covers part of a closed month gets that month's frozen rows for its days.
    """
    touched = []
    for period in closed_periods(conn):
        start, end = month_bounds(period)
        if end <= since or start >= until:
            continue
        touched.append(period)
        lo, hi = max(start, since).date(), min(end, until).date()
        frozen = frozen_spend(conn, period).filter((pl.col("day") >= lo) & (pl.col("day") < hi))
        daily = pl.concat([daily.filter((pl.col("day") < lo) | (pl.col("day") >= hi)), frozen])
    return daily, touched


PERIOD_SCHEMA = {"period": pl.String, "state": pl.String, "closed_at": pl.Datetime(time_zone="UTC"),
                 "closed_by": pl.String, "forced": pl.Boolean, "reason": pl.String,
                 "frozen_total_usd": pl.Decimal(38, 18), "restated_usd": pl.Decimal(38, 18), "restatements": pl.Int64}


def list_periods(conn: Connection) -> pl.DataFrame:
    """Every month that was ever closed: state, who, why, frozen total and restated difference."""
    rows = conn.execute(sa.text(
        "SELECT p.period, p.state, p.closed_at, p.closed_by, p.forced, p.reason, "
        "(SELECT sum(amount) FROM period_snapshots s WHERE s.period = p.period AND s.kind = 'spend'), "
        "(SELECT coalesce(sum(difference), 0) FROM restatements r WHERE r.period = p.period AND dimension = 'total'), "
        "(SELECT count(*) FROM restatements r WHERE r.period = p.period) FROM periods p ORDER BY p.period")).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=PERIOD_SCHEMA, orient="row")


__all__ = ["close_period", "reopen_period", "list_periods", "restatements", "record_restatements",
           "with_frozen", "restated_by", "blockers", "month_bounds"]
