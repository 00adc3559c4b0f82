"""Helpers for the guard tests: run the CLI like a user, and read the database it wrote."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app


@dataclass
class Ran:
    """One CLI run: its exit code and everything it printed."""

    code: int
    output: str
    exception: BaseException | None


def run_cli(*args: str) -> Ran:
    """Run `hybridcost ARGS` in-process; a traceback (any exception but SystemExit) fails the test at once."""
    context.reset()
    result = CliRunner().invoke(app, [str(a) for a in args])
    context.reset()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback from {args}: {result.exception!r}\n{result.output}") from result.exception
    assert "Traceback" not in result.output
    return Ran(result.exit_code, result.output, result.exception)


def refused(result: Ran, *parts: str, code: int = 2) -> str:
    """Assert a one-line refusal with the exit code, naming every part; returns the error line."""
    assert result.code == code, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    for part in parts:
        assert part in errors[0], (part, errors[0])
    return errors[0]


def scalar(url: str, sql: str, **params):
    """One value from the test database."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def rows(url: str, sql: str, **params) -> list:
    """All rows of a query on the test database."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).all()
    finally:
        engine.dispose()
