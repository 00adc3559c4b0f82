"""`hybridcost fx` and `hybridcost ledger`: exchange rates, totals by category, commitments, GPU pools."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import typer

from app.cli import context, ledger_period
from app.cli.dates import SinceOption, UntilOption, parse_day, utc_window
from app.cli.errors import UserError
from app.cli.output import echo_json_rows, echo_table
from app.ui.format import usd
from models.ledger import commitments as cm
from models.ledger import fx, gpu, lines

ActorOption = typer.Option(None, "--actor", help="Who makes the change (default: HYBRIDCOST_ACTOR or the OS user).")
fx_app = typer.Typer(help="Daily exchange rates to the reporting currency.", no_args_is_help=True)
ledger_app = typer.Typer(help="The finance ledger: every cost line, commitments, GPU pools.", no_args_is_help=True)
commitment_app = typer.Typer(help="Commitments amortized over their term.", no_args_is_help=True)
ledger_app.add_typer(commitment_app, name="commitment")


def _reporting() -> str:
    return fx.check_currency(context.settings().reporting_currency, "HYBRIDCOST_REPORTING_CURRENCY")


@fx_app.command("load")
def fx_load(file: Path = typer.Argument(..., help="CSV with columns date,currency,rate (to the reporting currency)."),
            actor: str = ActorOption) -> None:
    """Load daily rates from a CSV; a bad line fails the whole file, nothing written."""
    rates = fx.parse_rates_csv(file, to_currency=_reporting())
    with context.engine().begin() as conn:
        added, changed = fx.save_rates(conn, rates, actor=actor, source=f"file:{file.name}")
    typer.echo(f"{len(rates)} rates read from {file}: {added} added, {changed} changed", err=True)


@fx_app.command("set")
def fx_set(day: str = typer.Argument(..., help="UTC day (YYYY-MM-DD)."),
           currency: str = typer.Argument(..., help="ISO 4217 code of the line currency (EUR)."),
           rate: str = typer.Argument(..., help="Units of the reporting currency per unit of CURRENCY."),
           actor: str = ActorOption) -> None:
    """Enter or change one day's rate."""
    with context.engine().begin() as conn:
        fx.set_rate(conn, parse_day(day, "DAY"), currency, rate, to_currency=_reporting(), actor=actor)


@fx_app.command("list")
def fx_list(json_output: bool = typer.Option(False, "--json", help="JSON array, one object per rate.")) -> None:
    """Every stored rate, newest first."""
    with context.engine().connect() as conn:
        frame = fx.rates(conn)
    if json_output:
        echo_json_rows(frame.to_dicts())
    elif frame.is_empty():
        typer.echo("no exchange rates yet: `hybridcost fx load FILE`", err=True)
    else:
        echo_table(frame)


@ledger_app.command("totals")
def ledger_totals(
    since: str = SinceOption, until: str = UntilOption,
    by: str = typer.Option(None, "--by", help="Group by provider, currency, ai_class, charge_category or basis."),
    currency: str = typer.Option(None, "--currency", help="Report in this currency (default: the reporting one)."),
    json_output: bool = typer.Option(False, "--json", help="JSON array, one object per group."),
) -> None:
    """Every cost line: gross, credits, refunds, tax and net; unconverted lines counted, never summed."""
    if by not in (None, "provider", "currency", "ai_class", "charge_category", "basis", "account_id"):
        raise UserError(f"--by must be provider, currency, ai_class, charge_category or basis, not {by!r}")
    target = fx.check_currency(currency, "--currency") if currency else _reporting()
    start, end = utc_window(since, until)
    with context.engine().connect() as conn:
        daily = lines.ledger_daily(conn, since=start, until=end, currency=target)
    frame = lines.totals(daily, by)
    if json_output:
        echo_json_rows([{"currency_reported": target, **r} for r in frame.to_dicts()])
        return
    typer.echo(f"Ledger {start:%Y-%m-%d} to {end:%Y-%m-%d} (exclusive), {target}", err=True)
    echo_table(frame, {c: usd for c in ("gross", "credits", "refunds", "tax", "net")})
    for row in lines.unconverted(daily).iter_rows(named=True):
        typer.echo(f"unconverted (no rate): {row['currency']} {row['amount_original']} in {row['rows']} line(s)",
                   err=True)


@commitment_app.command("add")
def commitment_add(
    name: str = typer.Argument(..., help="A name for the commitment (unique per provider and account)."),
    provider: str = typer.Option(..., "--provider", help="Provider it was bought from."),
    amount: str = typer.Option(..., "--amount", help="Total amount of the commitment over its term."),
    start: str = typer.Option(None, "--start", help="First day of the term (YYYY-MM-DD)."),
    end: str = typer.Option(None, "--end", help="Last day of the term, included (YYYY-MM-DD)."),
    months: int = typer.Option(None, "--months", help="Term in months from --start, instead of --end."),
    currency: str = typer.Option("USD", "--currency", help="ISO 4217 currency of the amount."),
    kind: str = typer.Option("other", "--kind", help="reserved_gpu, provisioned_throughput, prepaid_credit, other."),
    account: str = typer.Option("", "--account", help="Billing account it belongs to."),
    actor: str = ActorOption,
) -> None:
    """Add a commitment; one without a term is refused."""
    start_on, end_on = parse_day(start, "--start"), parse_day(end, "--end")
    if months is not None and start_on is not None and end_on is None:
        if months <= 0:
            raise UserError("--months must be 1 or more")
        year, month = divmod(start_on.month - 1 + months, 12)
        end_on = start_on.replace(year=start_on.year + year, month=month + 1) - timedelta(days=1)
    with context.engine().begin() as conn:
        cm.add_commitment(conn, provider=provider, account_id=account, name=name, start_on=start_on, end_on=end_on,
                          amount=amount, currency=currency, kind=kind, actor=actor)
    typer.echo(f"commitment {name}: {amount} {currency.upper()} from {start_on} to {end_on}", err=True)


@commitment_app.command("from-focus")
def commitment_from_focus(actor: str = ActorOption) -> None:
    """Make commitments from loaded FOCUS Purchase lines that have a term."""
    with context.engine().begin() as conn:
        added, skipped = cm.commitments_from_focus(conn, actor=actor)
    typer.echo(f"{added} commitment(s) from FOCUS purchases; {skipped} purchase(s) without a term left as they are",
               err=True)


@commitment_app.command("report")
def commitment_report(since: str = SinceOption, until: str = UntilOption,
                      json_output: bool = typer.Option(False, "--json", help="JSON array, one object per day.")) -> None:
    """Amortized amount per commitment over the period, with the used and unused parts."""
    start, end = utc_window(since, until)
    with context.engine().connect() as conn:
        frame = cm.amortized(conn, since=start.date(), until=end.date())
    if json_output:
        echo_json_rows(frame.to_dicts())
    elif frame.is_empty():
        typer.echo("no commitments in this period", err=True)
    else:
        echo_table(cm.summary(frame), {c: usd for c in ("amortized", "used", "unused")})


@ledger_app.command("gpu")
def ledger_gpu(since: str = SinceOption, until: str = UntilOption,
               write: bool = typer.Option(False, "--write", help="Store the lines in cost_lines (basis gpu_profile)."),
               json_output: bool = typer.Option(False, "--json", help="JSON array, one object per pool-day line.")) -> None:
    """Daily cost of each GPU pool, shared to workloads by measured GPU-hours, with its idle line."""
    start, end = utc_window(since, until)
    with context.engine().begin() as conn:
        frame = gpu.pool_lines(conn, since=start.date(), until=end.date())
        comparison = gpu.comparison_profiles(conn)
        if write:
            gpu.write_pool_lines(conn, since=start.date(), until=end.date())
    if json_output:
        echo_json_rows(frame.to_dicts())
        return
    if frame.is_empty():
        typer.echo("no billed GPU pools in this period (`gpu_cost_profiles` matching a reporting host)", err=True)
    else:
        summary = frame.group_by("profile", "workload").agg(
            pl.col("gpu_hours").sum(), pl.col("cost_usd").sum()).sort("profile", "workload")
        echo_table(summary, {"cost_usd": usd})
        typer.echo(f"total: {usd(sum(frame['cost_usd'].to_list()))} USD", err=True)
    if comparison:
        typer.echo(f"comparison only, not billed (no reporting host matches): {', '.join(comparison)}", err=True)


@ledger_app.command("self-hosted")
def ledger_self_hosted(since: str = SinceOption, until: str = UntilOption,
                       json_output: bool = typer.Option(False, "--json", help="JSON array, one object per workload.")) -> None:
    """Per workload: effective self-hosted USD per million tokens beside its average API price."""
    start, end = utc_window(since, until)
    with context.engine().connect() as conn:
        frame = gpu.self_hosted_vs_api(conn, since=start.date(), until=end.date())
    if json_output:
        echo_json_rows(frame.to_dicts())
    elif frame.is_empty():
        typer.echo("no self-hosted workloads in this period", err=True)
    else:
        echo_table(frame, {"gpu_cost_usd": usd, "api_cost_usd": usd})


def register(app: typer.Typer) -> None:
    """Add the fx, ledger, period and audit commands."""
    app.add_typer(fx_app, name="fx")
    app.add_typer(ledger_app, name="ledger")
    ledger_period.register(app)
