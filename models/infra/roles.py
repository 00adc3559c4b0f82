"""Least-privilege database roles: reader, writer, owner and closer, created idempotently.

Roles are cluster-wide, so they are made here (by `hybridcost db roles`, as an admin) and never
inside a migration. Every identifier and password goes through psycopg.sql, never string pasting.
Run it after `hybridcost db upgrade`: it hands every table and sequence to the owner and grants
the reader and writer what they need, with default privileges for tables migrations add later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from psycopg import sql
from sqlalchemy import Engine

READER = "hybridcost_reader"
WRITER = "hybridcost_writer"
OWNER = "hybridcost_owner"
CLOSER = "hybridcost_closer"  # closes and reopens months: the writer's rights plus periods and snapshots
ROLES = (READER, WRITER, OWNER, CLOSER)
# The record nobody rewrites: the writer (pullers, dashboard editors) may add audit entries but not change
# them, and changes closed months only through `period close` / `reopen`, run as the owner or the closer.
INSERT_ONLY = ("audit_log",)
CLOSE_ONLY = ("periods", "period_snapshots")
OWNER_ONLY = ("alembic_version",)


@dataclass(frozen=True)
class RoleResult:
    """What `ensure_roles` did for one role."""

    name: str
    created: bool
    login: bool


def _role_exists(cur, name: str) -> bool:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
    return cur.fetchone() is not None


def _ensure_role(cur, name: str, password: str | None) -> RoleResult:
    """Create the role if missing, then set LOGIN with its password, or NOLOGIN without one."""
    created = not _role_exists(cur, name)
    if created:
        cur.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(name)))
    if password:
        cur.execute(sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))
    else:
        cur.execute(sql.SQL("ALTER ROLE {} WITH NOLOGIN PASSWORD NULL").format(sql.Identifier(name)))
    return RoleResult(name=name, created=created, login=bool(password))


def _owned_relations(cur, schema: str) -> list[tuple[str, str]]:
    """(kind, name) of every table, partitioned table, view and sequence in the schema not owned by OWNER.

    Partitions are included: they belong to the owner too, so it may attach new ones.
    """
    cur.execute(
        "SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
        "AND pg_get_userbyid(c.relowner) <> %s "
        # sequences owned by a column follow their table's owner automatically
        "AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid "
        "AND d.deptype IN ('a', 'i') AND d.classid = 'pg_class'::regclass)) "
        "ORDER BY c.relkind, c.relname", (schema, OWNER))
    return [(kind, name) for kind, name in cur.fetchall()]


_ALTER_KIND = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW",
               "S": "SEQUENCE"}


def _grants(cur, database: str, schema: str, creators: list[str]) -> None:
    """Grant the schema, tables and sequences to the three roles, now and for future objects."""
    db, sch = sql.Identifier(database), sql.Identifier(schema)
    r, w, o = (sql.Identifier(n) for n in (READER, WRITER, OWNER))
    statements = [
        sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}, {}, {}, {}").format(
            db, r, w, o, sql.Identifier(CLOSER)),
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(sch),
        sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(sch, o),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}, {}").format(sch, r, w),
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sch, r),
        sql.SQL("GRANT SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(sch, r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(sch, w),
        sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(sch, w),
    ]
    existing = _tables(cur, schema)
    for table in INSERT_ONLY:
        if table in existing:
            statements.append(sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {}.{} FROM {}, {}").format(
                sch, sql.Identifier(table), w, sql.Identifier(CLOSER)))
    for table in CLOSE_ONLY + OWNER_ONLY:
        if table in existing:
            statements.append(sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {}.{} FROM {}").format(
                sch, sql.Identifier(table), w))
    statements.append(sql.SQL("GRANT {} TO {}").format(w, sql.Identifier(CLOSER)))
    for table in CLOSE_ONLY:
        if table in existing:
            statements.append(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {}.{} TO {}").format(
                sch, sql.Identifier(table), sql.Identifier(CLOSER)))
    for creator in creators:  # tables made later by a migration, as the owner or as this admin
        c = sql.Identifier(creator)
        statements += [
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(c, sch, r),
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON SEQUENCES TO {}").format(
                c, sch, r),
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} "
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}").format(c, sch, w),
            sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} "
                    "GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {}").format(c, sch, w),
        ]
    for statement in statements:
        cur.execute(statement)


def _tables(cur, schema: str) -> set[str]:
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
    return {name for (name,) in cur.fetchall()}


def ensure_roles(engine: Engine, passwords: Mapping[str, str | None], *, schema: str = "public") -> list[RoleResult]:
    """Create or update the three roles, hand the schema's objects to the owner, and grant; idempotent.

    `engine` must connect as a role that may create roles (a superuser, or CREATEROLE plus
    ownership of the tables). `passwords` maps role name to password (None: NOLOGIN).
    """
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute("SELECT current_database(), current_user")
            database, admin = cur.fetchone()
            results = [_ensure_role(cur, name, passwords.get(name)) for name in ROLES]
            # the admin must be a member of the owner to hand objects to it when not a superuser
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if not cur.fetchone()[0]:
                cur.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(OWNER), sql.Identifier(admin)))
            for kind, name in _owned_relations(cur, schema):
                cur.execute(sql.SQL("ALTER {} {}.{} OWNER TO {}").format(
                    sql.SQL(_ALTER_KIND[kind]), sql.Identifier(schema), sql.Identifier(name), sql.Identifier(OWNER)))
            creators = [OWNER] if admin == OWNER else [OWNER, admin]
            _grants(cur, database, schema, creators)
    return results


def passwords_from_settings(settings) -> dict[str, str | None]:
    """Role name to password from HYBRIDCOST_{READER,WRITER,OWNER,CLOSER}_PASSWORD (None when unset)."""
    secrets = (settings.reader_password, settings.writer_password, settings.owner_password, settings.closer_password)
    return {name: (secret.get_secret_value() if secret is not None else None) for name, secret in zip(ROLES, secrets)}
