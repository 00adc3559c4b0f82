"""`hybridcost db roles`: the reader can only read, the writer can write, running it twice is fine."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app

HOSTILE_PASSWORD = "pa'ss\"; DROP ROLE x; --"


def _run_roles(monkeypatch, *, with_owner_password: bool = True):
    monkeypatch.setenv("HYBRIDCOST_READER_PASSWORD", HOSTILE_PASSWORD)
    monkeypatch.setenv("HYBRIDCOST_WRITER_PASSWORD", "writer-pw")
    if with_owner_password:
        monkeypatch.setenv("HYBRIDCOST_OWNER_PASSWORD", "owner-pw")
    else:
        monkeypatch.delenv("HYBRIDCOST_OWNER_PASSWORD", raising=False)
    context.reset()
    result = CliRunner().invoke(app, ["db", "roles"])
    context.reset()
    assert result.exit_code == 0, result.output
    return result


def _as(db_url: str, role: str) -> sa.Engine:
    """An engine on the same database and socket as `db_url`, as `role` (the embedded server trusts the socket)."""
    url = make_url(db_url).set(username=role, password=None)
    return sa.create_engine(url)


def test_deploy_reader_reads_only_writer_writes(cli_env, monkeypatch):
    if make_url(cli_env).query.get("host") is None:
        pytest.skip("role login by socket needs the embedded test server")
    _run_roles(monkeypatch)
    _run_roles(monkeypatch)  # idempotent
    reader, writer = _as(cli_env, "hybridcost_reader"), _as(cli_env, "hybridcost_writer")
    try:
        with writer.begin() as conn:
            conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES ('w1', 't')"))
            conn.execute(sa.text("UPDATE workloads SET team = 't2' WHERE name = 'w1'"))
            conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES ('w2', 't')"))
            conn.execute(sa.text("DELETE FROM workloads WHERE name = 'w2'"))
        with reader.connect() as conn:
            assert conn.execute(sa.text("SELECT team FROM workloads WHERE name = 'w1'")).scalar() == "t2"
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
        for statement in ("INSERT INTO workloads (name, team) VALUES ('r', 't')",
                          "UPDATE workloads SET team = 'x'", "DELETE FROM workloads",
                          "CREATE TABLE sneaky (id int)", "DROP TABLE workloads"):
            with reader.connect() as conn, pytest.raises(sa.exc.ProgrammingError) as info:
                conn.execute(sa.text(statement))
            assert isinstance(info.value.orig, psycopg.errors.InsufficientPrivilege), statement
        with writer.connect() as conn, pytest.raises(sa.exc.ProgrammingError):
            conn.execute(sa.text("DROP TABLE workloads"))
    finally:
        reader.dispose()
        writer.dispose()


def test_deploy_roles_owner_owns_everything_and_nologin_without_password(cli_env, monkeypatch):
    _run_roles(monkeypatch, with_owner_password=False)
    engine = sa.create_engine(cli_env)
    try:
        with engine.connect() as conn:
            owners = set(conn.execute(sa.text(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")).scalars())
            logins = dict(conn.execute(sa.text(
                "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'hybridcost_%'")).all())
        assert owners == {"hybridcost_owner"}
        assert logins == {"hybridcost_reader": True, "hybridcost_writer": True, "hybridcost_owner": False,
                          "hybridcost_closer": False}
    finally:
        engine.dispose()


def test_deploy_new_tables_get_default_privileges(cli_env, monkeypatch):
    if make_url(cli_env).query.get("host") is None:
        pytest.skip("role login by socket needs the embedded test server")
    _run_roles(monkeypatch)
    owner, reader = _as(cli_env, "hybridcost_owner"), _as(cli_env, "hybridcost_reader")
    try:
        with owner.begin() as conn:  # a later migration, run as the owner
            conn.execute(sa.text("CREATE TABLE later_table (id bigint GENERATED ALWAYS AS IDENTITY, v text)"))
            conn.execute(sa.text("INSERT INTO later_table (v) VALUES ('x')"))
        with reader.connect() as conn:
            assert conn.execute(sa.text("SELECT v FROM later_table")).scalar() == "x"
    finally:
        owner.dispose()
        reader.dispose()
