"""`hybridcost spend`: token spend from the system of record, grouped."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import typer

from app.cli import context
from app.cli.dates import SinceOption, UntilOption, utc_window
from app.cli.errors import UserError
from app.cli.output import echo_json_rows, echo_table
from app.ui.format import tokens, usd
from models.ledger import fx, periods
from models.queries import charges
from models.queries.spend import DIMENSIONS, allocated_daily, summarise

JSON_KEYS = ("group", "by", "cost_usd", "cost_basis", "input_tokens", "cached_input_tokens", "output_tokens",
             "reasoning_tokens", "unpriced_tokens", "unpriced_rows", "currency", "gross_usd", "credits_usd",
             "tax_usd", "unconverted_rows", "cost", "restated")


def spend(
    since: str = SinceOption,
    until: str = UntilOption,
    by: str = typer.Option("provider", "--by", help="Group by provider, model, workload, team, account or day."),
    currency: str = typer.Option(None, "--currency", help="Report in this currency, converting each day at its rate "
                                 "(default: USD)."),
    gross: bool = typer.Option(False, "--gross/--net", help="Show gross usage (before credits, refunds and tax) "
                               "instead of net."),
    json_output: bool = typer.Option(False, "--json", help="JSON array of one object per group, no total row."),
) -> None:
    """Token spend per group: the best cost basis per provider, account and UTC day, never two added.

    Closed months report their frozen figures; later changes show as a separate restatement.
    """
    if by not in DIMENSIONS:
        raise UserError(f"--by must be one of {', '.join(DIMENSIONS)}, not {by!r}")
    target = fx.check_currency(currency, "--currency") if currency else "USD"
    start, end = utc_window(since, until)
    with context.engine().connect() as conn:
        daily = allocated_daily(conn, since=start, until=end)
        daily, closed = periods.with_frozen(conn, daily, since=start, until=end)
        restated = periods.restated_by(conn, closed, by) if closed else {}
        shown = "gross_usd" if gross else "cost_usd"
        # the *_usd columns stay in USD; `cost` is the shown figure (net or gross) in the report currency
        converted, dropped = fx.convert_frame(conn, daily.select(
            "day", pl.col(DIMENSIONS[by]).cast(pl.String).alias("_group"), pl.col(shown).alias("cost")),
                                              ["cost"], from_currency="USD", to_currency=target)
        apart = None if json_output else charges.describe(charges.non_token_charges(conn, since=start, until=end),
                                                          charges.commitments_in(conn, since=start, until=end))
    frame = summarise(daily, DIMENSIONS[by])
    cost_of = {str(g): c for g, c in converted.group_by("_group").agg(pl.col("cost").sum()).iter_rows()}
    rows = [{"by": by, "currency": target, "cost": cost_of.get(row["group"], Decimal(0)),
             "restated": restated.get(row["group"], Decimal(0)), **row} for row in frame.iter_rows(named=True)]
    if json_output:
        echo_json_rows([{k: row[k] for k in JSON_KEYS} for row in rows])
        return
    kind = "gross" if gross else "net"
    typer.echo(f"Token spend ({kind}) by {by}, {start:%Y-%m-%d} to {end:%Y-%m-%d} (exclusive), {target}", err=True)
    if dropped:
        typer.echo(f"{dropped} row(s) not in the {target} figures: no USD->{target} rate on their day "
                   "(`hybridcost fx load FILE`)",
                   err=True)
    if frame.is_empty():
        typer.echo("no token spend in this period", err=True)
        if apart:
            typer.echo(f"{apart} (USD)", err=True)
        return
    money = (lambda v: f"{v:,.2f}") if target != "USD" else usd
    frame = frame.with_columns(pl.col("group").replace_strict(cost_of, default=Decimal(0),
                                                              return_dtype=pl.Decimal(38, 18)).alias("cost"))
    echo_table(frame.select("group", "cost", "cost_basis", "input_tokens", "output_tokens",
                            "unpriced_tokens", "unconverted_rows"),
               {"cost": money, "input_tokens": tokens, "output_tokens": tokens, "unpriced_tokens": tokens})
    typer.echo(f"total: {money(sum(row['cost'] for row in rows))} {target}", err=True)
    if apart:
        typer.echo(f"{apart} (USD)", err=True)
    if closed:
        # by model, account or day only the month total is restated (restated_by falls back to 'total')
        change = sum(restated.values(), Decimal(0))
        typer.echo(f"restatement: closed month(s) {', '.join(closed)} shown as frozen; changed since close by "
                   f"{usd(change)} USD, not in the totals above (`hybridcost period list --restatements`)", err=True)
    unconverted = sum(row["unconverted_rows"] for row in rows)
    if unconverted:
        typer.echo(f"unconverted: {unconverted} cost line(s) in another currency have no rate on their day and are "
                   "not in the totals (`hybridcost fx load FILE`)", err=True)


def register(app: typer.Typer) -> None:
    """Add `spend` to the CLI."""
    app.command()(spend)
