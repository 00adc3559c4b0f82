"""Formatting for people: money with units, token counts, percentages."""

from __future__ import annotations

from decimal import Decimal


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
