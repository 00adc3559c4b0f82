"""The shared `hybridcost ingest` and `hybridcost collect` groups, so several modules can add commands."""

from __future__ import annotations

import typer

ingest_app = typer.Typer(help="Load a file, URL or API window into the database (idempotent).",
                         no_args_is_help=True)
collect_app = typer.Typer(help="Run a collector that keeps sampling (a daemon).", no_args_is_help=True)

_attached: set[int] = set()  # ids of the Typer apps the groups were added to


def attach(app: typer.Typer) -> None:
    """Add the `ingest` and `collect` groups to app once; later calls do nothing."""
    if id(app) in _attached:
        return
    _attached.add(id(app))
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(collect_app, name="collect")
