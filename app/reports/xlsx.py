"""The weekly report as an XLSX workbook: one sheet per table, numbers as numbers, no formulas from data."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.utils import get_column_letter

from app.reports.csv_writer import FORMULA_TRIGGERS
from app.reports.summary import headlines
from app.reports.tables import Table, report_tables
from models.names import shown
from models.reports.data import WeeklyReport

MONEY_FORMAT = '"$"#,##0.00'
PCT_FORMAT = "0.0%"
INT_FORMAT = "#,##0"
FLOAT_FORMAT = "#,##0.0"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def set_text(cell: Cell, text: str) -> None:
    """Store text as text, names shown escaped: a value starting with = + - @ tab or CR is never a formula."""
    text = shown(text)
    cell.value = text
    if text.startswith(FORMULA_TRIGGERS):
        cell.data_type = "s"
        cell.quotePrefix = True


def set_value(cell: Cell, value: Any, kind: str) -> None:
    """Write one value with its number format; text always through `set_text`."""
    if value is None:
        return
    if kind in ("usd", "pct", "int", "float") and isinstance(value, (int, float, Decimal)):
        cell.value = float(value) if kind == "pct" else value
        cell.number_format = {"usd": MONEY_FORMAT, "pct": PCT_FORMAT, "int": INT_FORMAT, "float": FLOAT_FORMAT}[kind]
    elif isinstance(value, datetime):
        cell.value = value.replace(tzinfo=None)  # Excel has no time zones: every time here is UTC
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    else:
        set_text(cell, str(value))


def _sheet_title(name: str, used: set[str]) -> str:
    title = name[:31]
    n = 2
    while title in used:
        title = f"{name[:28]} {n}"
        n += 1
    used.add(title)
    return title


def _write_table(wb: Workbook, table: Table, used: set[str]) -> None:
    ws = wb.create_sheet(_sheet_title(table.sheet, used))
    headers = [h for h, _, _ in table.columns]
    for col, header in enumerate(headers, start=1):
        set_text(ws.cell(row=1, column=col), header)
        ws.column_dimensions[get_column_letter(col)].width = max(12, min(40, len(header) + 4))
    for r, row in enumerate(table.rows, start=2):
        for c, (_, key, kind) in enumerate(table.columns, start=1):
            set_value(ws.cell(row=r, column=c), row.get(key), row.get("kind", "text") if kind == "mixed" else kind)
    ws.freeze_panes = "A2"
    if table.note:
        set_text(ws.cell(row=len(table.rows) + 3, column=1), table.note)


def write_xlsx(rep: WeeklyReport, path: Path) -> None:
    """Write the workbook: a Summary sheet, then one sheet per report table and the daily detail."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    used = {"Summary"}
    meta = [("Report", f"hybridcost weekly report {rep.title}", "text"),
            ("Week start (UTC)", rep.week.since, "datetime"), ("Week end (UTC, exclusive)", rep.week.until, "datetime"),
            ("Data as of (UTC)", rep.as_of, "datetime"), ("Generated (UTC)", rep.generated_at, "datetime"),
            ("Token spend (USD)", rep.total_usd, "usd"), ("Last week (USD)", rep.previous_total_usd, "usd"),
            ("Change", rep.change_pct, "pct"), ("GPU cost (USD)", rep.fleet.cost_usd, "usd"),
            ("GPU idle cost (USD)", rep.fleet.idle_cost_usd, "usd")]
    for r, (label, value, kind) in enumerate(meta, start=1):
        set_text(ws.cell(row=r, column=1), label)
        set_value(ws.cell(row=r, column=2), value, kind)
    row = len(meta) + 2
    for line in headlines(rep) + rep.pending:
        set_text(ws.cell(row=row, column=1), line)
        row += 1
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 24
    for table in report_tables(rep, detail=True):
        _write_table(wb, table, used)
    wb.save(path)
