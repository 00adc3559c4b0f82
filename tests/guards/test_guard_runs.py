"""Loads and runs: database errors are one line and exit 3; a killed load is found abandoned; close waits for runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from guard_support import refused, rows, run_cli, scalar

from ingest.loader import LoadDatabaseError, load
from ingest.records import UsageRequest
from tests_support import REPO_ROOT, SAMPLES

GEMINI = SAMPLES / "langfuse/framework_trace_google-gemini-2025-08-01.json"


def test_nul_inside_json_text_is_a_one_line_database_refusal(cli_env, tmp_path, no_run_left_running):
    doc = json.loads(GEMINI.read_text())
    next(o for o in doc["observations"] if o["type"] == "GENERATION")["model"] = "gemini\u0000-2.5"
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(doc))  # JSON escapes the NUL: the file itself is clean text
    line = refused(run_cli("ingest", "langfuse", path), str(path), "record 1", "field 'model'", "NUL", code=3)
    assert "Traceback" not in line
    assert scalar(cli_env, "SELECT status FROM ingest_runs") == "failed"
    assert scalar(cli_env, "SELECT count(*) FROM usage_requests") == 0


def test_full_database_disk_exits_3_and_marks_the_run_failed(cli_env, tmp_path, no_run_left_running):
    engine = sa.create_engine(cli_env)
    with engine.begin() as conn:  # the server's own "disk full" error, raised where the load writes
        conn.execute(sa.text("CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                             "RAISE EXCEPTION 'could not extend file: No space left on device' "
                             "USING ERRCODE = 'disk_full'; END $$"))
        conn.execute(sa.text("CREATE TRIGGER disk_is_full BEFORE INSERT ON cost_lines FOR EACH ROW "
                             "EXECUTE FUNCTION disk_full()"))
    engine.dispose()
    path = SAMPLES / "focus" / "focus_sample_ai_ml_rows.csv"
    refused(run_cli("ingest", "focus", path), str(path), "database error", "No space left on device", code=3)
    status, error = rows(cli_env, "SELECT status, error FROM ingest_runs")[0]
    assert status == "failed" and "No space left" in error


def test_database_lost_mid_load_exits_3(engine, pg_admin_url, db_url):
    name = sa.engine.make_url(db_url).database
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")

    def records():
        for i in range(50):
            if i == 25:  # the server drops every connection of this database, the load's among them
                with admin.connect() as conn:
                    conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                         "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            yield UsageRequest(source="t", request_id=str(i), started_at=datetime(2026, 1, 1, tzinfo=UTC),
                               provider="p", model="m")

    with pytest.raises(LoadDatabaseError) as err:
        load(engine, records(), source="t", target="lost.json", batch_size=10)
    admin.dispose()
    assert err.value.exit_code == 3 and str(err.value).startswith("lost.json: database error")
    engine.dispose()
    fresh = sa.create_engine(db_url)
    try:
        with fresh.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM usage_requests")).scalar() == 0
            assert conn.execute(sa.text("SELECT status FROM ingest_runs")).scalar() == "failed"
    finally:
        fresh.dispose()


SLOW_LOAD = """
import sys, time
from datetime import UTC, datetime
from ingest.loader import load
from ingest.records import UsageRequest
from models.infra.database import make_engine

def records():
    yield UsageRequest(source="t", request_id="1", started_at=datetime(2026, 10, 5, tzinfo=UTC), provider="p",
                       model="m")
    print("loading", flush=True)
    time.sleep(600)

load(make_engine(sys.argv[1]), records(), source="slow", target="slow.json")
"""


def _start_slow_load(url: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SLOW_LOAD, url], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "loading"
    return proc


def _wait_for_lock_release(url: str) -> None:
    """The server ends a killed client's session (and its advisory lock) as soon as it sees the socket close."""
    deadline = time.monotonic() + 30
    while scalar(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                      "(SELECT oid FROM pg_database WHERE datname = current_database())"):
        assert time.monotonic() < deadline, "the killed load's lock was never released"
        time.sleep(0.1)


def _month_with_data(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO cost_lines (basis, provider, account_id, source_line_key, "
                             "charge_period_start_at, charge_period_end_at, billed_cost, currency) VALUES "
                             "('invoice', 'acme', 'a', 'k', '2026-10-02', '2026-10-03', 10, 'USD')"))
    engine.dispose()


def test_killed_load_is_abandoned_and_period_close_waits(cli_env, no_run_left_running):
    _month_with_data(cli_env)
    proc = _start_slow_load(cli_env)
    try:
        assert scalar(cli_env, "SELECT status FROM ingest_runs WHERE source = 'slow'") == "running"
        # A live load: doctor leaves it alone and period close refuses to freeze the month beside it.
        refused(run_cli("period", "close", "2026-10"), "1 ingest run(s) still running")
        refused(run_cli("period", "close", "2026-10", "--force", "--reason", "now"), "still running")
        pid, host = rows(cli_env, "SELECT pid, host FROM ingest_runs WHERE source = 'slow'")[0]
        assert pid == proc.pid and host
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _wait_for_lock_release(cli_env)
    doctor = run_cli("doctor")
    assert "marked abandoned now: runs" in doctor.output
    status, error = rows(cli_env, "SELECT status, error FROM ingest_runs WHERE source = 'slow'")[0]
    assert status == "abandoned" and f"pid {proc.pid}" in error
    refused(run_cli("period", "close", "2026-10"), "1 abandoned runs")
    forced = run_cli("period", "close", "2026-10", "--force", "--reason", "the slow load was a test")
    assert forced.code == 0, forced.output


def test_next_load_marks_a_dead_run_abandoned(cli_env, no_run_left_running):
    proc = _start_slow_load(cli_env)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _wait_for_lock_release(cli_env)
    result = run_cli("ingest", "focus", SAMPLES / "focus" / "focus_sample_ai_ml_rows.csv")
    assert result.code == 0, result.output
    assert scalar(cli_env, "SELECT status FROM ingest_runs WHERE source = 'slow'") == "abandoned"
