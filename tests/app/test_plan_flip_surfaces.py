"""The flip sentence is one sentence everywhere: the weekly report, `simulate --workload` and PlanFigures agree.

For each demo workload (each runs contract v2, so each has flip points) over the report's period,
the report's recommendation row, its "What flips each answer" table, its headlines, its HTML (with
one tornado chart per sentence), the CLI's JSON and the CLI's text all carry the sentence that
`PlanFigures.flip_sentence` gives on the planning path.
"""

from __future__ import annotations

import html
import json
import unicodedata
from datetime import timedelta

from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from app.reports.html import flip_figures, render_html
from app.reports.pdf import browser_available
from app.reports.summary import headlines
from app.reports.tables import flips_table
from app.reports.weekly import write_weekly
from models.infra.database import make_engine
from models.planning import plan_workload
from models.reports.data import parse_week, weekly_report
from models.reports.economics import flips_of_row
from models.reports.economics import planning_period as report_period
from tests_support import DEMO_NOW

DEMO_WORKLOADS = ["code-review", "doc-summaries", "segment-labeling", "support-assistant"]
REPORT_WEEK = "2026-W46"


def _cli(*args: str) -> str:
    context.reset()
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_report_flip_sentences_equal_the_planning_path_and_the_cli(demo_env, tmp_path):
    week = parse_week(REPORT_WEEK)
    since, until = report_period(week.until)
    engine = make_engine(demo_env)
    with engine.connect() as conn:
        figures = {w: plan_workload(conn, w, since, until, now=DEMO_NOW) for w in DEMO_WORKLOADS}
        rep = weekly_report(conn, week, now=DEMO_NOW)
    formats = ["html", "xlsx"] + (["pdf"] if browser_available() else [])
    outcome = write_weekly(engine, week=REPORT_WEEK, out=tmp_path, formats=formats, now=DEMO_NOW)
    engine.dispose()
    rows = {r["workload"]: r for r in rep.recommendations.iter_rows(named=True)}
    table = {r["workload"]: r["flip_sentence"] for r in flips_table(rep).rows}
    lines = "\n".join(headlines(rep))
    page = render_html(rep)
    dates = ("--since", f"{since:%Y-%m-%d}", "--until", f"{until - timedelta(days=1):%Y-%m-%d}")
    for w in DEMO_WORKLOADS:
        want = figures[w].flip_sentence
        assert want and want.startswith("This answer"), w  # every demo workload runs contract v2
        row = rows[w]
        assert row["flip_sentence"] == want and table[w] == want, w
        assert row["plan_class"] == figures[w].result.plan_class, w
        flips, flip_to = flips_of_row(row)
        assert flips == figures[w].result.flips and flip_to == figures[w].result.flip_to, w
        assert json.loads(_cli("simulate", "--workload", w, "--json", *dates))["flip_sentence"] == want, w
        assert want in _cli("simulate", "--workload", w, *dates), w
        assert html.escape(want) in page, w
    # a headline that names a workload's plan carries that workload's sentence
    for w in DEMO_WORKLOADS:
        for line in (x for x in lines.splitlines() if x.startswith((f"{w}:", f"{w} crossed"))):
            if "Use the measured figure" not in line:
                assert line.endswith(figures[w].flip_sentence), line
    charts = flip_figures(rep)
    assert [c.layout.title.text for c in charts] == [
        f"What flips {w}'s answer ({rows[w]['plan_class']})" for w in rows if rows[w]["flip_sentence"]]
    assert "What flips each answer" in page and page.count("What flips ") >= len(DEMO_WORKLOADS) + 1

    # The files: the XLSX sheet holds the same sentences; the PDF prints the table and every tornado chart.
    assert not outcome.failed, outcome.failed
    sheet = load_workbook(outcome.written["xlsx"])["What flips it"]
    cells = {r[0]: r[2] for r in sheet.iter_rows(values_only=True) if r and r[0] in figures}
    assert cells == {w: figures[w].flip_sentence for w in DEMO_WORKLOADS}
    if "pdf" in outcome.written:
        # NFKC: Chromium's PDF text spells "fl" as the ligature "ﬂ"
        text = unicodedata.normalize("NFKC", " ".join(" ".join(p.extract_text().split())
                                                      for p in PdfReader(outcome.written["pdf"]).pages))
        assert "What flips each answer" in text, text[text.find("Recommendation"):][:3000]
        assert text.count("the plan as assumed:") == len(charts), text.count("the plan as assumed:")
