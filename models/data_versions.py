"""A version per table, bumped by a statement trigger on every write, for caches keyed to the data.

Every INSERT, UPDATE, DELETE or TRUNCATE statement on a table adds one to its row in
`data_versions`, in the writer's transaction: a cache keyed on the versions of the tables it
reads is stale exactly when one of them changed and committed, whoever wrote (a load, an edit
in the dashboard or the CLI, `demo unload`, a rollup rebuild, plain SQL). The trigger is on
every table of the schema; `ensure_triggers` adds it to tables later migrations create.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import Connection

FUNCTION = "hybridcost_bump_data_version"
TRIGGER = "hybridcost_data_version"
UNVERSIONED = ("data_versions", "alembic_version")

CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_versions (table_name, version, changed_at) VALUES (TG_TABLE_NAME, 1, now())
    ON CONFLICT (table_name) DO UPDATE SET version = data_versions.version + 1, changed_at = now();
    RETURN NULL;
END $$
"""

_MISSING = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND c.relname <> ALL(CAST(:skip AS text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = :trigger)
ORDER BY c.relname
"""


def trigger_sql(table: str) -> str:
    """The statement trigger that bumps `table`'s version (the name is quoted as an identifier)."""
    quoted = '"' + table.replace('"', '""') + '"'
    return (f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quoted} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")


def ensure_triggers(conn: Connection) -> list[str]:
    """Add the version trigger to every table that lacks it; return the tables it was added to."""
    conn.exec_driver_sql(CREATE_FUNCTION)
    missing = conn.execute(sa.text(_MISSING), {"skip": list(UNVERSIONED), "trigger": TRIGGER}).scalars().all()
    for table in missing:
        conn.exec_driver_sql(trigger_sql(table))
    return list(missing)


def current(conn: Connection) -> dict[str, int]:
    """Every table's version (a table never written has none, read as 0)."""
    return {name: version for name, version in conn.execute(sa.text("SELECT table_name, version FROM data_versions"))}


def key_for(versions: dict[str, int], tables: Iterable[str]) -> tuple[int, ...]:
    """The versions of `tables`, in order: a cache key that changes when any of them does."""
    return tuple(versions.get(t, 0) for t in tables)
