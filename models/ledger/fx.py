"""Exchange rates: one rate per day and currency to the reporting currency; a missing rate is never 1:1."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from ingest.base import SourceError
from ingest.sources._common import ISO_4217, read_text
from models import audit, bounds
from models.ledger import LedgerError


@dataclass(frozen=True)
class Rate:
    """1 `currency` = `rate` `to_currency` on `day`."""

    day: date
    currency: str
    rate: Decimal
    to_currency: str


def check_currency(value: str, where: str = "currency") -> str:
    """An upper-case ISO 4217 code, or a LedgerError naming where it came from."""
    code = (value or "").strip().upper()
    if code not in ISO_4217:
        raise LedgerError(f"{where}: unknown currency {value!r} (not an ISO 4217 code)")
    return code


def check_rate(value: str | Decimal, where: str) -> Decimal:
    """A positive finite rate, or a LedgerError naming where it came from."""
    text = str(value if value is not None else "").strip()
    if not text:
        raise LedgerError(f"{where}: missing rate")
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise LedgerError(f"{where}: rate {text!r} is not a number") from None
    if not rate.is_finite() or rate <= 0:
        raise LedgerError(f"{where}: rate must be a positive number, not {text}")
    why = bounds.problem("fx_rate", rate)
    if why:
        raise LedgerError(f"{where}: rate {why}")
    return rate


def parse_rates_csv(path: str | Path, *, to_currency: str) -> list[Rate]:
    """Read `date,currency,rate` rows; any bad row fails the whole file with its line number."""
    path = Path(path)
    to_currency = check_currency(to_currency, "reporting currency")
    try:
        text = read_text(path)  # the shared reader: BOMs and UTF-16 detected, other encodings refused
    except SourceError as exc:
        raise LedgerError(str(exc)) from None
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in ("date", "currency", "rate") if c not in header]
    if missing:
        raise LedgerError(f"{path}:1: missing column(s) {', '.join(missing)} (expected date,currency,rate)")
    at = {name: header.index(name) for name in ("date", "currency", "rate")}
    rates: dict[tuple[date, str], Rate] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        where = f"{path}:{number}"
        cells = cells + [""] * (len(header) - len(cells))
        try:
            day = date.fromisoformat(cells[at["date"]].strip())
        except ValueError:
            raise LedgerError(f"{where}: date {cells[at['date']]!r} is not YYYY-MM-DD") from None
        currency = check_currency(cells[at["currency"]], where)
        rate = check_rate(cells[at["rate"]], where)
        if (day, currency) in rates:
            raise LedgerError(f"{where}: duplicate rate for {currency} on {day}")
        rates[(day, currency)] = Rate(day, currency, rate, to_currency)
    if not rates:
        raise LedgerError(f"{path}: no rates in file")
    return list(rates.values())


def save_rates(conn: Connection, rates: list[Rate], *, actor: str | None, source: str = "manual") -> tuple[int, int]:
    """Insert or replace rates, auditing each change; returns (added, changed)."""
    added = changed = 0
    for r in rates:
        key = {"d": r.day, "c": r.currency, "t": r.to_currency}
        before = audit.row_dict(conn, "fx_rates", "day = :d AND currency = :c AND to_currency = :t", key)
        if before is not None and before["rate"] == r.rate:
            continue
        conn.execute(sa.text(
            "INSERT INTO fx_rates (day, currency, to_currency, rate, source) VALUES (:d, :c, :t, :r, :s) "
            "ON CONFLICT (day, currency, to_currency) DO UPDATE SET rate = EXCLUDED.rate, source = EXCLUDED.source"),
            {**key, "r": r.rate, "s": source})
        after = {"day": r.day, "currency": r.currency, "to_currency": r.to_currency, "rate": r.rate, "source": source}
        audit.record(conn, actor, "fx_rate", f"{r.currency}->{r.to_currency} {r.day}",
                     "create" if before is None else "update",
                     None if before is None else {k: before[k] for k in after}, after)
        added += before is None
        changed += before is not None
    return added, changed


def set_rate(conn: Connection, day: date, currency: str, rate: str | Decimal, *, to_currency: str,
             actor: str | None) -> None:
    """Enter one rate from the app (audited with the logged-in user as actor)."""
    r = Rate(day, check_currency(currency), check_rate(rate, f"rate for {currency} on {day}"),
             check_currency(to_currency, "reporting currency"))
    save_rates(conn, [r], actor=actor, source="app")


def fx_factor_sql(currency: str, day: str, target: str = ":fx_target") -> str:
    """NUMERIC factor turning 1 unit of `currency` on `day` into `target`; NULL when no rate says how.

    A direct rate multiplies exactly. Otherwise two rates to a common currency (a cross rate)
    or the inverse of the target's rate are used, which divides (NUMERIC division, 20+ digits).
    """
    return f"""(CASE WHEN {currency} = {target} THEN CAST(1 AS numeric) ELSE coalesce(
        (SELECT fx.rate FROM fx_rates fx WHERE fx.day = {day} AND fx.currency = {currency}
           AND fx.to_currency = {target}),
        (SELECT a.rate / b.rate FROM fx_rates a JOIN fx_rates b ON b.day = a.day AND b.to_currency = a.to_currency
          WHERE a.day = {day} AND a.currency = {currency} AND b.currency = {target} ORDER BY a.to_currency LIMIT 1),
        (SELECT 1 / fx.rate FROM fx_rates fx WHERE fx.day = {day} AND fx.currency = {target}
           AND fx.to_currency = {currency})) END)"""


def rates(conn: Connection, *, currency: str | None = None) -> pl.DataFrame:
    """Every stored rate, newest first (for the Data page)."""
    rows = conn.execute(sa.text(
        "SELECT day, currency, to_currency, rate, source FROM fx_rates "
        "WHERE CAST(:c AS text) IS NULL OR currency = :c ORDER BY day DESC, currency"), {"c": currency}).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "day": pl.Date, "currency": pl.String, "to_currency": pl.String, "rate": pl.Decimal(38, 12),
        "source": pl.String})


def convert_frame(conn: Connection, frame: pl.DataFrame, columns: list[str], *, from_currency: str,
                  to_currency: str) -> tuple[pl.DataFrame, int]:
    """Convert money columns of a frame with a `day` column; rows without a rate get NULLs and are counted."""
    if from_currency == to_currency or frame.is_empty():
        return frame, 0
    days = sorted(set(frame["day"].to_list()))
    factor_of = {d: conn.execute(sa.text(f"SELECT {fx_factor_sql(':c', ':d')}"),
                                 {"c": from_currency, "d": d, "fx_target": to_currency}).scalar() for d in days}
    keep, dropped = [], 0
    for row in frame.iter_rows(named=True):
        factor = factor_of[row["day"]]
        if factor is None:
            dropped += 1
            keep.append({**row, **{c: None for c in columns}})
            continue
        keep.append({**row, **{c: None if row[c] is None else (row[c] * factor).quantize(Decimal("1e-10"))
                               for c in columns}})
    return pl.DataFrame(keep, schema=frame.schema, orient="row"), dropped
