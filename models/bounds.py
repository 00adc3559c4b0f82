"""Plausibility bounds: one table of what a value may be before it is stored or used as money.

Every importer and every edit checks its values here. A value outside its bound is refused
with the file, line, field, the value and the bound (and, where the value has a recognisable
unit mistake, the reading it probably meant); `--accept-implausible FIELD` (audited) lets one
field through when the user says the value is real. docs/ingest.md prints this table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from ingest.base import SourceError
from models import clock

MTOK = Decimal(1_000_000)


@dataclass(frozen=True)
class Bound:
    """The plausible closed range [low, high] of one field, in its unit, and why.

    `smallest_nonzero`: a value closer to 0 than this (but not 0) is refused too: it is a
    unit error (a per-token price typed where per-Mtok is asked). `hint` says what an
    out-of-range value probably meant.
    """

    field: str
    low: Decimal
    high: Decimal
    unit: str
    why: str
    smallest_nonzero: Decimal | None = None
    hint: Callable[[Decimal], str | None] | None = None


@dataclass(frozen=True)
class TimeBound:
    """The plausible window of a timestamp: from `earliest` to `ahead` past the present."""

    field: str
    earliest: datetime
    ahead: timedelta
    why: str


def _price_hint(value: Decimal) -> str | None:
    if 0 < abs(value) < Decimal("0.001"):
        return f"{_plain(value)} looks like a per-token price: {value * MTOK:.2f} per Mtok?"
    if abs(value) > 1000:
        return (f"{_plain(value)} per Mtok is ${_plain(value / MTOK)} per token: enter USD per 1,000,000 tokens "
                "(a per-1K price times 1000)")
    return None


def _watts_hint(value: Decimal) -> str | None:
    if 3000 < value <= 3_000_000:
        return f"{_plain(value)} looks like milliwatts: {_plain(value / 1000)} W?"
    return None


def _fraction_hint(value: Decimal) -> str | None:
    if 1 < value <= 100:
        return f"{_plain(value)} looks like a percent: {_plain(value / 100)} as a fraction?"
    return None


def _plain(value: Decimal) -> str:
    """A Decimal without exponent noise (2.5E-6 as 0.0000025)."""
    text = format(value.normalize(), "f") if value.is_finite() else str(value)
    return text if len(text) <= 40 else f"{value:.6E}"


def _b(field_name: str, low: str, high: str, unit: str, why: str, **extra) -> Bound:
    return Bound(field_name, Decimal(low), Decimal(high), unit, why, **extra)


# Keys are the names users pass to --accept-implausible; values are checked in the unit shown.
BOUNDS: dict[str, Bound] = {b.field: b for b in (
    _b("usd_per_mtok", "0", "1000", "USD per 1M tokens",
       "the dearest public list price is about $600/Mtok; a non-zero price below $0.001/Mtok is a per-token price",
       smallest_nonzero=Decimal("0.001"), hint=_price_hint),
    _b("amount", "-1000000000", "1000000000", "per cost line, in its currency",
       "a line above 10^9 (even in yen or won) is a unit, locale or overflow error"),
    _b("tokens", "0", "100000000", "tokens per request",
       "the largest context windows hold 10M tokens; 10^8 in one request is an overflow or a sum"),
    _b("bucket_tokens", "0", "10000000000000", "tokens per usage bucket",
       "10^13 tokens in one provider bucket is an overflow"),
    _b("utilization_pct", "0", "100", "percent", "utilisation is a share of time"),
    _b("power_watts", "0", "3000", "watts per GPU", "the largest accelerator boards draw about 1.5 kW",
       hint=_watts_hint),
    _b("temperature_c", "-40", "150", "degrees Celsius", "GPUs throttle near 90 C and shut down by 105 C"),
    _b("fraction", "0", "1", "share", "a share of a whole (vLLM *_perc metrics are fractions)",
       hint=_fraction_hint),
    _b("memory_bytes", "0", "4398046511104", "bytes per GPU", "the largest GPUs hold under 300 GiB; 4 TiB is an error"),
    _b("clock_mhz", "0", "10000", "MHz", "GPU clocks run below 3 GHz"),
    _b("energy_mj", "0", "1000000000000000", "millijoules since driver load", "10^15 mJ is 30 years at 1 kW"),
    _b("latency_ms", "0", "604800000", "milliseconds per request", "a request longer than a week is a unit error"),
    _b("histogram_count", "0", "1000000000000000", "observations per histogram bucket",
       "a server observing 10^15 latencies is a million tokens a second for 30 years"),
    _b("histogram_sum_seconds", "0", "1000000000000", "seconds summed over a histogram",
       "10^12 seconds of latency summed is an overflow or a unit error"),
    _b("usd_per_gpu_hour", "0", "200", "USD per GPU-hour", "the dearest cloud GPU-hours cost about $15"),
    _b("gpu_price_usd", "0", "2000000", "USD per GPU", "the dearest accelerators list at about $50,000 each"),
    _b("usd_per_gpu_month", "0", "100000", "USD per GPU-month",
       "operating one GPU costs hundreds of dollars a month, not $100,000"),
    _b("monthly_budget_usd", "0", "100000000", "USD per month", "a monthly budget above $100M is a typo"),
    _b("fx_rate", "0.000001", "1000000", "reporting currency per unit",
       "no currency pair trades outside 10^-6..10^6"),
    _b("pue", "1", "3", "ratio", "power usage effectiveness is 1.0 (ideal) to about 2 (old rooms)"),
    _b("usd_per_kwh", "0", "2", "USD per kWh", "electricity costs cents per kWh"),
    _b("gpu_count", "1", "1000000", "GPUs", "a profile counts whole GPUs"),
    _b("months", "1", "240", "months", "amortisation and terms run from a month to 20 years"),
)}

TIME_BOUNDS: dict[str, TimeBound] = {t.field: t for t in (
    TimeBound("observed_at", datetime(2000, 1, 1, tzinfo=UTC), timedelta(days=2),
              "a measurement (request, sample, usage bucket) from before 2000 or from the future is a unit error "
              "(1970 is a zero; seconds read as milliseconds)"),
    TimeBound("charge_period_at", datetime(2000, 1, 1, tzinfo=UTC), timedelta(days=3660),
              "a charge period starts after 2000 and ends within 10 years (the longest commitments)"),
)}


class ImplausibleValue(SourceError):
    """A value outside its plausibility bound; the message names where, the field, value, bound and override."""

    def __init__(self, kind: str, value: object, problem: str, *, where: str = "", line: int | None = None,
                 field: str | None = None):
        self.kind, self.value = kind, value
        super().__init__(where or "input", problem, line=line, field=field or kind)


class PeriodOrderError(SourceError):
    """A period that ends before it starts (never real, so no override)."""


def known(accept: Iterable[str]) -> frozenset[str]:
    """The accepted field names, each checked against the table (a typo is refused, not ignored)."""
    names = frozenset(a.strip() for a in accept if a and a.strip())
    unknown = sorted(names - set(BOUNDS) - set(TIME_BOUNDS))
    if unknown:
        raise SourceError("--accept-implausible", f"unknown field {unknown[0]!r}; one of "
                          f"{', '.join(sorted(set(BOUNDS) | set(TIME_BOUNDS)))}")
    return names


def _number(value: object) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def problem(kind: str, value: object) -> str | None:
    """Why `value` is implausible for BOUNDS[kind] (with the override to pass), or None when it is plausible."""
    bound = BOUNDS[kind]
    number = _number(value)
    if number is None or not number.is_finite():
        return f"{value!r} is not a finite number ({bound.unit})"
    inside = bound.low <= number <= bound.high
    tiny = bound.smallest_nonzero is not None and number != 0 and abs(number) < bound.smallest_nonzero
    if inside and not tiny:
        return None
    hint = bound.hint(number) if bound.hint else None
    limit = f"{_plain(bound.low)}..{_plain(bound.high)} {bound.unit}"
    if tiny:
        limit += f", 0 or at least {_plain(bound.smallest_nonzero)}"
    return (f"{_plain(number)} is outside the plausible range {limit} ({bound.why})"
            + (f"; {hint}" if hint else "") + f"; if it is real, pass --accept-implausible {kind}")


def time_window(kind: str) -> tuple[datetime, datetime]:
    """[earliest, latest] plausible moments of TIME_BOUNDS[kind], from the present."""
    bound = TIME_BOUNDS[kind]
    return bound.earliest, clock.present() + bound.ahead


def time_problem(kind: str, value: datetime) -> str | None:
    """Why a timestamp is implausible for TIME_BOUNDS[kind], or None."""
    low, high = time_window(kind)
    if low <= value <= high:
        return None
    return (f"{value.isoformat()} is outside the plausible window {low.date()}..{high.date()} "
            f"({TIME_BOUNDS[kind].why}); if it is real, pass --accept-implausible {kind}")


def check(kind: str, value: Decimal | float | int | None, *, field: str | None = None, where: str = "",
          line: int | None = None, accept: Iterable[str] = ()) -> None:
    """Raise ImplausibleValue when `value` is outside BOUNDS[kind], unless `kind` is accepted."""
    if value is None or kind in accept:
        return
    why = problem(kind, value)
    if why:
        raise ImplausibleValue(kind, value, why, where=where, line=line, field=field)


@dataclass
class Guard:
    """The checks of one input (a file, an API window, an edit): refuses, or lets through what the user accepted.

    Values let through by `--accept-implausible` are kept in `accepted` so the caller can audit them.
    """

    where: str
    accept: frozenset[str] = frozenset()
    accepted: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.accept = known(self.accept)

    def _refuse_or_keep(self, kind: str, value: object, why: str, field_name: str | None, line: int | None) -> None:
        if kind not in self.accept:
            raise ImplausibleValue(kind, value, why, where=self.where, line=line, field=field_name)
        if len(self.accepted) < 1000:  # enough to audit; a whole file of them is one decision
            self.accepted.append({"kind": kind, "field": field_name or kind, "line": line, "value": str(value)})

    def check(self, kind: str, value, *, field: str | None = None, line: int | None = None):
        """Return `value` when plausible (or accepted); else raise ImplausibleValue naming where it came from."""
        if value is None:
            return value
        why = problem(kind, value)
        if why:
            self._refuse_or_keep(kind, value, why, field, line)
        return value

    def time(self, kind: str, value: datetime, *, field: str | None = None, line: int | None = None) -> datetime:
        """Return a timestamp inside its plausible window (or accepted); else raise ImplausibleValue."""
        why = time_problem(kind, value)
        if why:
            self._refuse_or_keep(kind, value, why, field, line)
        return value

    def period(self, start: datetime | date, end: datetime | date, *, field: str, line: int | None = None) -> None:
        """Refuse a period that ends before it starts (no override: it is never real)."""
        if end < start:
            raise PeriodOrderError(self.where, f"the period ends ({end}) before it starts ({start})", line=line,
                                   field=field)


def markdown_table() -> str:
    """The bounds as a Markdown table (docs/ingest.md embeds it; a test keeps them equal)."""
    rows = ["| field (`--accept-implausible`) | low | high | unit | why |", "| --- | --- | --- | --- | --- |"]
    for b in BOUNDS.values():
        low = _plain(b.low) + (f" (or 0, then at least {_plain(b.smallest_nonzero)})" if b.smallest_nonzero else "")
        rows.append(f"| `{b.field}` | {low} | {_plain(b.high)} | {b.unit} | {b.why} |")
    for t in TIME_BOUNDS.values():
        rows.append(f"| `{t.field}` | {t.earliest.date()} | now + {t.ahead.days} days | UTC timestamp | {t.why} |")
    rows.append("| period order (no override) | start | end | | a period that ends before it starts is refused |")
    return "\n".join(rows)
