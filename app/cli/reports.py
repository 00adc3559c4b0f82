"""`hybridcost report weekly` and `hybridcost export focus`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli import context
from app.cli.dates import SinceOption, UntilOption, utc_window
from app.cli.errors import UserError, fail
from app.reports.focus import write_focus_csv
from app.reports.mail import SmtpSettings, send_report
from app.reports.summary import headlines
from app.reports.weekly import parse_formats, write_weekly
from models.reports.data import ReportInputError

report_app = typer.Typer(help="Reports to read and forward: the weekly report (HTML, PDF, XLSX).",
                         no_args_is_help=True)
export_app = typer.Typer(help="Exports for other tools: token spend as FOCUS 1.2 CSV.", no_args_is_help=True)

@report_app.command()
def weekly(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the report files into.")],
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W47 (default: the last full week).")] = None,
    format: Annotated[str, typer.Option("--format", help="Comma list of html, pdf, xlsx.")] = "html,pdf,xlsx",
    email: Annotated[bool, typer.Option("--email", help="Mail the PDF and XLSX (HYBRIDCOST_SMTP_* settings).")] = False,
    static_charts: Annotated[bool, typer.Option(help="Charts as PNG images instead of interactive Plotly.")] = False,
    partial: Annotated[bool, typer.Option("--partial", help="Allow the week in progress: its hours so far, "
                                          "compared with the same hours of the week before, titled partial, "
                                          "nothing scaled.")] = False,
) -> None:
    """Write the weekly report (Monday 00:00 UTC to Monday 00:00 UTC) and optionally e-mail it.

    The default is the last complete ISO week; a week in progress is refused unless --partial.
    """
    try:
        formats = parse_formats(format)
        outcome = write_weekly(context.engine(), week=week, out=out, formats=formats, static_charts=static_charts,
                               partial=partial)
    except ReportInputError as exc:
        raise fail(str(exc)) from None
    for path in outcome.written.values():
        typer.echo(str(path))
    if email:
        _email(outcome)
    if outcome.failed:
        raise fail(outcome.message(), code=1)


def _email(outcome) -> None:
    files = [outcome.written[f] for f in ("pdf", "xlsx") if f in outcome.written]
    if not files:
        raise fail("nothing to e-mail: neither the PDF nor the XLSX was written", code=1)
    rep = outcome.report
    body = "\n".join([f"hybridcost weekly report {rep.title}", "", *headlines(rep), "",
                      f"Data as of {rep.as_of:%Y-%m-%d %H:%M} UTC." if rep.as_of else ""])
    try:
        send_report(SmtpSettings(), subject=f"hybridcost weekly report {rep.title}", body=body,
                    attachments=files)
    except (ValueError, OSError) as exc:
        raise fail(f"report written but not e-mailed: {exc}", code=1) from None
    typer.echo(f"e-mailed {', '.join(p.name for p in files)}", err=True)


@export_app.command()
def focus(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    since: str = SinceOption,
    until: str = UntilOption,
) -> None:
    """Token spend as FOCUS 1.2 CSV rows with token counts (input, cached input, output)."""
    try:
        start, end = utc_window(since, until)
    except UserError as exc:
        raise fail(str(exc)) from None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with context.engine().connect() as conn:
            n = write_focus_csv(conn, out, since=start, until=end)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(f"{n} FOCUS rows for {start:%Y-%m-%d} to {end:%Y-%m-%d} (exclusive) written to {out}", err=True)


def register(app: typer.Typer) -> None:
    """Add `report` and `export` to the main CLI."""
    app.add_typer(report_app, name="report")
    app.add_typer(export_app, name="export")
