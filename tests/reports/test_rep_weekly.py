"""The weekly report from the CLI: HTML opens cleanly, PDF and XLSX carry the same totals as spend_by."""

from __future__ import annotations

import json
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import rep_seed
from openpyxl import load_workbook

from app.reports.html import SECTIONS
from app.ui.format import usd
from models.infra.database import make_engine
from models.queries.spend import spend_by
from tests_support import require_program


@pytest.fixture(scope="module")
def weekly(pg_admin_url, template_db_url, tmp_path_factory):
    """Seed a database of this module's own and run `hybridcost report weekly` once for every test here."""
    require_program("chromium")
    name = f"hc_rep_{uuid.uuid4().hex[:10]}"
    url = rep_seed.clone_database(pg_admin_url, template_db_url, name)
    engine = make_engine(url)
    try:
        rep_seed.seed(engine)
        with engine.connect() as conn:
            totals = {by: spend_by(conn, since=rep_seed.SINCE, until=rep_seed.UNTIL, by=by)
                      for by in ("provider", "workload", "team")}
        out = tmp_path_factory.mktemp("weekly")
        result = rep_seed.run_cli(["report", "weekly", "--week", rep_seed.WEEK, "--out", str(out)],
                                  {"DATABASE_URL": url, "HYBRIDCOST_DATA_DIR": str(out / "data")})
        assert result.exit_code == 0, result.stderr
        spend = rep_seed.run_cli(["spend", "--since", "2026-11-02", "--until", "2026-11-08", "--by", "provider",
                                  "--json"], {"DATABASE_URL": url})
        assert spend.exit_code == 0, spend.stderr
        totals["spend_json"] = json.loads(spend.stdout)
        yield out, totals
    finally:
        engine.dispose()
        rep_seed.drop_database(pg_admin_url, name)


def _file(out: Path, ext: str) -> Path:
    path = out / f"hybridcost-weekly-{rep_seed.WEEK}.{ext}"
    assert path.is_file(), f"{path.name} not written"
    return path


def test_rep_html_opens_in_chromium_without_console_errors(weekly):
    from playwright.sync_api import sync_playwright

    from app.reports.pdf import BROWSER_ARGS

    out, _ = weekly
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(_file(out, "html").as_uri(), wait_until="load")
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3")
        headings = page.locator("h2").all_inner_texts()
        browser.close()
    assert errors == []
    assert [h for _, h in SECTIONS] == headings
    assert all(u.startswith(("file:", "data:")) for u in requests), "the report must not need the network"


def test_rep_pdf_text_carries_totals_equal_to_spend_by(weekly):
    require_program("pdftotext")
    out, totals = weekly
    text = subprocess.run(["pdftotext", "-layout", str(_file(out, "pdf")), "-"], capture_output=True, text=True,
                          check=True).stdout
    total = sum(totals["provider"]["cost_usd"].to_list(), Decimal(0))
    assert usd(total) in text
    cli_rows = totals["spend_json"]  # `hybridcost spend --json` for the same week, formatted the same way
    assert usd(sum(Decimal(str(r["cost_usd"])) for r in cli_rows)) == usd(total)
    for row in cli_rows:
        assert usd(row["cost_usd"]) in text
    assert "data as of 2026-11-09 00:00 UTC" in text
    for _, heading in SECTIONS:
        assert heading in text


def test_rep_xlsx_reads_back_with_same_totals_and_no_formulas(weekly):
    out, totals = weekly
    wb = load_workbook(_file(out, "xlsx"))
    summary = {ws_row[0].value: ws_row[1] for ws_row in wb["Summary"].iter_rows(min_row=1, max_row=12)}
    total = sum(totals["provider"]["cost_usd"].to_list(), Decimal(0))
    spend = summary["Token spend (USD)"]
    assert spend.data_type == "n" and spend.number_format == '"$"#,##0.00'
    assert round(Decimal(str(spend.value)), 6) == round(total, 6)
    for dim in ("provider", "workload", "team"):
        ws = wb[f"By {dim}"]
        sheet = {r[0].value: r[1].value for r in ws.iter_rows(min_row=2) if r[0].value is not None}
        expected = {r["group"]: r["cost_usd"] for r in totals[dim].iter_rows(named=True)}
        assert set(sheet) == set(expected)
        for group, value in sheet.items():
            assert abs(Decimal(str(value)) - expected[group]) < Decimal("1e-6")
    money = {r[0].value: r[1].value for r in wb["Gross and net"].iter_rows(min_row=2) if r[0].value}
    net = money["Net token spend (USD): every other figure in this report"]
    assert round(Decimal(str(net)), 6) == round(total, 6)
    formulas = [(ws.title, c.coordinate) for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    detail = [c for row in wb["Daily detail"].iter_rows() for c in row if c.value == rep_seed.HOSTILE_MODEL]
    assert detail and all(c.data_type == "s" and c.quotePrefix for c in detail)
    hostile_workload = [c for row in wb["By workload"].iter_rows() for c in row if c.value == "-rm -rf"]
    assert hostile_workload and hostile_workload[0].quotePrefix
