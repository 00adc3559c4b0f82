"""`hybridcost demo`: load or remove the demo data."""

from __future__ import annotations

import typer

from app.cli import context
from ingest.demo import load_demo, unload_demo

app = typer.Typer(help="Demo data: a 120-day story of four workloads and an 8-GPU pool.", no_args_is_help=True)


def load_with_progress() -> None:
    """Load the demo data into the configured database, with a progress bar on stderr."""
    with typer.progressbar(length=100, label="loading demo data", file=None) as bar:
        done = 0

        def progress(step: str, fraction: float) -> None:
            nonlocal done
            target = int(fraction * 100)
            if target > done:
                bar.update(target - done)
                done = target

        summary = load_demo(context.engine(), progress=progress)
        bar.update(100 - done)
    typer.echo(f"demo data loaded: {summary}", err=True)


@app.command()
def load() -> None:
    """Load the demo data (idempotent: loading twice duplicates nothing)."""
    load_with_progress()


@app.command()
def unload() -> None:
    """Remove exactly the demo rows; your own data is untouched."""
    removed = unload_demo(context.engine())
    typer.echo(f"removed {removed} demo rows", err=True)
