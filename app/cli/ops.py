"""Operations commands: the Prometheus exporter for alerting."""

from __future__ import annotations

import time

import typer

from app.cli import context
from app.exporter import serve
from models.infra.database import reader_engine, writer_engine


def exporter(
    port: int = typer.Option(9464, help="Port for /metrics."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0 inside a container network)."),
) -> None:
    """Serve Prometheus metrics read from the database at each scrape (spend rate, budget burn, GPUs)."""
    settings = context.settings()
    server, _thread = serve(reader_engine(settings), host, port, settings.exporter_cache_seconds,
                            writer=writer_engine(settings), refresh_seconds=settings.exporter_refresh_seconds)
    typer.echo(f"hybridcost exporter: http://{host}:{port}/metrics", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()


def register(app: typer.Typer) -> None:
    """Add the operations commands to the root CLI."""
    app.command()(exporter)
