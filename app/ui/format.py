"""Formatting for people: money with units, token counts, percentages, names with invisible characters shown."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from models.names import shown


def usd(value: float | Decimal | None, *, cents: bool = True) -> str:
    """$1,234.56 (or $1,235 without cents); '—' for missing values, never $0."""
    if value is None:
        return "—"
    number = float(value)
    sign = "-" if number < 0 else ""
    return f"{sign}${abs(number):,.2f}" if cents else f"{sign}${abs(number):,.0f}"


def tokens(value: float | int | None) -> str:
    """Token counts with a unit: 1.2M tok, 850K tok, 12 tok."""
    if value is None:
        return "—"
    n = float(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= limit:
            return f"{n / limit:,.1f}{suffix} tok"
    return f"{n:,.0f} tok"


def pct(value: float | None, digits: int = 1) -> str:
    """A fraction 0..1 as a percentage."""
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def name(value: object) -> object:
    """A name as every surface shows it: bidi controls and zero-width characters written as <U+XXXX>."""
    return shown(value)


def display_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame for a table on a page: every text column's names shown escaped (the stored values stay exact)."""
    if not isinstance(frame, pl.DataFrame):
        return frame
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text:
        return frame
    # The escapes are worked out in Python on each column's distinct values and applied with `replace`, never
    # with map_elements: a Python callback inside polars' thread pool, called from several sessions' script
    # threads at once, can deadlock on the GIL (pola-rs/polars#10970, #24448) and leave every page running.
    changes = []
    for c in text:
        mapping = {v: e for v in frame[c].drop_nulls().unique().to_list() if (e := shown(v)) != v}
        if mapping:
            changes.append(pl.col(c).replace(mapping))
    return frame.with_columns(changes) if changes else frame
