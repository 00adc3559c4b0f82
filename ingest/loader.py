"""The one loader: COPY records into staging, then merge them on natural keys.

A load is all or nothing: every row of a file or API window lands in one transaction,
or none does and the run is recorded as failed. Merging on natural keys means a re-run
of the same file, or an overlapping API window, changes no totals.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
import psycopg
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from ingest import gpu_partitions
from ingest import records as r
from ingest.base import Record, SourceError
from ingest.frames import FRAME_KINDS, RecordFrame, csv_bytes, hours_of
from ingest.runs import RunOwner, finish_run
from models import discipline_rollup, request_rollups, rollups

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableSpec:
    """Where one record type goes: its table, its natural key, its JSON columns."""

    table: str
    key: tuple[str, ...]
    json_columns: frozenset[str] = frozenset()
    columns: tuple[str, ...] = ()

    @functools.cached_property
    def getter(self):
        """All columns of a record in one C-level call (the hot path of every load)."""
        return operator.attrgetter(*self.columns)

    @functools.cached_property
    def json_positions(self) -> tuple[int, ...]:
        """Positions of the JSON columns in a row."""
        return tuple(i for i, c in enumerate(self.columns) if c in self.json_columns)


def _spec(record_type: type, table: str, key: tuple[str, ...], json_columns: Iterable[str] = ()) -> TableSpec:
    cols = tuple(f.name for f in dataclasses.fields(record_type))
    return TableSpec(table, key, frozenset(json_columns), cols)


SPECS: dict[type, TableSpec] = {
    r.UsageHourly: _spec(r.UsageHourly, "usage_hourly", (
        "provider", "account_id", "bucket_start_at", "bucket_end_at", "model", "project_id",
        "api_key_id", "user_id", "is_batch", "service_tier")),
    r.UsageRequest: _spec(r.UsageRequest, "usage_requests", ("source", "request_id"), ["tags"]),
    r.CostLine: _spec(r.CostLine, "cost_lines", ("basis", "provider", "account_id", "source_line_key"), ["tags"]),
    r.Price: _spec(r.Price, "prices", ("provider", "model", "effective_from", "above_context_tokens", "pending")),
    r.GpuSample: _spec(r.GpuSample, "gpu_samples", ("sampled_at", "gpu_uuid", "mig_instance", "source")),
    r.InferenceSample: _spec(r.InferenceSample, "inference_samples", ("sampled_at", "endpoint", "model_name", "engine")),
    r.InferenceLatencyBucket: _spec(r.InferenceLatencyBucket, "inference_latency_buckets", (
        "sampled_at", "endpoint", "model_name", "engine", "metric", "le_seconds")),
    # Fleet aggregates (Prometheus) go straight into the rollup: there are no raw samples behind them.
    r.GpuHourlyAggregate: _spec(r.GpuHourlyAggregate, "gpu_hourly", ("hour_at", "gpu_uuid", "mig_instance")),
}
# Tables whose rows carry the id of the run that wrote them (prices are edits, not facts).
RUN_TRACKED = {"usage_hourly", "usage_requests", "cost_lines", "gpu_samples", "inference_samples",
               "inference_latency_buckets"}


@dataclass
class LoadResult:
    """What a load did: its run id and the counts recorded on the run."""

    run_id: int
    rows_read: int = 0
    rows_written: int = 0
    rows_skipped: int = 0
    by_table: dict[str, int] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


class LoadError(RuntimeError):
    """A load failed on its input; nothing was written and the run was recorded as failed (exit 2)."""

    exit_code = 2

    def __init__(self, message: str, run_id: int | None):
        super().__init__(message)
        self.run_id = run_id


class LoadDatabaseError(LoadError):
    """A load failed in the database (gone, full, refusing a value); nothing was written (exit 3)."""

    exit_code = 3


_JSON = json.JSONEncoder(default=str, separators=(",", ":"))  # one encoder, reused for every row


def _row(record: Any, spec: TableSpec) -> tuple:
    values = spec.getter(record)
    if not spec.json_positions:
        return values
    values = list(values)
    for i in spec.json_positions:
        values[i] = _JSON.encode(values[i]) if values[i] else "{}"
    return tuple(values)


class StagingError(Exception):
    """A COPY into staging failed; says which staged row (and column, for a NUL byte) when it can."""

    def __init__(self, exc: psycopg.Error, spec: TableSpec, rows: list[tuple], ordinals: list[int], written: int):
        line = _copy_line(exc)
        index = line - 1 if line is not None else (written if written < len(rows) else None)
        self.record: int | None = None
        self.field: str | None = None
        if index is not None and 0 <= index < len(rows):
            self.record = ordinals[index]
            bad = [c for c, v in zip(spec.columns, rows[index]) if isinstance(v, str) and "\x00" in v]
            self.field = bad[0] if bad else None
        super().__init__(_first_line(exc))


def _copy_line(exc: psycopg.Error) -> int | None:
    """The staged row PostgreSQL names in a COPY error's context ('COPY stage_x, line 3')."""
    context = getattr(getattr(exc, "diag", None), "context", None) or ""
    match = re.search(r"COPY \w+, line (\d+)", context)
    return int(match.group(1)) if match else None


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


class _Stager:
    """Temp staging tables, one per record type, filled with COPY."""

    def __init__(self, conn: Connection, *, run_id: int, is_demo: bool, direct: bool):
        self.conn = conn
        self.raw = conn.connection.driver_connection
        # direct: fresh rows may skip staging (not when a prepare step reads the staged rows)
        self.run_id, self.is_demo, self.direct_ok = run_id, is_demo, direct
        self.counts: dict[type, int] = {}  # rows staged per kind (a kind is here once its staging table is)
        self.pending: dict[type, list[tuple]] = {}
        self.ordinals: dict[type, list[int]] = {}  # each pending row's place in the input, for errors
        self.read = 0
        self.direct: dict[type, int] = {}  # rows written straight into their table
        self.direct_hours: set[datetime] = set()  # the UTC hours of those rows' requests
        self.gpu_hours: set[datetime] = set()  # the UTC hours and GPUs of samples written straight in
        self.gpu_uuids: set[str] = set()

    def add(self, record: Record, batch_size: int) -> None:
        kind = type(record)
        spec = SPECS.get(kind)
        if spec is None:
            raise TypeError(f"no table for record type {kind.__name__}")
        if kind not in self.pending:
            self.pending[kind] = []
            self.ordinals[kind] = []
        self.read += 1
        self.pending[kind].append(_row(record, spec))
        self.ordinals[kind].append(self.read)
        if len(self.pending[kind]) >= batch_size:
            self.flush(kind)

    def add_frame(self, batch: RecordFrame) -> None:
        """Write a frame of records: straight into its table when every key is new, else into staging.

        Straight in is one COPY inside a savepoint; a key already stored (a re-load, an overlap)
        rolls it back and this frame and every later one of its kind go through staging and the
        merge, so the last occurrence of a key still wins.
        """
        kind, frame = batch.kind, batch.frame
        spec = SPECS[kind]
        if frame.height == 0:
            return
        if (self.direct_ok and kind in FRAME_KINDS and kind not in self.counts
                and not frame.select(pl.struct(list(spec.key)).is_duplicated().any()).item()
                and self._copy_direct(spec, frame)):
            self.direct[kind] = self.direct.get(kind, 0) + frame.height
            self.direct_hours.update(hours_of(frame, "started_at"))
            self.read += frame.height
            return
        self.pending.setdefault(kind, [])
        self.ordinals.setdefault(kind, [])
        self.flush(kind)  # records staged before this frame keep their place
        self._stage(kind)
        sql = f"COPY stage_{spec.table} ({', '.join(spec.columns)}) FROM STDIN (FORMAT csv)"
        with self.raw.cursor() as cur, cur.copy(sql) as copy:
            copy.write(csv_bytes(frame))
        self.read += frame.height
        self.counts[kind] += frame.height

    def _copy_direct(self, spec: TableSpec, frame) -> bool:
        """COPY a frame into its table; False (and nothing written) when a key is already there."""
        extra = frame.with_columns(run_id=pl.lit(int(self.run_id), pl.Int64), is_demo=pl.lit(bool(self.is_demo)))
        self.raw.execute("SAVEPOINT hybridcost_direct_copy")
        try:
            sql = f"COPY {spec.table} ({', '.join(spec.columns)}, run_id, is_demo) FROM STDIN (FORMAT csv)"
            with self.raw.cursor() as cur, cur.copy(sql) as copy:
                copy.write(csv_bytes(extra))
        except psycopg.errors.UniqueViolation:
            self.raw.execute("ROLLBACK TO SAVEPOINT hybridcost_direct_copy")
            return False
        self.raw.execute("RELEASE SAVEPOINT hybridcost_direct_copy")
        return True

    def _stage(self, kind: type) -> None:
        """Make the kind's staging table once."""
        if kind not in self.counts:
            self._create(SPECS[kind])
            self.counts[kind] = 0

    def _create(self, spec: TableSpec) -> None:
        cols = ", ".join(spec.columns)
        self.conn.exec_driver_sql(
            f"CREATE TEMP TABLE stage_{spec.table} ON COMMIT DROP AS SELECT {cols} FROM {spec.table} WITH NO DATA")
        self.conn.exec_driver_sql(f"ALTER TABLE stage_{spec.table} ADD COLUMN _seq bigint GENERATED ALWAYS AS IDENTITY")

    def flush(self, kind: type | None = None) -> None:
        for k in [kind] if kind else list(self.pending):
            rows = self.pending[k]
            if not rows:
                continue
            spec = SPECS[k]
            # Fresh GPU samples skip staging and the merge; once a batch of them is staged, the rest
            # of the load stages too, so the merge's last-occurrence-wins order holds.
            if k is r.GpuSample and self.direct_ok and k not in self.counts:
                wrote = gpu_partitions.copy_new(self.conn, spec.columns, rows, run_id=self.run_id,
                                                is_demo=self.is_demo)
                if wrote is not None:
                    self.direct[k] = self.direct.get(k, 0) + len(rows)
                    self.gpu_hours.update(wrote[0])
                    self.gpu_uuids.update(wrote[1])
                    rows.clear()
                    self.ordinals[k].clear()
                    continue
            self._stage(k)
            self.counts[k] += len(rows)
            written = 0
            try:
                with self.raw.cursor() as cur:
                    with cur.copy(f"COPY stage_{spec.table} ({', '.join(spec.columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                            written += 1
            except psycopg.Error as exc:
                raise StagingError(exc, spec, rows, self.ordinals[k], written) from exc
            rows.clear()
            self.ordinals[k].clear()


def _keys_are_new(conn: Connection, spec: TableSpec) -> bool:
    """True when no staged natural key is stored yet (an index probe per staged row, no sort)."""
    if spec.table == "gpu_samples":
        return _gpu_samples_are_new(conn)
    on = " AND ".join(f"t.{c} = s.{c}" for c in spec.key)
    return not conn.exec_driver_sql(
        f"SELECT EXISTS (SELECT 1 FROM stage_{spec.table} s JOIN {spec.table} t ON {on})").scalar_one()


def _gpu_samples_are_new(conn: Connection) -> bool:
    """True when no stored GPU sample shares a GPU and the time span of the staged ones."""
    return not conn.exec_driver_sql(
        "SELECT EXISTS (SELECT 1 FROM gpu_samples g WHERE g.sampled_at >= (SELECT min(sampled_at) FROM stage_gpu_samples) "
        "AND g.sampled_at <= (SELECT max(sampled_at) FROM stage_gpu_samples) "
        "AND g.gpu_uuid IN (SELECT DISTINCT gpu_uuid FROM stage_gpu_samples))").scalar_one()


def _merge(conn: Connection, spec: TableSpec, run_id: int, is_demo: bool) -> tuple[int, int, list[datetime]]:
    """Merge staged rows on the natural key: (distinct rows staged, rows inserted or changed, hours replaced rows had).

    The hours are those of stored requests whose keys are staged again (a re-load may move a
    request to another hour): their rollup rows must be recomputed too. Empty for other tables.
    """
    cols = list(spec.columns)
    key = ", ".join(spec.key)
    extra_cols = (["run_id"] if spec.table in RUN_TRACKED else []) + ["is_demo"]
    extra_vals = ([str(int(run_id))] if spec.table in RUN_TRACKED else []) + ["TRUE" if is_demo else "FALSE"]
    value_cols = [c for c in cols if c not in spec.key]
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in value_cols + extra_cols)
    changed = " OR ".join(f"{spec.table}.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in value_cols) or "FALSE"
    # Within one file the last occurrence of a key wins; one sort serves the merge and the count.
    sql = (
        f"WITH d AS MATERIALIZED (SELECT DISTINCT ON ({key}) {', '.join(cols)} "
        f"FROM stage_{spec.table} ORDER BY {key}, _seq DESC), "
        f"ins AS (INSERT INTO {spec.table} ({', '.join(cols + extra_cols)}) "
        f"SELECT {', '.join(cols)}, {', '.join(extra_vals)} FROM d "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates} WHERE {changed} RETURNING 1) "
        f"SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM ins)"
    )
    # Fresh rows (the usual case) skip the sort and ON CONFLICT's speculative insertion, the
    # slow part of a large load; every staged key is then inserted, so inserted = distinct. A batch
    # that repeats a key, or a concurrent load of the same keys, falls back to the full merge.
    if _keys_are_new(conn, spec):
        try:
            with conn.begin_nested():
                inserted = conn.exec_driver_sql(
                    f"INSERT INTO {spec.table} ({', '.join(cols + extra_cols)}) "
                    f"SELECT {', '.join(cols)}, {', '.join(extra_vals)} FROM stage_{spec.table}").rowcount
            return inserted, inserted, []
        except sa.exc.IntegrityError:
            pass
    previous = request_rollups.staged_hours(conn, previous=True) if spec.table == "usage_requests" else []
    distinct, written = conn.exec_driver_sql(sql).one()
    return distinct, written, previous


def _written_twice(conn: Connection, spec: TableSpec, run_id: int) -> tuple[int, int]:
    """(staged keys this run already wrote straight in, those whose staged values differ)."""
    key = ", ".join(spec.key)
    on = " AND ".join(f"t.{c} = d.{c}" for c in spec.key)
    changed = " OR ".join(f"t.{c} IS DISTINCT FROM d.{c}" for c in spec.columns if c not in spec.key) or "FALSE"
    return tuple(conn.execute(sa.text(
        f"WITH d AS (SELECT DISTINCT ON ({key}) * FROM stage_{spec.table} ORDER BY {key}, _seq DESC) "
        f"SELECT count(*), count(*) FILTER (WHERE {changed}) FROM d JOIN {spec.table} t ON {on} "
        "WHERE t.run_id = :run"), {"run": run_id}).one())


def load(engine: Engine, records: Iterable[Record | RecordFrame], *, source: str, target: str, is_demo: bool = False,
         prepare: Callable[[Connection, int], dict[str, Any]] | None = None, batch_size: int = 20_000,
         progress=None, where: str | None = None) -> LoadResult:
    """Write every record in one transaction; on any error write nothing and record the run failed.

    `prepare(conn, run_id)` runs once the records are staged and before they are merged (a FOCUS
    export decides there which earlier rows it supersedes); what it returns is the run's detail.

    Bad input raises LoadError (exit 2); a database failure (gone, full, a value it refuses)
    raises LoadDatabaseError (exit 3). Either message is one line naming `where` (the file; the
    target by default) and, for a staged row the database refused, which record it was. The
    run is owned (runs.RunOwner) for as long as the load lasts, so a killed load is found abandoned.
    """
    try:
        owner = RunOwner(engine, source, target, is_demo=is_demo).start()
    except sa.exc.SQLAlchemyError as exc:  # the database is away before anything was read
        raise LoadDatabaseError(f"{where or target}: database error: {_first_line(exc)}", None) from exc
    run_id = owner.run_id
    result = LoadResult(run_id=run_id)
    stager = None
    try:
        conn = owner.conn
        with conn.begin():
            # Big loads sort the staged rows for the merge; keep that sort in memory.
            conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
            stager = _Stager(conn, run_id=run_id, is_demo=is_demo, direct=prepare is None)
            for record in records:
                if isinstance(record, RecordFrame):
                    stager.add_frame(record)
                    result.rows_read += record.height
                    if progress is not None:
                        progress(result.rows_read)
                    continue
                stager.add(record, batch_size)
                result.rows_read += 1
                if progress is not None and result.rows_read % batch_size == 0:
                    progress(result.rows_read)
            stager.flush()
            if prepare is not None:
                result.detail = prepare(conn, run_id) or {}
            gpu_staged = r.GpuSample in stager.counts and gpu_partitions.ensure_staged_partitions(conn)
            distinct = 0
            request_hours: set[datetime] = set()
            if r.UsageRequest in stager.counts:
                request_hours.update(request_rollups.staged_hours(conn, previous=False))
            # Always the same table order, so concurrent loads take their locks in one order.
            for kind in sorted(set(stager.counts) | set(stager.direct), key=list(SPECS).index):
                spec = SPECS[kind]
                staged = written = 0
                if kind in stager.counts:
                    # Keys this run wrote straight in and staged again count once, as a single load would.
                    twice, twice_changed = _written_twice(conn, spec, run_id) if kind in stager.direct else (0, 0)
                    staged, written, previous = _merge(conn, spec, run_id, is_demo)
                    request_hours.update(previous)
                    staged, written = staged - twice, written - twice_changed
                direct = stager.direct.get(kind, 0)
                distinct += staged + direct
                result.by_table[spec.table] = written + direct
                result.rows_written += written + direct
            request_hours.update(stager.direct_hours)
            discipline_rollup.refresh_hours(conn, request_hours)  # both request rollups
            gpu_hours, gpu_uuids = set(stager.gpu_hours), set(stager.gpu_uuids)
            if gpu_staged:
                gpu_uuids.update(conn.exec_driver_sql("SELECT DISTINCT gpu_uuid FROM stage_gpu_samples").scalars())
                gpu_hours.update(conn.exec_driver_sql(
                    "SELECT DISTINCT date_trunc('hour', sampled_at, 'UTC') FROM stage_gpu_samples").scalars())
            if gpu_hours:
                if result.by_table.get("gpu_samples", 0) >= gpu_partitions.ANALYZE_FROM_ROWS:
                    gpu_partitions.analyze_days(conn, gpu_hours)
                rollups.refresh_gpu_hours(conn, sorted(gpu_hours), gpu_uuids=sorted(gpu_uuids))
            if r.InferenceSample in stager.counts:
                lo, hi = conn.exec_driver_sql(
                    "SELECT min(sampled_at), max(sampled_at) FROM stage_inference_samples").one()
                rollups.refresh_inference_hourly(conn, lo, hi)
            if r.InferenceLatencyBucket in stager.counts:
                lo, hi = conn.exec_driver_sql(
                    "SELECT min(sampled_at), max(sampled_at) FROM stage_inference_latency_buckets").one()
                rollups.refresh_inference_latency_hourly(conn, lo, hi)
            result.rows_skipped = result.rows_read - distinct
            from models.ledger.periods import record_restatements

            # A load that changes a closed month is kept as a restatement beside its frozen figures.
            record_restatements(conn, run_id=run_id, reason=f"{source} load: {target}"[:500])
    except BaseException as exc:
        error = _load_error(exc, where or target, run_id, stager.read if stager else 0)
        try:
            finish_run(engine, run_id, status="failed", result=result,
                       error=str(error) if error else "interrupted")
        except sa.exc.SQLAlchemyError:
            # The database is gone: the run stays `running` until a later load finds nobody holds it.
            log.error("could not record run %s as failed", run_id)
        if error is None:
            raise
        raise error from exc
    finally:
        owner.release()
    finish_run(engine, run_id, status="succeeded", result=result)
    return result


def _load_error(exc: BaseException, where: str, run_id: int, read: int) -> LoadError | None:
    """The one-line LoadError for a failed load; None for an interrupt (re-raised as it is)."""
    if not isinstance(exc, Exception):
        return None
    if isinstance(exc, StagingError):
        place = f"record {exc.record:,}" if exc.record else f"one of the first {read:,} records"
        field = f", field {exc.field!r}" if exc.field else ""
        return LoadDatabaseError(f"{where}: {place}{field}: the database refused it: {exc}", run_id)
    if isinstance(exc, (sa.exc.SQLAlchemyError, psycopg.Error)):
        log.debug("database error during load", exc_info=True)
        return LoadDatabaseError(f"{where}: database error: {_first_line(exc)}", run_id)
    if isinstance(exc, (SourceError, ValueError, TypeError, OSError)):
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return LoadError(text if isinstance(exc, SourceError) else f"{where}: {text}", run_id)
    # Any other failure while reading is still this input's doing: one line, never a traceback.
    log.debug("unexpected error during load", exc_info=True)
    return LoadError(f"{where}: cannot be read ({type(exc).__name__}: {_first_line(exc)})", run_id)


def chunked(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """Group records into lists of at most `size` (for writers that take batches)."""
    batch: list[Record] = []
    for rec in records:
        batch.append(rec)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


__all__ = ["load", "LoadResult", "LoadError", "LoadDatabaseError", "SPECS", "finish_run", "chunked"]
