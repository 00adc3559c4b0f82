"""Load runs: each load is an `ingest_runs` row owned by a live process, or found abandoned.

A run's owner holds a PostgreSQL advisory lock on the run for as long as the load lasts, on
the connection that loads. A process that is killed (or whose host dies) loses its connection
and with it the lock, so a run still marked `running` that nobody holds is abandoned: the next
load, `hybridcost doctor` and `period close` mark it so. The pid and host are kept for people.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

RUN_LOCK_CLASS = 0x6863  # 'hc': the first key of every run's advisory lock; the second is the run id
_LOCK_KEY = "CAST(mod(:id, 2147483647) AS integer)"

ABANDON_SQL = f"""
UPDATE ingest_runs r SET status = 'abandoned', finished_at = now(),
       error = 'abandoned: the loading process (pid ' || coalesce(r.pid::text, '?') || ' on '
               || coalesce(nullif(r.host, ''), '?') || ') ended without finishing; nothing it read was written'
 WHERE r.status = 'running' AND NOT EXISTS (
       SELECT 1 FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = CAST({RUN_LOCK_CLASS} AS oid)
          AND l.objid = CAST(CAST(mod(r.id, 2147483647) AS bigint) AS oid))
RETURNING r.id
"""


def abandon_dead_runs(conn: Connection) -> list[int]:
    """Mark every run left `running` by a process that no longer holds its lock as abandoned; their ids."""
    return list(conn.execute(sa.text(ABANDON_SQL)).scalars())


def unfinished_runs(conn: Connection, *, since) -> dict[str, int]:
    """Runs started at or after `since` still running, and abandoned ones no later success of the same load replaced."""
    rows = conn.execute(sa.text(
        "SELECT r.status, count(*) FROM ingest_runs r WHERE r.started_at >= :s AND (r.status = 'running' OR "
        "(r.status = 'abandoned' AND NOT EXISTS (SELECT 1 FROM ingest_runs ok WHERE ok.status = 'succeeded' "
        "AND ok.source = r.source AND ok.target = r.target AND ok.started_at > r.started_at))) GROUP BY 1"),
        {"s": since}).all()
    return {status: int(n) for status, n in rows}


@dataclass
class RunOwner:
    """The connection a load runs on: it records the run, holds the run's lock, and releases both at the end."""

    engine: Engine
    source: str
    target: str
    is_demo: bool = False
    conn: Connection | None = None
    run_id: int = 0

    def start(self) -> RunOwner:
        """Record the run as running (committed) and take its lock on this owner's connection."""
        self.conn = self.engine.connect()
        try:
            with self.conn.begin():
                abandoned = abandon_dead_runs(self.conn)
                if abandoned:
                    log.warning("marked abandoned: runs %s (their processes ended without finishing)", abandoned)
                self.run_id = self.conn.execute(sa.text(
                    "INSERT INTO ingest_runs (source, target, status, is_demo, pid, host) "
                    "VALUES (:s, :t, 'running', :d, :pid, :host) RETURNING id"),
                    {"s": self.source, "t": self.target, "d": self.is_demo, "pid": os.getpid(),
                     "host": socket.gethostname()}).scalar_one()
                # Session-level: it outlives this transaction and ends with the connection (or the process).
                self.conn.execute(sa.text(f"SELECT pg_advisory_lock({RUN_LOCK_CLASS}, {_LOCK_KEY})"),
                                  {"id": self.run_id})
        except BaseException:
            self.conn.close()
            raise
        return self

    def release(self) -> None:
        """Release the run's lock and the connection (a dead connection has released both already)."""
        try:
            if self.conn is not None and not self.conn.closed and not self.conn.invalidated:
                if self.conn.in_transaction():
                    self.conn.rollback()
                self.conn.execute(sa.text(f"SELECT pg_advisory_unlock({RUN_LOCK_CLASS}, {_LOCK_KEY})"),
                                  {"id": self.run_id})
                self.conn.commit()
        except sa.exc.SQLAlchemyError:
            log.debug("could not release the lock of run %s (the connection is gone, and the lock with it)",
                      self.run_id, exc_info=True)
        finally:
            if self.conn is not None:
                self.conn.close()


def finish_run(engine: Engine, run_id: int, *, status: str, result=None, error: str | None = None) -> None:
    """Record how a load ended (counts from its LoadResult, when given)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE ingest_runs SET status = :st, finished_at = now(), rows_read = :rd, "
                    "rows_written = :wr, rows_skipped = :sk, error = :er, detail = CAST(:dt AS jsonb) WHERE id = :id"),
            {"st": status, "rd": result.rows_read if result else 0, "wr": result.rows_written if result else 0,
             "sk": result.rows_skipped if result else 0, "er": error, "id": run_id,
             "dt": json.dumps(result.detail if result and status == "succeeded" else {}, default=str)},
        )
