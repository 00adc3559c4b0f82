"""`hybridcost up` and `hybridcost serve`: run the dashboard."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer

from app.cli import context
from app.cli.demo import load_with_progress
from app.cli.errors import fail
from models.infra import migrate
from models.infra.database import database_url
from models.infra.settings import Settings
from models.queries.status import has_facts

ENTRY_POINT = Path(__file__).resolve().parent.parent / "streamlit_app.py"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def streamlit_command(host: str, port: int, secrets_file: Path | None = None) -> list[str]:
    """The command line that serves the app; usage statistics are always off.

    `app.server` imports the heavy modules before Streamlit accepts a session (a cold start
    with many sessions at once never sees a half-imported pandas). Uploads are capped at
    50 MB (server.maxUploadSize) and parsed by the CLI's validating loaders.
    runner.postScriptGC is off: Streamlit's full garbage collection after every script run was a
    fixed ~150 ms of each warm rerun, and memory stays flat without it (docs/benchmarks.md).
    """
    command = [
        sys.executable, "-m", "app.server", "run", str(ENTRY_POINT),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--server.maxUploadSize", "50", "--theme.base", "light", "--client.toolbarMode", "viewer",
        "--runner.postScriptGC", "false",
    ]
    if secrets_file is not None:
        command += ["--secrets.files", str(secrets_file)]
    return command


def check_exposure(host: str, insecure: bool, settings: Settings | None = None) -> None:
    """Refuse to listen beyond loopback without login, unless --insecure says so."""
    settings = settings or context.settings()
    if host not in LOOPBACK and not settings.login_configured and not insecure:
        missing = [name for name, value in (
            ("HYBRIDCOST_OIDC_CLIENT_ID", settings.oidc_client_id),
            ("HYBRIDCOST_OIDC_CLIENT_SECRET", settings.oidc_client_secret),
            ("HYBRIDCOST_OIDC_SERVER_METADATA_URL", settings.oidc_server_metadata_url),
            ("HYBRIDCOST_COOKIE_SECRET", settings.cookie_secret)) if not value]
        raise fail(f"refusing to serve on {host} without login: anyone who can reach it would see all spend "
                   f"data. Configure OIDC login (missing: {', '.join(missing)}; see docs/deploy.md) "
                   "or pass --insecure to expose the dashboard unauthenticated")
    if settings.login_configured and not (settings.allowed_email_set or settings.allowed_domain_set):
        raise fail("login is configured but nobody is allowed in: set HYBRIDCOST_ALLOWED_EMAILS "
                   "or HYBRIDCOST_ALLOWED_DOMAINS")


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def auth_secrets_toml(settings: Settings, host: str, port: int) -> str:
    """The `[auth]` section of Streamlit's secrets.toml for the configured OIDC provider."""
    base = settings.public_url or f"http://{'localhost' if host in LOOPBACK or host == '0.0.0.0' else host}:{port}"
    values = {
        "redirect_uri": base.rstrip("/") + "/oauth2callback",
        "cookie_secret": settings.cookie_secret.get_secret_value(),
        "client_id": settings.oidc_client_id,
        "client_secret": settings.oidc_client_secret.get_secret_value(),
        "server_metadata_url": settings.oidc_server_metadata_url,
    }
    lines = ["# Written by hybridcost at each start from HYBRIDCOST_* settings; do not edit.", "[auth]"]
    lines += [f"{key} = {_toml_string(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def write_auth_secrets(settings: Settings, host: str, port: int) -> Path | None:
    """Write .streamlit/secrets.toml (0600) in the private runtime folder (0700); None when login is off."""
    if not settings.login_configured:
        return None
    folder = settings.private_runtime_dir / ".streamlit"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder.parent, 0o700)
    os.chmod(folder, 0o700)
    path = folder / "secrets.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file may have had a wider mode
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(auth_secrets_toml(settings, host, port))
    return path


def _database_is_empty() -> bool:
    with context.engine(check_schema=False).connect() as conn:
        return not has_facts(conn)


def run_streamlit(host: str, port: int) -> None:
    """Become the dashboard server (exec), with login when OIDC is configured.

    Exec rather than a child process: SIGTERM from systemd, a container runtime or `kill PID`
    then reaches Streamlit itself, which stops and frees the port; nothing is left orphaned.
    """
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    secrets_file = write_auth_secrets(context.settings(), host, port)
    typer.echo(f"hybridcost dashboard: http://{'127.0.0.1' if host in LOOPBACK else host}:{port}"
               f"{' (login required)' if secrets_file else ''}", err=True)
    command = streamlit_command(host, port, secrets_file)
    context.reset()  # close pooled database connections; the server opens its own
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(ENTRY_POINT.parent.parent)
    os.execve(command[0], command, env)


PortOption = typer.Option(None, help="Port for the dashboard (default HYBRIDCOST_PORT, 8501).")
HostOption = typer.Option(None, help="Address to listen on (default HYBRIDCOST_HOST, 127.0.0.1); "
                          "beyond loopback needs login or --insecure.")


def _listen(host: str | None, port: int | None) -> tuple[str, int]:
    settings = context.settings()
    return host or settings.host, port or settings.port


def up(
    port: int | None = PortOption,
    host: str | None = HostOption,
    insecure: bool = typer.Option(False, "--insecure", help="Serve beyond loopback without login."),
    no_demo: bool = typer.Option(False, "--no-demo", help="Do not load the demo data into an empty database."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare the database, then exit (for scripts)."),
) -> None:
    """Start (or reuse) the embedded database, migrate, load the demo if empty, and serve."""
    host, port = _listen(host, port)
    check_exposure(host, insecure)
    settings = context.settings()
    url = database_url(settings)
    migrate.upgrade(url)
    if settings.uses_embedded and not no_demo and _database_is_empty():
        load_with_progress()
    elif not settings.uses_embedded:
        typer.echo("DATABASE_URL is set: demo data is only loaded into the embedded database", err=True)
    if not no_serve:
        run_streamlit(host, port)


def serve(
    port: int | None = PortOption,
    host: str | None = HostOption,
    insecure: bool = typer.Option(False, "--insecure", help="Serve beyond loopback without login."),
) -> None:
    """Serve the dashboard against the configured database (for teams and containers)."""
    host, port = _listen(host, port)
    check_exposure(host, insecure)
    run_streamlit(host, port)
