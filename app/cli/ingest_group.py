"""The `hybridcost ingest` group, shared by the token-side and GPU-side command modules."""

from __future__ import annotations

import typer

ingest_app = typer.Typer(help="Load usage, costs and telemetry from APIs and files.", no_args_is_help=True)
_attached = False


def attach(app: typer.Typer) -> None:
    """Add the ingest group to the root app once, whichever module registers first."""
    global _attached
    if not _attached:
        app.add_typer(ingest_app, name="ingest")
        _attached = True
