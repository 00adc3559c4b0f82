"""What every file or scrape load shares: the plausibility override, its audit, and the load summary."""

from __future__ import annotations

from typing import Any

import typer

from app.cli import context
from ingest.loader import LoadResult, load
from models.audit import record_accepted

AcceptOption = typer.Option(
    None, "--accept-implausible", metavar="FIELD",
    help="Load values outside this field's plausibility bound anyway (the table in docs/ingest.md); "
         "repeat for more fields; recorded in the audit log.")
ActorOption = typer.Option(None, "--actor", help="Who makes the change (default: HYBRIDCOST_ACTOR or the OS user).")


def accepted_fields(values: list[str] | None) -> tuple[str, ...]:
    """The --accept-implausible fields (a comma-separated list counts as several)."""
    return tuple(part.strip() for value in values or () for part in value.split(",") if part.strip())


def notes(source: Any) -> list[str]:
    """What the load should tell the user about how records were keyed."""
    out = []
    keyed = getattr(source, "keyed_by_content", 0)
    if keyed:
        out.append(f"{keyed:,} record(s) had no id of their own: keyed by their content and position in the file "
                   "(reloading the same file changes nothing; an edited copy loads as new records)")
    out += list(getattr(source, "notes", ()))
    return out


def load_source(source: Any, name: str, *, where: str, actor: str | None = None, **kwargs) -> LoadResult:
    """Load a source's records; audit anything let through by --accept-implausible; returns the result."""
    engine = context.engine()
    # A source that reads its file column-wise hands the loader frames (same rules, COPY speed).
    collect = getattr(source, "collect_batches", None) or source.collect
    result = load(engine, collect(), source=name, target=source.describe(), where=where, **kwargs)
    guard = getattr(source, "guard", None)
    if guard is not None and guard.accepted:
        with engine.begin() as conn:
            record_accepted(conn, actor, run_id=result.run_id, target=where, accepted=guard.accepted)
        typer.echo(f"{where}: {len(guard.accepted):,} implausible value(s) accepted "
                   f"({', '.join(sorted({a['kind'] for a in guard.accepted}))}); recorded in the audit log", err=True)
    for line in notes(source):
        typer.echo(f"{where}: {line}", err=True)
    return result
