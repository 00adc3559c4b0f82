"""Output helpers: --json writes only JSON to stdout; tables are for people."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import polars as pl
import typer

from models.names import shown


def _jsonable(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def echo_json_rows(rows: list[dict]) -> None:
    """Print an array of flat objects, numbers as numbers."""
    typer.echo(json.dumps([{k: _jsonable(v) for k, v in row.items()} for row in rows], indent=2))


def echo_table(frame: pl.DataFrame, formats: dict[str, callable] | None = None) -> None:
    """Print a frame as an aligned text table, formatting the named columns."""
    formats = formats or {}
    header = frame.columns
    # Names are shown with their invisible characters written out (<U+202E>), never reordering the line.
    body = [[shown(formats.get(c, str)(row[c])) if row[c] is not None else "—" for c in header]
            for row in frame.iter_rows(named=True)]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(header)]
    typer.echo("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    typer.echo("  ".join("-" * w for w in widths))
    for r in body:
        typer.echo("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths))))
