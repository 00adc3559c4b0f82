"""`hybridcost period` (close, list, reopen) and `hybridcost audit`."""

from __future__ import annotations

import sys

import typer

from app.cli import context
from app.cli.dates import SinceOption, UntilOption, utc_window
from app.cli.output import echo_json_rows, echo_table
from app.reports.csv_writer import write_rows
from app.ui.format import usd
from models.audit import audit_log
from models.ledger import periods

ActorOption = typer.Option(None, "--actor", help="Who makes the change (default: HYBRIDCOST_ACTOR or the OS user).")
period_app = typer.Typer(help="Close a month: freeze its figures; later changes become restatements.",
                         no_args_is_help=True)


@period_app.command("close")
def close(month: str = typer.Argument(..., help="The month, YYYY-MM."),
          force: bool = typer.Option(False, "--force", help="Close despite failed runs, unpriced or unconverted lines."),
          reason: str = typer.Option("", "--reason", help="Why (required with --force); recorded in the audit log."),
          actor: str = ActorOption) -> None:
    """Freeze a month's figures (refused with failed ingest runs, unpriced or unconverted lines unless --force)."""
    with context.engine().begin() as conn:
        result = periods.close_period(conn, month, actor=actor, force=force, reason=reason,
                                      reporting_currency=context.settings().reporting_currency.upper())
    forced = " (forced: " + reason + ")" if force else ""
    typer.echo(f"closed {month}: token spend frozen at {usd(result['total_usd'])}{forced}", err=True)


@period_app.command("reopen")
def reopen(month: str = typer.Argument(..., help="The month, YYYY-MM."),
           reason: str = typer.Option("", "--reason", help="Why; recorded in the audit log."),
           actor: str = ActorOption) -> None:
    """Reopen a closed month (audited); its live figures count again."""
    with context.engine().begin() as conn:
        periods.reopen_period(conn, month, actor=actor, reason=reason)
    typer.echo(f"reopened {month}", err=True)


@period_app.command("list")
def list_(json_output: bool = typer.Option(False, "--json", help="JSON array, one object per month."),
          restatements: bool = typer.Option(False, "--restatements", help="List the restatements instead.")) -> None:
    """Closed and reopened months with their frozen totals and restated differences."""
    with context.engine().connect() as conn:
        frame = periods.restatements(conn) if restatements else periods.list_periods(conn)
    if json_output:
        echo_json_rows(frame.to_dicts())
    elif frame.is_empty():
        typer.echo("nothing yet", err=True)
    else:
        echo_table(frame, {c: usd for c in ("frozen_total_usd", "restated_usd", "before", "after", "difference")})


def audit(since: str = SinceOption, until: str = UntilOption,
          entity: str = typer.Option(None, "--entity", help="Only this kind: price, fx_rate, period, commitment, "
                                     "attribution_rule, budget, gpu_profile."),
          json_output: bool = typer.Option(False, "--json", help="JSON array, one object per entry."),
          csv_output: bool = typer.Option(False, "--csv", help="CSV on stdout (an export)."),
          ) -> None:
    """Who changed prices, rules, budgets, GPU profiles, rates and periods, when, before and after."""
    start, end = utc_window(since, until, default_days=3650) if (since or until) else (None, None)
    with context.engine().connect() as conn:
        frame = audit_log(conn, since=start, until=end, entity=entity)
    if json_output:
        echo_json_rows(frame.to_dicts())
    elif csv_output:
        write_rows(sys.stdout, frame.columns, frame.iter_rows())  # an actor '@SUM(1+1)' stays text
    elif frame.is_empty():
        typer.echo("no audit entries in this period", err=True)
    else:
        echo_table(frame.select("at", "actor", "entity", "entity_key", "action"))


def register(app: typer.Typer) -> None:
    """Add the period group and the audit command."""
    app.add_typer(period_app, name="period")
    app.command()(audit)
