"""Bad input gives one clear line and a non-zero exit; the formats that can be written still are."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import rep_seed

from models.reports.data import ReportInputError, parse_week, week_of


def _weekly(cli_env, *args, env=None):
    return rep_seed.run_cli(["report", "weekly", *args], {"DATABASE_URL": cli_env, **(env or {})})


def _one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_rep_future_week_fails_with_one_line(engine, cli_env, tmp_path):
    rep_seed.seed(engine)
    result = _weekly(cli_env, "--week", "2099-W01", "--out", str(tmp_path))
    assert result.exit_code != 0
    assert "in the future" in _one_line(result)
    assert list(tmp_path.glob("hybridcost-weekly-*")) == []


def test_rep_week_before_any_data_fails(engine, cli_env, tmp_path):
    rep_seed.seed(engine)
    result = _weekly(cli_env, "--week", "2020-W10", "--out", str(tmp_path))
    assert result.exit_code != 0
    assert "before the first data" in _one_line(result)


def test_rep_empty_database_and_malformed_week(cli_env, tmp_path):
    result = _weekly(cli_env, "--week", "2026-W45", "--out", str(tmp_path))
    assert result.exit_code != 0 and "no data yet" in _one_line(result)
    result = _weekly(cli_env, "--week", "last week", "--out", str(tmp_path))
    assert result.exit_code != 0 and "2026-W47" in _one_line(result)


def test_rep_unwritable_output_folder(engine, cli_env, tmp_path):
    rep_seed.seed(engine)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = _weekly(cli_env, "--week", rep_seed.WEEK, "--out", str(blocker / "reports"))
    assert result.exit_code != 0
    assert "cannot write to output folder" in _one_line(result)


def test_rep_missing_browser_still_writes_html_and_xlsx(engine, cli_env, tmp_path):
    rep_seed.seed(engine)
    result = _weekly(cli_env, "--week", rep_seed.WEEK, "--out", str(tmp_path),
                     env={"HYBRIDCOST_BROWSER_PATH": str(tmp_path / "no-such-chromium")})
    assert result.exit_code != 0
    line = _one_line(result)
    assert "pdf not written" in line and "no-such-chromium" in line and "html, xlsx written" in line
    stem = tmp_path / f"hybridcost-weekly-{rep_seed.WEEK}"
    assert stem.with_suffix(".html").is_file() and stem.with_suffix(".xlsx").is_file()
    assert not stem.with_suffix(".pdf").exists()


def test_rep_week_parsing_and_default_last_full_week():
    now = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)  # a Thursday in 2026-W48
    week = parse_week(None, now=now)
    assert week.label == "2026-W47"
    assert week.since == datetime(2026, 11, 16, tzinfo=timezone.utc)
    assert week.until == datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert parse_week("2026-w01").since == datetime(2025, 12, 29, tzinfo=timezone.utc)  # ISO year starts early
    assert week_of(datetime(2026, 11, 23, tzinfo=timezone.utc)).label == "2026-W48"
    assert parse_week("2026-W47").previous.label == "2026-W46"
    with pytest.raises(ReportInputError):
        parse_week("2026-W54")


def test_rep_bad_focus_range(cli_env, tmp_path):
    result = rep_seed.run_cli(["export", "focus", "--since", "2026-11-09", "--until", "2026-11-02",
                               "--out", str(tmp_path / "f.csv")], {"DATABASE_URL": cli_env})
    assert result.exit_code != 0 and "is after --until" in _one_line(result)


def test_rep_first_week_has_no_comparison_and_still_renders(engine, tmp_path):
    from app.reports.summary import headlines
    from app.reports.weekly import write_weekly

    rep_seed.seed(engine)
    outcome = write_weekly(engine, week="2026-W44", out=tmp_path, formats=["html", "xlsx"], now=rep_seed.NOW)
    assert not outcome.failed and outcome.report.change_pct is None
    assert "(no spend the week before)" in headlines(outcome.report)[0]


def test_rep_steep_trend_gives_a_bounded_answer_quickly():
    import time

    import numpy as np
    import polars as pl

    from models.economics.contract import Demand, GpuOption, prepare, simulate_prepared
    from models.planning.moves import forecast_moves

    demand = Demand.from_arrays([1e4] * 168, [0] * 168, [2e3] * 168)  # far below what one replica needs to pay
    costs = np.full(168, (1e4 * 2 + 2e3 * 8) / 1e6)
    gpu = GpuOption(pricing="rent", hourly_rate=2.99, ops_per_gpu_month=150, input_tokens_per_s=40000,
                    output_tokens_per_s=15220)
    prep = prepare(demand, None, gpu, costs)
    history = pl.DataFrame({"week_start": [datetime(2026, 11, 2), datetime(2026, 11, 9), datetime(2026, 11, 16)],
                            "tokens": [1e6, 2e7, 2e8]})
    started = time.monotonic()
    move = forecast_moves(history, prep, gpu, simulate_prepared(prep, gpu), 1.2e4 * 730)
    assert not move.paying_now
    assert time.monotonic() - started < 10
    assert move.first_replica_words.startswith(("forecast out of range", "not within", "2026", "2027", "never"))
