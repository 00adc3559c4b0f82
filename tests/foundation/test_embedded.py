"""The embedded server: data kept across stop and start, a stale pid file survived, `up` end to end."""

import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from models.infra import embedded


@pytest.fixture
def data_dir():
    path = Path(tempfile.mkdtemp(prefix="hybridcost-embedded-test-"))
    yield path
    try:
        embedded.stop(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _scalar(socket_dir, *statements):
    engine = sa.create_engine(embedded.url_for(socket_dir, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            results = [conn.execute(sa.text(sql)) for sql in statements]
            return results[-1].scalar() if results[-1].returns_rows else None
    finally:
        engine.dispose()


def test_data_survives_stop_and_start_and_a_stale_pid_file(data_dir):
    socket_dir = embedded.start(data_dir)
    _scalar(socket_dir, "CREATE TABLE kept (n int)", "INSERT INTO kept VALUES (42)")
    assert embedded.stop(data_dir) is True
    assert embedded.socket_dir_if_running(data_dir) is None
    # A crash leaves a pid file naming a process that is gone: the next start must cope.
    (data_dir / "pg" / "postmaster.pid").write_text("999999\n" + str(data_dir / "pg") + "\n")
    socket_dir = embedded.start(data_dir)
    assert _scalar(socket_dir, "SELECT n FROM kept") == 42
    assert embedded.start(data_dir) == socket_dir  # a second start reuses the running server


def test_unwritable_data_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(embedded.EmbeddedDatabaseError, match="not writable"):
        embedded.start(blocker / "data")


def test_up_prepares_embedded_database_with_demo_and_doctor_is_happy(data_dir, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("HYBRIDCOST_DATA_DIR", str(data_dir))
    runner = CliRunner()
    context.reset()
    result = runner.invoke(app, ["up", "--no-serve"])
    assert result.exit_code == 0, result.output
    context.reset()
    first = runner.invoke(app, ["spend", "--by", "provider", "--json", "--since", "2020-01-01"]).stdout
    context.reset()
    assert runner.invoke(app, ["doctor"]).exit_code == 0
    context.reset()
    assert runner.invoke(app, ["demo", "load"]).exit_code == 0  # a second load changes no totals
    context.reset()
    assert runner.invoke(app, ["spend", "--by", "provider", "--json", "--since", "2020-01-01"]).stdout == first
    context.reset()
