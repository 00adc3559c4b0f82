"""`hybridcost gpu-profile set|list|delete` and `hybridcost showback`: GPU cost profiles, and GPU cost by team."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer

from app.cli import context
from app.cli.dates import SinceOption, UntilOption, utc_window
from app.cli.errors import UserError
from app.cli.output import echo_json_rows, echo_table
from app.ui.format import usd
from models import clock
from models.gpu_profiles import FIELDS, ProfileError, remove_profile, set_profile
from models.queries.gpu_showback import gpu_cost_daily, team_costs, total_usd
from models.queries.gpu_spend import cost_profiles
from models.queries.spend import allocated_daily

app = typer.Typer(help="GPU cost profiles: what a pool of owned or rented GPUs costs per GPU-hour.",
                  no_args_is_help=True)
ActorOption = typer.Option(None, "--actor", help="Who makes the change (default: HYBRIDCOST_ACTOR or the OS user).")


def _opt(name: str):
    field = FIELDS[name]
    return typer.Option(None, f"--{name.replace('_', '-')}", help=f"{field.label}: {field.help}")


@app.command("set")
def set_(
    name: str = typer.Argument(..., help="Profile name (a new name creates a profile, a known one edits it)."),
    gpu_type: str = _opt("gpu_type"), gpu_count: str = _opt("gpu_count"), pricing: str = _opt("pricing"),
    host_pattern: str = _opt("host_pattern"), hourly_rate_usd: str = _opt("hourly_rate_usd"),
    purchase_price_usd: str = _opt("purchase_price_usd"), amortization_months: str = _opt("amortization_months"),
    power_watts: str = _opt("power_watts"), pue: str = _opt("pue"),
    electricity_usd_per_kwh: str = _opt("electricity_usd_per_kwh"),
    ops_usd_per_gpu_month: str = _opt("ops_usd_per_gpu_month"), started_on: str = _opt("started_on"),
    actor: str = ActorOption,
) -> None:
    """Create or edit a GPU cost profile (audited); only the options given change."""
    values = {k: v for k, v in locals().items() if k in FIELDS and v is not None}
    try:
        _, created = set_profile(context.engine(), name, values, actor=actor)
    except ProfileError as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"{'created' if created else 'updated'} GPU profile {name!r}", err=True)


@app.command("list")
def list_(json_output: bool = typer.Option(False, "--json", help="JSON array, one object per profile.")) -> None:
    """Every GPU cost profile with its USD per GPU-hour (ECONOMICS.md formula)."""
    with context.engine().connect() as conn:
        frame = cost_profiles(conn)
    if json_output:
        echo_json_rows(frame.to_dicts())
    elif frame.is_empty():
        typer.echo("no GPU cost profiles: `hybridcost gpu-profile set NAME --gpu-type ... --pricing ...`", err=True)
    else:
        echo_table(frame.select("name", "gpu_type", "gpu_count", "pricing", "host_pattern", "usd_per_gpu_hour"),
                   {"usd_per_gpu_hour": lambda v: f"${v:,.4f}"})


@app.command("delete")
def delete(name: str = typer.Argument(..., help="Profile name."), actor: str = ActorOption) -> None:
    """Delete a GPU cost profile (audited)."""
    try:
        remove_profile(context.engine(), name, actor=actor)
    except ProfileError as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"deleted GPU profile {name!r}", err=True)


def showback(
    since: str = SinceOption,
    until: str = UntilOption,
    by: str = typer.Option("team", "--by", help="Group by team or workload."),
    json_output: bool = typer.Option(False, "--json", help="JSON array, one object per team (idle included)."),
    csv: Path = typer.Option(None, "--csv", help="Also write the daily GPU cost lines to this CSV file."),
) -> None:
    """Token spend and GPU cost per team (or workload): GPU pools shared by measured GPU-hours, idle its own line."""
    if by not in ("team", "workload"):
        raise UserError(f"--by must be team or workload, not {by!r}")
    start, end = utc_window(since, until)
    with context.engine().connect() as conn:
        lines = gpu_cost_daily(conn, since=start, until=end, now=clock.current_hour())
        tokens = allocated_daily(conn, since=start, until=end)
    table = team_costs(tokens, lines, by)
    if csv is not None:
        try:
            csv.parent.mkdir(parents=True, exist_ok=True)
            lines.write_csv(csv)
        except OSError as exc:
            raise UserError(f"cannot write {csv}: {exc.strerror or exc}") from None
    if json_output:
        echo_json_rows(table.to_dicts())
        return
    typer.echo(f"Tokens and GPUs by {by}, {start:%Y-%m-%d} to {end:%Y-%m-%d} (exclusive), USD", err=True)
    if table.is_empty():
        typer.echo("no token spend or GPU cost in this period", err=True)
        return
    echo_table(table.with_columns(pl.col("gpu_hours").round(1)),
               {"token_usd": usd, "gpu_usd": usd, "total_usd": usd})
    typer.echo(f"GPU cost of the fleet: {usd(total_usd(lines))} (idle included); "
               f"tokens + GPUs: {usd(sum(table['total_usd'].to_list()))}", err=True)


def register(root: typer.Typer) -> None:
    """Add `gpu-profile` and `showback` to the CLI."""
    root.add_typer(app, name="gpu-profile")
    root.command()(showback)
