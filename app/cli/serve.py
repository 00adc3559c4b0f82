"""`hybridcost up` and `hybridcost serve`: run the dashboard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
import typer

from app.cli import context
from app.cli.errors import fail
from models import migrate
from models.database import database_url

ENTRY_POINT = Path(__file__).resolve().parent.parent / "streamlit_app.py"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def streamlit_command(host: str, port: int) -> list[str]:
    """The command line that serves the app; usage statistics are always off."""
    return [
        sys.executable, "-m", "streamlit", "run", str(ENTRY_POINT),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--server.maxUploadSize", "50", "--theme.base", "light",
    ]


def check_exposure(host: str, insecure: bool) -> None:
    """Refuse to listen beyond loopback without login, unless --insecure says so."""
    login_configured = bool(os.environ.get("HYBRIDCOST_OIDC_CLIENT_ID"))
    if host not in LOOPBACK and not login_configured and not insecure:
        raise fail(f"refusing to serve on {host} without login: configure OIDC (docs/deploy.md) "
                   "or pass --insecure to expose the dashboard unauthenticated")


def _database_is_empty() -> bool:
    with context.engine(check_schema=False).connect() as conn:
        return not conn.execute(sa.text(
            "SELECT EXISTS (SELECT 1 FROM usage_hourly) OR EXISTS (SELECT 1 FROM cost_lines) "
            "OR EXISTS (SELECT 1 FROM gpu_hourly)")).scalar()


def run_streamlit(host: str, port: int) -> None:
    """Serve the app in the foreground until interrupted."""
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    typer.echo(f"hybridcost dashboard: http://{'127.0.0.1' if host in LOOPBACK else host}:{port}", err=True)
    try:
        completed = subprocess.run(streamlit_command(host, port), env=env, cwd=ENTRY_POINT.parent.parent, check=False)
    except KeyboardInterrupt:
        return
    if completed.returncode not in (0, -2, 130):
        raise typer.Exit(completed.returncode)


def up(
    port: int = typer.Option(8501, help="Port for the dashboard."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on; beyond loopback needs login or --insecure."),
    insecure: bool = typer.Option(False, "--insecure", help="Serve beyond loopback without login."),
    no_demo: bool = typer.Option(False, "--no-demo", help="Do not load the demo data into an empty database."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare the database, then exit (for scripts)."),
) -> None:
    """Start (or reuse) the embedded database, migrate, load the demo if empty, and serve."""
    check_exposure(host, insecure)
    settings = context.settings()
    url = database_url(settings)
    migrate.upgrade(url)
    if settings.uses_embedded and not no_demo and _database_is_empty():
        from app.cli.demo import load_with_progress

        load_with_progress()
    elif not settings.uses_embedded:
        typer.echo("DATABASE_URL is set: demo data is only loaded into the embedded database", err=True)
    if not no_serve:
        run_streamlit(host, port)


def serve(
    port: int = typer.Option(8501, help="Port for the dashboard."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on; beyond loopback needs login or --insecure."),
    insecure: bool = typer.Option(False, "--insecure", help="Serve beyond loopback without login."),
) -> None:
    """Serve the dashboard against the configured database (for teams and containers)."""
    check_exposure(host, insecure)
    run_streamlit(host, port)
