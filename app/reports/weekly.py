"""Write the weekly report in the asked formats; each format that can be written is, the rest say why not."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from app.reports.html import render_html
from app.reports.pdf import html_to_pdf
from app.reports.xlsx import write_xlsx
from models import clock
from models.reports.data import ReportInputError, WeeklyReport, data_bounds, parse_week, week_of, weekly_report

FORMATS = ("html", "pdf", "xlsx")


@dataclass
class Outcome:
    """What a run wrote (format -> file) and what it could not write (format -> one-line reason)."""

    report: WeeklyReport
    written: dict[str, Path] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def message(self) -> str:
        """One line naming the formats not written, why, and what was written."""
        why = "; ".join(f"{fmt} not written: {reason}" for fmt, reason in self.failed.items())
        done = ", ".join(self.written) or "nothing"
        return f"{why} ({done} written)"


def parse_formats(text: str) -> list[str]:
    """`html,pdf,xlsx` as a list, in report order; unknown names raise ReportInputError."""
    asked = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in asked if f not in FORMATS]
    if unknown or not asked:
        raise ReportInputError(f"--format takes a comma list of {', '.join(FORMATS)}, not {text!r}")
    return [f for f in FORMATS if f in asked]


def prepare_out_dir(out: Path) -> Path:
    """Create the output folder and prove it is writable, or raise ReportInputError."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".hybridcost-write-test-"):
            pass
    except OSError as exc:
        raise ReportInputError(f"cannot write to output folder {out}: {exc.strerror or exc}") from None
    return out


def file_stem(rep: WeeklyReport) -> str:
    """Base name of the report files: hybridcost-weekly-2026-W47 (-partial for a week in progress)."""
    return f"hybridcost-weekly-{rep.week.label}" + ("-partial" if rep.partial else "")


def write_weekly(engine: Engine, *, week: str | None, out: Path, formats: list[str],
                 now: datetime | None = None, static_charts: bool = False, partial: bool = False) -> Outcome:
    """Assemble the report for `week` and write each format into `out` (a week in progress only with `partial`)."""
    target = parse_week(week, now=now)
    prepare_out_dir(out)
    with engine.connect() as conn:
        rep = weekly_report(conn, target, now=now, partial=partial)
    outcome = Outcome(rep)
    stem = out / file_stem(rep)
    page = render_html(rep, static_charts=static_charts)
    html_file = stem.with_suffix(".html")
    if "html" in formats:
        html_file.write_text(page, encoding="utf-8")
        outcome.written["html"] = html_file
    if "pdf" in formats:
        try:
            if "html" in formats:
                html_to_pdf(html_file, stem.with_suffix(".pdf"))
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    scratch = Path(tmp) / html_file.name
                    scratch.write_text(page, encoding="utf-8")
                    html_to_pdf(scratch, stem.with_suffix(".pdf"))
            outcome.written["pdf"] = stem.with_suffix(".pdf")
        except Exception as exc:  # any browser failure leaves the other formats standing
            outcome.failed["pdf"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "xlsx" in formats:
        write_xlsx(rep, stem.with_suffix(".xlsx"))
        outcome.written["xlsx"] = stem.with_suffix(".xlsx")
    return outcome


def available_weeks(engine: Engine, *, now: datetime | None = None, include_partial: bool = False) -> list[str]:
    """Complete ISO weeks that have data, newest first (at most two years back); the week in progress first
    only with `include_partial`."""
    now = now or clock.now()
    with engine.connect() as conn:
        lo, hi = data_bounds(conn)
    if lo is None:
        return []
    last = week_of(min(hi or now, now) - timedelta(microseconds=1))
    if last.until > now and not include_partial:
        last = last.previous
    weeks, cursor = [], last
    while cursor.until > lo and len(weeks) < 104:
        weeks.append(cursor.label)
        cursor = cursor.previous
    return weeks


def generate_files(engine: Engine, week: str, formats: list[str], *,
                   partial: bool = False) -> tuple[Outcome, dict[str, bytes]]:
    """Write the report into a scratch folder and return the bytes of each file written (for downloads)."""
    with tempfile.TemporaryDirectory(prefix="hybridcost-report-") as tmp:
        outcome = write_weekly(engine, week=week, out=Path(tmp), formats=formats, partial=partial)
        return outcome, {fmt: path.read_bytes() for fmt, path in outcome.written.items()}
