"""A record nobody rewrites: each role tries each write on the audit log, periods, snapshots and alembic_version."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from guard_support import run_cli
from sqlalchemy.engine import make_url

ROLES = ("hybridcost_reader", "hybridcost_writer", "hybridcost_closer", "hybridcost_owner")
WRITES = {
    "audit insert": "INSERT INTO audit_log (actor, entity, entity_key, action) VALUES ('a', 'e', 'k', 'x')",
    "audit update": "UPDATE audit_log SET actor = 'forged'",
    "audit delete": "DELETE FROM audit_log",
    "audit truncate": "TRUNCATE audit_log",
    "period insert": "INSERT INTO periods (period, state) VALUES ('2020-02', 'closed')",
    "period update": "UPDATE periods SET state = 'open'",
    "period delete": "DELETE FROM periods",
    "snapshot insert": "INSERT INTO period_snapshots (period, kind, day, amount) VALUES ('2020-01', 'spend', "
                       "'2020-01-01', 1)",
    "snapshot update": "UPDATE period_snapshots SET amount = 0",
    "snapshot delete": "DELETE FROM period_snapshots",
    "alembic update": "UPDATE alembic_version SET version_num = 'x'",
    "alembic insert": "INSERT INTO alembic_version VALUES ('y')",
    "alembic delete": "DELETE FROM alembic_version",
}
ALLOWED = {
    "hybridcost_reader": set(),
    "hybridcost_writer": {"audit insert"},
    "hybridcost_closer": {"audit insert", "period insert", "period update", "period delete", "snapshot insert",
                          "snapshot update", "snapshot delete"},
    "hybridcost_owner": set(WRITES),
}


@pytest.fixture
def roles(cli_env, monkeypatch):
    if make_url(cli_env).query.get("host") is None:
        pytest.skip("role login by socket needs the embedded test server")
    for role in ("READER", "WRITER", "OWNER", "CLOSER"):
        monkeypatch.setenv(f"HYBRIDCOST_{role}_PASSWORD", f"{role.lower()}-pw")
    result = run_cli("db", "roles")
    assert result.code == 0, result.output
    engines = {role: sa.create_engine(make_url(cli_env).set(username=role, password=None)) for role in ROLES}
    with engines["hybridcost_owner"].begin() as conn:  # one row of each, so updates and deletes have work
        conn.execute(sa.text(WRITES["audit insert"]))
        conn.execute(sa.text("INSERT INTO periods (period, state) VALUES ('2020-01', 'closed')"))
        conn.execute(sa.text(WRITES["snapshot insert"]))
    yield engines
    for engine in engines.values():
        engine.dispose()


def _try(engine: sa.Engine, statement: str) -> bool:
    """True when the statement ran; False when refused for lack of privilege (rolled back either way)."""
    with engine.connect() as conn:
        try:
            with conn.begin() as tx:
                conn.execute(sa.text(statement))
                tx.rollback()
            return True
        except sa.exc.DBAPIError as exc:
            assert isinstance(exc.orig, psycopg.errors.InsufficientPrivilege), (statement, exc.orig)
            return False


def test_each_role_tries_each_write(roles):
    got = {role: {name for name, sql in WRITES.items() if _try(engine, sql)} for role, engine in roles.items()}
    assert got == ALLOWED


def test_writer_cannot_backdate_or_disguise_an_audit_entry(roles):
    with roles["hybridcost_writer"].begin() as conn:
        conn.execute(sa.text("INSERT INTO audit_log (at, actor, entity, entity_key, action, db_role) VALUES "
                             "('2020-01-01', 'someone', 'price', 'k', 'forged', 'hybridcost_owner')"))
    with roles["hybridcost_reader"].connect() as conn:
        at, db_role = conn.execute(sa.text("SELECT at, db_role FROM audit_log WHERE action = 'forged'")).one()
    assert at.year >= 2026 and db_role == "hybridcost_writer"


def test_period_close_is_refused_to_the_writer_and_done_by_the_closer(roles, cli_env, monkeypatch):
    with roles["hybridcost_owner"].begin() as conn:
        conn.execute(sa.text("INSERT INTO cost_lines (basis, provider, account_id, source_line_key, "
                             "charge_period_start_at, charge_period_end_at, billed_cost, currency) VALUES "
                             "('invoice', 'acme', 'a', 'k', '2026-10-02', '2026-10-03', 10, 'USD')"))
    for role, code in (("hybridcost_writer", 3), ("hybridcost_closer", 0)):
        monkeypatch.setenv("DATABASE_URL", make_url(cli_env).set(username=role).render_as_string(hide_password=False))
        result = run_cli("period", "close", "2026-10")
        assert result.code == code, (role, result.output)
        if code:
            assert "permission denied" in result.output
