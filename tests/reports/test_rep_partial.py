"""A week in progress never passes as a weekly report: refused unless --partial, then titled partial, nothing scaled."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import rep_seed

from app.reports.html import render_html
from app.reports.summary import headlines
from app.reports.weekly import available_weeks, write_weekly
from models.queries.spend import allocated_daily
from models.reports.data import parse_week, weekly_report

# 32 hours into 2026-W46 (Mon 2026-11-09 00:00Z): the "week in progress"
IN_PROGRESS = datetime(2026, 11, 10, 8, tzinfo=timezone.utc)


def _weekly(url, *args, now=IN_PROGRESS):
    return rep_seed.run_cli(["--as-of", now.isoformat(), "report", "weekly", *args], {"DATABASE_URL": url})


def test_week_in_progress_is_refused_in_one_line(engine, cli_env, tmp_path):
    rep_seed.seed(engine)
    result = _weekly(cli_env, "--week", "2026-W46", "--out", str(tmp_path), "--format", "html")
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "2026-W46 is in progress: 32 of 168 hours" in line and "last complete week is 2026-W45" in line
    assert "--partial" in line and list(tmp_path.iterdir()) == []


def test_default_is_the_last_complete_week_and_the_list_has_no_week_in_progress(engine, cli_env, tmp_path):
    rep_seed.seed(engine)
    result = _weekly(cli_env, "--out", str(tmp_path), "--format", "html")
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["hybridcost-weekly-2026-W45.html"]
    assert parse_week(None, now=IN_PROGRESS).label == "2026-W45"
    weeks = available_weeks(engine, now=IN_PROGRESS)
    assert weeks[0] == "2026-W45" and "2026-W46" not in weeks
    during = rep_seed.SINCE + timedelta(hours=32)  # W45 in progress, with data
    assert available_weeks(engine, now=during)[0] == "2026-W44"
    assert available_weeks(engine, now=during, include_partial=True)[0] == "2026-W45"


def test_partial_report_compares_the_same_hours_and_scales_nothing(engine, cli_env, tmp_path):
    """The seed's W46 has no data, so use W45 in progress: 32 hours in, against W44's first 32 hours."""
    rep_seed.seed(engine)
    now = rep_seed.SINCE + timedelta(hours=32)
    with engine.connect() as conn:
        rep = weekly_report(conn, parse_week("2026-W45"), now=now, partial=True)
        this = allocated_daily(conn, since=rep_seed.SINCE, until=now)
        same_hours = allocated_daily(conn, since=rep_seed.PREV_SINCE, until=rep_seed.PREV_SINCE + timedelta(hours=32))
    assert rep.partial and rep.hours == 32 and rep.title == "2026-W45 (partial: 32 of 168 hours)"
    assert rep.total_usd == Decimal(this["cost_usd"].sum())
    assert rep.previous_total_usd == Decimal(same_hours["cost_usd"].sum())  # like for like, not the whole week
    assert rep.recommendations is None and rep.levers is None  # per-month figures are not made from 32 hours
    assert any("not computed for a week in progress" in p for p in rep.pending)
    first = headlines(rep)[0]
    assert "first 32 hours of 2026-W45, a partial week" in first and "same 32 hours of 2026-W44" in first
    page = render_html(rep)
    assert "<h1>hybridcost weekly report: 2026-W45 (partial: 32 of 168 hours)</h1>" in page
    assert "nothing is scaled to a whole week or month" in page
    result = _weekly(cli_env, "--week", "2026-W45", "--partial", "--out", str(tmp_path), "--format", "html,xlsx",
                     now=now)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hybridcost-weekly-2026-W45-partial.html",
                                                          "hybridcost-weekly-2026-W45-partial.xlsx"]


def test_complete_week_report_is_unchanged_by_the_partial_option(engine, tmp_path):
    rep_seed.seed(engine)
    whole = write_weekly(engine, week=rep_seed.WEEK, out=tmp_path / "a", formats=["html"], now=rep_seed.NOW)
    flagged = write_weekly(engine, week=rep_seed.WEEK, out=tmp_path / "b", formats=["html"], now=rep_seed.NOW,
                           partial=True)
    assert not whole.report.partial and not flagged.report.partial
    assert whole.report.total_usd == flagged.report.total_usd and whole.report.title == rep_seed.WEEK
