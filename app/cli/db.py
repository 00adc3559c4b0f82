"""`hybridcost db`: migrations and the embedded server."""

from __future__ import annotations

import time

import typer

from app.cli import context
from models import discipline_rollup, request_rollups, rollups
from models.infra import embedded, migrate
from models.infra.database import database_url
from models.infra.roles import ensure_roles, passwords_from_settings

app = typer.Typer(help="Database: migrations and the embedded server.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Revision to upgrade to.")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    migrate.upgrade(database_url(context.settings()), revision)
    typer.echo(f"database at revision {migrate.current_revision(context.engine(check_schema=False))}", err=True)


@app.command()
def downgrade(revision: str = typer.Argument(..., help="Revision to revert to; 'base' empties the schema.")) -> None:
    """Revert migrations down to REVISION."""
    migrate.downgrade(database_url(context.settings()), revision)
    typer.echo(f"database at revision {migrate.current_revision(context.engine(check_schema=False)) or 'base'}", err=True)


@app.command()
def check() -> None:
    """Fail when the models and the migrations disagree."""
    migrate.check(database_url(context.settings()))
    typer.echo("models and migrations agree", err=True)


@app.command()
def stop() -> None:
    """Stop the embedded PostgreSQL server (its data is kept)."""
    settings = context.settings()
    if not settings.uses_embedded:
        typer.echo("DATABASE_URL is set: hybridcost does not manage that server", err=True)
        raise typer.Exit(1)
    stopped = embedded.stop(settings.data_dir)
    typer.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running", err=True)


@app.command()
def roles() -> None:
    """Create or update the reader, writer and owner roles and their grants (idempotent; run after upgrade).

    Passwords come from HYBRIDCOST_READER_PASSWORD, _WRITER_PASSWORD and _OWNER_PASSWORD; a role
    without one is NOLOGIN. Connect as an admin (DATABASE_URL) that may create roles.
    """
    settings = context.settings()
    for result in ensure_roles(context.engine(), passwords_from_settings(settings)):
        state = "created" if result.created else "updated"
        typer.echo(f"{result.name}: {state}, {'LOGIN' if result.login else 'NOLOGIN (no password set)'}", err=True)


@app.command("rebuild-rollups")
def rebuild_rollups(
    gpu: bool = typer.Option(False, "--gpu", help="Also recompute the GPU hourly rollup wherever raw samples are kept."),
) -> None:
    """Recompute the request rollups (tokens, discipline flags) from usage_requests; --gpu: gpu_hourly too.

    Loads keep the rollups current; run this after changing usage_requests or gpu_samples with
    plain SQL. GPU hours whose raw samples retention dropped, and Prometheus aggregates, are kept.
    """
    started = time.perf_counter()
    with context.engine().begin() as conn:
        rows = request_rollups.rebuild(conn)
        flags = discipline_rollup.rebuild(conn)
        gpu_rows = rollups.rebuild_gpu_hourly(conn) if gpu else None
    done = f"request rollup: {rows:,} rows; discipline flags: {flags:,} rows"
    if gpu_rows is not None:
        done += f"; GPU hourly rollup: {gpu_rows:,} rows recomputed"
    typer.echo(f"{done} ({time.perf_counter() - started:.1f} s)", err=True)
