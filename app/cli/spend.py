"""`hybridcost spend`: token spend from the system of record, grouped."""

from __future__ import annotations

import typer

from app.cli import context
from app.cli.dates import SinceOption, UntilOption, utc_window
from app.cli.errors import UserError
from app.cli.output import echo_json_rows, echo_table
from app.ui.format import tokens, usd
from models.queries.spend import DIMENSIONS, spend_by

JSON_KEYS = ("group", "by", "cost_usd", "cost_basis", "input_tokens", "cached_input_tokens", "output_tokens",
             "reasoning_tokens", "unpriced_tokens", "unpriced_rows")


def spend(
    since: str = SinceOption,
    until: str = UntilOption,
    by: str = typer.Option("provider", "--by", help="Group by provider, model, workload, team, account or day."),
    json_output: bool = typer.Option(False, "--json", help="JSON array of one object per group, no total row."),
) -> None:
    """Token spend per group: the best cost basis per provider, account and UTC day, never two added."""
    if by not in DIMENSIONS:
        raise UserError(f"--by must be one of {', '.join(DIMENSIONS)}, not {by!r}")
    start, end = utc_window(since, until)
    with context.engine().connect() as conn:
        frame = spend_by(conn, since=start, until=end, by=by)
    rows = [{"by": by, **row} for row in frame.iter_rows(named=True)]
    if json_output:
        echo_json_rows([{k: row[k] for k in JSON_KEYS} for row in rows])
        return
    typer.echo(f"Token spend by {by}, {start:%Y-%m-%d} to {end:%Y-%m-%d} (exclusive), USD", err=True)
    if frame.is_empty():
        typer.echo("no token spend in this period", err=True)
        return
    echo_table(frame.select("group", "cost_usd", "cost_basis", "input_tokens", "output_tokens", "unpriced_tokens"),
               {"cost_usd": usd, "input_tokens": tokens, "output_tokens": tokens, "unpriced_tokens": tokens})
    total = sum(row["cost_usd"] for row in rows)
    typer.echo(f"total: {usd(total)}", err=True)


def register(app: typer.Typer) -> None:
    """Add `spend` to the CLI."""
    app.command()(spend)
