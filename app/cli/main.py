"""The `hybridcost` command: one Typer group per area."""

from __future__ import annotations

import logging
import os
import sys
import warnings

import click
import typer
from sqlalchemy.exc import DBAPIError
from typer.core import TyperGroup

from app.cli import (
    db,
    demo,
    discipline,
    doctor,
    gpu,
    gpu_profile,
    ingest,
    ledger,
    ops,
    plan,
    prices,
    reports,
    serve,
    simulate,
    spend,
)
from app.cli.errors import USER_ERROR_EXIT, user_error_types
from models import clock

DATABASE_ERROR_EXIT = 3


class HybridcostGroup(TyperGroup):
    """The root group: a user error anywhere below prints one line and exits 2."""

    def invoke(self, ctx: click.Context):
        """Run the command, turning user errors into `error: ...` on stderr."""
        try:
            return super().invoke(ctx)
        except user_error_types() as exc:
            click.echo(f"error: {exc}", err=True)
            # A load the database failed (gone, full) exits 3 like any database error; bad input exits 2.
            ctx.exit(getattr(exc, "exit_code", USER_ERROR_EXIT))
        except DBAPIError as exc:
            # A database that went away (or refuses us) is reported in one line; details at DEBUG.
            logging.getLogger("hybridcost").debug("database error", exc_info=True)
            first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc).splitlines()[0]
            click.echo(f"error: database: {first}", err=True)
            ctx.exit(DATABASE_ERROR_EXIT)


app = typer.Typer(
    cls=HybridcostGroup,
    name="hybridcost",
    help="Decide where AI work should run: token-priced APIs or GPUs you own or rent.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="ISO-DATETIME",
        help="Run as of this moment (ISO 8601 with an offset, e.g. 2026-10-31T23:00Z): 'now', default ranges, "
             "the current week and freshness come from it and later data is left out. Same as HYBRIDCOST_AS_OF."),
) -> None:
    """Decide where AI work should run: token-priced APIs or GPUs you own or rent."""
    if as_of is not None:
        # The environment carries the pin to every part of this run, the dashboard's server included.
        os.environ[clock.ENV_NAME] = clock.parse_as_of(as_of, name="--as-of").isoformat()
    else:
        clock.as_of()  # a malformed HYBRIDCOST_AS_OF is refused before any command runs


app.add_typer(db.app, name="db")
app.add_typer(demo.app, name="demo")
app.command()(serve.up)
app.command()(serve.serve)
app.command()(doctor.doctor)


for _area in (simulate, ingest, prices, spend, gpu, reports, discipline, ops, ledger, plan, gpu_profile):
    _area.register(app)


def main() -> None:
    """Run the CLI; user errors print one line and exit 2, never a traceback."""
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    logging.basicConfig(level=os.environ.get("HYBRIDCOST_LOG_LEVEL", "WARNING"), stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    app()
