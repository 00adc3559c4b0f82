"""Tables on pages: names shown escaped, and a CSV download through the product's formula-safe writer.

The data frame's own toolbar download writes cells as they are (a model named `=HYPERLINK(...)`
becomes a live formula in a spreadsheet), so the app hides it (app/streamlit_app.py) and every
table gets a download written by `app.reports.csv_writer`.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from app.reports.csv_writer import frame_csv
from app.ui.format import display_frame

# The data frame toolbar's own "Download as CSV" button: hidden, the table's own download replaces it.
HIDE_BUILTIN_DOWNLOAD = """<style>
[data-testid="stElementToolbar"] button[aria-label^="Download as CSV"],
[data-testid="stElementToolbarButton"]:has(button[aria-label^="Download as CSV"]) {display: none !important;}
</style>"""


def show_table(data: Any, *, key: str, container: Any = None, download: str | None = None,
               csv: pl.DataFrame | None = None, **kwargs: Any) -> Any:
    """st.dataframe with names escaped for display, plus a formula-safe CSV download of the exact values.

    `csv` is the frame to download when the shown one was rounded for display (Decimal money as float).
    """
    place = container if container is not None else st
    frame = data if isinstance(data, pl.DataFrame) else None
    shown = place.dataframe(display_frame(frame) if frame is not None else data, key=key, **kwargs)
    exact = csv if csv is not None else frame
    if exact is not None and exact.height:
        place.download_button("Download CSV", frame_csv(exact), file_name=f"{download or key}.csv", mime="text/csv",
                              key=f"{key}_csv", icon=":material/download:", type="tertiary",
                              help="Formula-safe CSV: text starting with = + - @ is written as text.")
    return shown
