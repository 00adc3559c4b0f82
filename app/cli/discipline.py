"""`hybridcost discipline`: workflow discipline per team or workload (repeats, reasoning, loops, batch, 429s)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from enum import Enum

import typer

from app.cli import context
from app.cli.errors import fail
from models import clock
from models.discipline import as_json as to_json
from models.discipline import scorecard


class GroupBy(str, Enum):
    """What the scorecard is grouped by."""

    team = "team"
    workload = "workload"


def utc_period(since: date | None, until: date | None, default_days: int = 30) -> tuple[datetime, datetime]:
    """[since 00:00Z, until+1 00:00Z); by default the last `default_days` UTC days, today included."""
    until = until or clock.today()
    since = since or until - timedelta(days=default_days - 1)
    return clock.day_range(since, until)


def _fmt(value, kind: str) -> str:
    if value is None:
        return "n/m"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "usd":
        return f"${value:,.2f}"
    if kind == "ms":
        return f"{value:,.0f}"
    return f"{value:,}" if kind == "int" else str(value)


COLUMNS = [("group", "group", "str"), ("requests", "requests", "int"), ("repeat_share", "repeat", "pct"),
           ("repeat_savings_usd", "cache $", "usd"), ("reasoning_share", "reasoning", "pct"),
           ("reasoning_savings_usd", "route $", "usd"), ("loop_requests", "loops", "int"),
           ("batch_candidate_share", "batchable", "pct"), ("batch_savings_usd", "batch $", "usd"),
           ("rate_limited_share", "429", "pct"), ("latency_p95_ms", "p95 ms", "ms")]


def discipline(
    since: datetime = typer.Option(None, formats=["%Y-%m-%d"], help="First UTC day (default: 30 days ago)."),
    until: datetime = typer.Option(None, formats=["%Y-%m-%d"], help="Last UTC day, included (default: today)."),
    by: GroupBy = typer.Option(GroupBy.team, "--by", help="Group by team or workload."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array, one object per group."),
) -> None:
    """Workflow discipline: repeats a cache would serve, reasoning a cheap model could do, loops, batchable work."""
    start, end = utc_period(since.date() if since else None, until.date() if until else None)
    if end <= start:
        raise fail("--until must not be before --since")
    with context.engine().connect() as conn:
        rows = to_json(scorecard(conn, since=start, until=end, by=by.value))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(f"no requests between {start:%Y-%m-%d} and {end - timedelta(days=1):%Y-%m-%d} "
                   "(per-request logs come from the instrumented client, OTel GenAI, LiteLLM or Langfuse)")
        return
    table = [[h for _, h, _ in COLUMNS]] + [[_fmt(r[k], kind) for k, _, kind in COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    for row in table:
        typer.echo("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    typer.echo("n/m = not measurable (no fingerprints or no latency in these rows); savings follow the "
               "levers' order cache -> batch -> route, so no dollar is counted twice.")


def register(app: typer.Typer) -> None:
    """Add `discipline` to the hybridcost CLI."""
    app.command("discipline")(discipline)
