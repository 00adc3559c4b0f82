"""The product's one clock: every "now" comes from here, and HYBRIDCOST_AS_OF pins it.

Default date ranges, month to date, the current ISO week, forecasts, the exporter, the
weekly report's default week, freshness and the demo anchor all call `now()`. Pinned
(by the setting, `hybridcost --as-of`, or `pinned()` for one thread of work), the product
shows itself exactly as it was at that moment: ranges end there and data whose own time
is later is left out (`clamp`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta

ENV_NAME = "HYBRIDCOST_AS_OF"

# A pin for one thread of work (a dashboard session opened "as of" a date); wins over the setting.
_session_pin: ContextVar[datetime | None] = ContextVar("hybridcost_as_of", default=None)


class AsOfError(ValueError):
    """An as-of moment that is not an ISO 8601 datetime with a UTC offset."""


def parse_as_of(text: str, *, name: str = ENV_NAME) -> datetime:
    """An aware UTC datetime from ISO 8601 text with an offset ('Z' allowed); a bare date means 00:00Z."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(0), UTC)
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise AsOfError(f"{name}: {text!r} is not an ISO 8601 datetime (for example 2026-10-31T23:00Z)") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise AsOfError(f"{name}: {text!r} has no UTC offset; add one, for example {raw}Z or {raw}+00:00")
    return moment.astimezone(UTC)


def as_of() -> datetime | None:
    """The pinned moment (session pin, else HYBRIDCOST_AS_OF), or None when the clock runs free."""
    pin = _session_pin.get()
    if pin is not None:
        return pin
    text = os.environ.get(ENV_NAME, "").strip()
    return parse_as_of(text) if text else None


def now() -> datetime:
    """The product's current moment, aware and in UTC."""
    return as_of() or datetime.now(UTC)


def present() -> datetime:
    """The real present, ignoring any pin: only for asking whether data could exist yet.

    A pin is a view of the past (later data exists, it is only left out), so plausibility
    checks of incoming timestamps look at the present, not at the pinned moment.
    """
    return datetime.now(UTC)


def today() -> date:
    """The current UTC calendar day."""
    return now().date()


def current_hour() -> datetime:
    """The start of the current UTC hour."""
    return now().replace(minute=0, second=0, microsecond=0)


def start_of_day(day: date) -> datetime:
    """00:00 UTC of a calendar day."""
    return datetime.combine(day, time(0), UTC)


def end_of_today() -> datetime:
    """00:00 UTC of the next day: the exclusive end of ranges that include today."""
    return start_of_day(today() + timedelta(days=1))


def clamp(until: datetime) -> datetime:
    """`until`, cut back to the pinned moment when the clock is pinned (later data does not exist yet)."""
    pin = as_of()
    return min(until, pin) if pin is not None and until > pin else until


def day_range(since: date, until: date) -> tuple[datetime, datetime]:
    """[since 00:00Z, until+1 00:00Z) for UTC calendar days, the end clamped to the pinned moment."""
    return start_of_day(since), clamp(start_of_day(until + timedelta(days=1)))


@contextmanager
def pinned(moment: datetime | None) -> Iterator[None]:
    """Run a block of work (this thread or task only) as of `moment`; None leaves the clock as it is."""
    if moment is None:
        yield
        return
    if moment.tzinfo is None:
        raise AsOfError("an as-of moment needs a UTC offset")
    token = _session_pin.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _session_pin.reset(token)
