"""CLI: doctor, db, spend and the date conventions, against a real database."""

import json

import pytest
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh_context():
    context.reset()
    yield
    context.reset()


def test_doctor_ok_and_redacts_password(cli_env, monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-SECRET-123")
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["reachable"] is True
    assert report["schema_revision"] == report["schema_head"]
    assert "sk-admin-SECRET-123" not in result.output
    assert report["settings"]["openai_admin_key"] == "***"


def test_doctor_fails_when_database_unreachable(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:pw@/nodb?host=/nonexistent-socket-dir")
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "reachable" in result.output and "pw" not in result.output


def test_db_downgrade_and_upgrade(cli_env):
    assert runner.invoke(app, ["db", "downgrade", "base"]).exit_code == 0
    context.reset()
    assert runner.invoke(app, ["doctor"]).exit_code == 1
    context.reset()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    context.reset()
    assert runner.invoke(app, ["db", "check"]).exit_code == 0


def test_spend_json_is_an_array_with_the_documented_keys(cli_env):
    result = runner.invoke(app, ["spend", "--since", "2026-01-01", "--until", "2026-01-31", "--by", "model", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_bad_dates_and_dimensions_are_one_line_errors(cli_env):
    for args in (["spend", "--since", "yesterday"], ["spend", "--by", "colour"],
                 ["spend", "--since", "2026-02-01", "--until", "2026-01-01"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.output.startswith("error: ") and result.output.count("\n") == 1


def test_up_refuses_public_host_without_login(cli_env):
    result = runner.invoke(app, ["up", "--host", "0.0.0.0", "--no-serve"])
    assert result.exit_code == 2
    assert "without login" in result.output
