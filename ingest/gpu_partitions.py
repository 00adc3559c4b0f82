"""GPU samples' day partitions, and writing a batch of fresh samples straight into them.

`gpu_samples` is partitioned by UTC day. A load makes the partitions its samples need (moving rows
a backfill left in the default partition first). A batch whose keys are all new (the usual case: a
collector appending readings, a file loaded once) is COPYed straight into its partitions, skipping
the staging table and the merge; any doubt sends it through staging as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter

import psycopg
import sqlalchemy as sa
from sqlalchemy import Connection

from models.rollups import SAMPLE_HOUR

# A load this big gives its partitions fresh statistics before their rollup is recomputed: without
# them the planner sees a new partition as empty and aggregates a day serially (2x slower).
ANALYZE_FROM_ROWS = 100_000


def partition_statistics(name: str) -> str:
    """CREATE STATISTICS for a day partition: how many (hour, GPU, MIG instance) groups it holds.

    Without it the planner guesses one group per 10 rows for the rollup's GROUP BY (864,000 instead
    of 24,000 for a day of 1,000 GPUs) and will not aggregate in parallel: a day took 2.3x longer.
    """
    return (f"CREATE STATISTICS IF NOT EXISTS {name}_hour_gpu (ndistinct) "
            f"ON ({SAMPLE_HOUR}), gpu_uuid, mig_instance FROM {name}")


def ensure_day_partitions(conn: Connection, days: Iterable[date]) -> None:
    """Create the day partitions of these UTC days that do not exist yet."""
    for day in sorted(set(days)):
        name = f"gpu_samples_p{day:%Y%m%d}"
        if conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None:
            continue
        start = f"{day:%Y-%m-%d} 00:00:00+00"
        end = f"{day + timedelta(days=1):%Y-%m-%d} 00:00:00+00"
        # Rows for this day may sit in the default partition (a backfill): move them out first.
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS moved_default ON COMMIT DROP AS "
            "SELECT * FROM gpu_samples_default WITH NO DATA")
        conn.exec_driver_sql(
            f"WITH gone AS (DELETE FROM gpu_samples_default WHERE sampled_at >= '{start}' "
            f"AND sampled_at < '{end}' RETURNING *) INSERT INTO moved_default SELECT * FROM gone")
        conn.exec_driver_sql(
            f"CREATE TABLE {name} PARTITION OF gpu_samples FOR VALUES FROM ('{start}') TO ('{end}')")
        conn.exec_driver_sql(partition_statistics(name))
        conn.exec_driver_sql("INSERT INTO gpu_samples SELECT * FROM moved_default")
        conn.exec_driver_sql("TRUNCATE moved_default")


def ensure_staged_partitions(conn: Connection) -> bool:
    """Create the day partitions the staged GPU samples need; False when none are staged."""
    days = conn.exec_driver_sql(
        "SELECT DISTINCT (sampled_at AT TIME ZONE 'UTC')::date FROM stage_gpu_samples").scalars().all()
    ensure_day_partitions(conn, days)
    return bool(days)


def copy_new(conn: Connection, columns: Sequence[str], rows: list[tuple], *, run_id: int,
             is_demo: bool) -> tuple[set[datetime], set[str]] | None:
    """COPY rows straight into gpu_samples when none of their keys is stored; (UTC hours, GPU uuids) or None.

    None means nothing was written and the rows must go through staging and the merge: a key
    repeated in the batch or already stored (the COPY is rolled back to its savepoint), a time that
    is not a timezone-aware datetime, or any refusal by the database (staging then reports which
    record it was).
    """
    # No look-up of keys, not even within the batch: the unique key refuses a repeated or stored key
    # during the COPY itself (hashing every key in Python first cost a tenth of a 10 M-sample load,
    # and a check by time range and GPU would be wrong: a batch may straddle the previous one's last tick).
    times = set(map(itemgetter(columns.index("sampled_at")), rows))
    if not all(isinstance(t, datetime) and t.tzinfo is not None for t in times):
        return None
    uuids = set(map(itemgetter(columns.index("gpu_uuid")), rows))
    utc = {t.astimezone(UTC) for t in times}
    ensure_day_partitions(conn, {t.date() for t in utc})
    raw = conn.connection.driver_connection
    extra = (int(run_id), bool(is_demo))
    raw.execute("SAVEPOINT hybridcost_direct_gpu")
    try:
        with raw.cursor() as cur, cur.copy(
                f"COPY gpu_samples ({', '.join(columns)}, run_id, is_demo) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row + extra)
    except psycopg.Error:
        raw.execute("ROLLBACK TO SAVEPOINT hybridcost_direct_gpu")
        return None
    raw.execute("RELEASE SAVEPOINT hybridcost_direct_gpu")
    return {t.replace(minute=0, second=0, microsecond=0) for t in utc}, uuids


def analyze_days(conn: Connection, hours: Iterable[datetime]) -> None:
    """ANALYZE the day partitions of these UTC hours (the load's own, still uncommitted, rows included)."""
    for day in sorted({h.astimezone(UTC).date() for h in hours}):
        name = f"gpu_samples_p{day:%Y%m%d}"
        if conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None:
            conn.exec_driver_sql(f"ANALYZE {name}")
