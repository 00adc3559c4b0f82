"""Date options every command shares: UTC calendar days, [since 00:00Z, until+1 00:00Z)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import typer

from app.cli.errors import UserError
from models import clock

SINCE_HELP = "First UTC calendar day (YYYY-MM-DD); default: 30 days before --until."
UNTIL_HELP = "Last UTC calendar day, included (YYYY-MM-DD); default: today."


def parse_day(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value as a date, or a UserError naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def utc_window(since: str | None, until: str | None, *, default_days: int = 30) -> tuple[datetime, datetime]:
    """[since 00:00Z, until+1 00:00Z); without options, the last `default_days` days."""
    until_day = parse_day(until, "--until") or clock.today()
    since_day = parse_day(since, "--since") or until_day - timedelta(days=default_days - 1)
    if since_day > until_day:
        raise UserError(f"--since {since_day} is after --until {until_day}")
    return clock.day_range(since_day, until_day)


SinceOption = typer.Option(None, "--since", help=SINCE_HELP)
UntilOption = typer.Option(None, "--until", help=UNTIL_HELP)
