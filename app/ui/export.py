"""Downloads: frames as CSV bytes for st.download_button (one writer for every page)."""

from __future__ import annotations

import io

import polars as pl


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as UTF-8 CSV, money at full precision (a formula-safe writer replaces this one call)."""
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()
