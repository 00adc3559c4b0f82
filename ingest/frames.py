"""Frames of records: a batch of one record type as a polars DataFrame, the loader's fast lane.

A source that can parse a file column-wise yields `RecordFrame`s instead of one record per row;
the loader writes a frame with one COPY (CSV, encoded by polars in Rust) and never touches its
rows in Python. Columns are the record's fields, in order, with the database's types: times are
UTC, JSON columns are JSON text, money is Decimal text (exact, never a float).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

import polars as pl

from ingest import records as r

_JSON = json.JSONEncoder(default=str, separators=(",", ":"))  # as the loader encodes a record's JSON columns
_TEXT_FIELDS = {"tags", "reported_cost_usd"}


def _dtype(kind: type, name: str, annotation: str) -> pl.DataType:
    if name in _TEXT_FIELDS:
        return pl.String()
    if "datetime" in annotation:
        return pl.Datetime("us", "UTC")
    if annotation.startswith("bool"):
        return pl.Boolean()
    if annotation.startswith("int"):
        return pl.Int64()
    if annotation.startswith("float"):
        return pl.Float64()
    return pl.String()


def frame_schema(kind: type) -> dict[str, pl.DataType]:
    """The polars schema of a frame of `kind` records (field order kept)."""
    return {f.name: _dtype(kind, f.name, str(f.type)) for f in fields(kind)}


@dataclass(frozen=True)
class RecordFrame:
    """A batch of `kind` records as columns (`frame_schema(kind)`), in input order."""

    kind: type
    frame: pl.DataFrame

    @property
    def height(self) -> int:
        """How many records the frame holds."""
        return self.frame.height


def _cell(name: str, value):
    if name == "tags":
        return _JSON.encode(value) if value else "{}"
    if isinstance(value, Decimal):
        return str(value)
    return value


def records_frame(kind: type, records: Iterable) -> pl.DataFrame:
    """A frame of typed records (the rows a column-wise reader handed back to the per-row rules)."""
    names = [f.name for f in fields(kind)]
    rows = [tuple(_cell(n, getattr(rec, n)) for n in names) for rec in records]
    return pl.DataFrame(rows, schema=frame_schema(kind), orient="row")


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as PostgreSQL `COPY ... (FORMAT csv)` input: NULL unquoted-empty, '' quoted, times in UTC."""
    times = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime)]
    if times:
        frame = frame.with_columns(pl.col(times).dt.convert_time_zone("UTC").dt.replace_time_zone(None))
    return frame.write_csv(include_header=False, datetime_format="%Y-%m-%d %H:%M:%S%.6f+00").encode()


def hours_of(frame: pl.DataFrame, column: str) -> set[datetime]:
    """The UTC hour starts the frame's `column` times fall in."""
    return set(frame.select(pl.col(column).dt.truncate("1h").unique()).to_series().to_list())


FRAME_KINDS = (r.UsageRequest,)

__all__ = ["RecordFrame", "csv_bytes", "frame_schema", "hours_of", "records_frame"]
