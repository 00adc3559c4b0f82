"""A background recorder: a bounded queue in memory, a thread that writes batches, a spool on disk.

The call path only does ``queue.put_nowait``. The thread turns attempts into records and
writes them with the one loader (source "client"). When the database cannot be reached,
each batch is appended to a local JSON-lines spool (fsync per line) and retried every
``retry_interval_s``; spooled records are written first, in order, once it is back. Loads
merge on (source, request_id), so a batch delivered twice is stored once. If the queue is
full (the thread cannot keep up), new records are dropped and counted, never waited for.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.records import UsageRequest
from ingest.sources.spool import Spool

log = logging.getLogger(__name__)
Sink = Callable[[list[UsageRequest]], Any]


class _Flush:
    """A request, put on the queue, to write everything now and say when done."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class Recorder:
    """Writes usage records in the background; never blocks or fails the caller."""

    def __init__(self, engine: Any = None, *, database_url: str | None = None, spool_dir: str | Path | None = None,
                 sink: Sink | None = None, max_queue: int = 10_000, batch_size: int = 500,
                 flush_interval_s: float = 2.0, retry_interval_s: float = 10.0):
        self._engine = engine
        self._database_url = database_url
        self._sink = sink
        self._spool_dir = Path(spool_dir) if spool_dir is not None else None
        self._spool: Spool | None = None
        self._lock_fh: Any = None
        self.queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.retry_interval_s = retry_interval_s
        self.dropped = 0
        self.written = 0
        self.spooled = 0
        self.errors = 0
        self._retry_at = 0.0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._spool_lock = threading.Lock()
        self._stopping = False

    # -- call path -----------------------------------------------------------
    def submit(self, item: Any) -> None:
        """Queue one attempt (or record) without waiting; drop it and count when the queue is full."""
        if self._thread is None:
            self._start()
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            if self.dropped in (1, 10, 100) or self.dropped % 10_000 == 0:
                log.warning("hybridcost: recorder queue full, %d usage records dropped so far", self.dropped)

    # -- control ---------------------------------------------------------------
    def flush(self, timeout: float = 30.0) -> bool:
        """Write everything queued (and spooled) now; True when nothing is left waiting for the database."""
        if self._thread is None:
            self._start()
        marker = _Flush()
        try:
            self.queue.put(marker, timeout=timeout)
        except queue.Full:
            return False
        marker.done.wait(timeout)
        return marker.done.is_set() and self.pending_spooled() == 0

    def close(self, timeout: float = 10.0) -> None:
        """Flush, then stop the thread."""
        if self._thread is None:
            return
        self.flush(timeout)
        self._stopping = True
        self.queue.put(None)
        self._thread.join(timeout)
        self._thread = None
        atexit.unregister(self._at_exit)
        if self._engine is not None and self._database_url is not None:
            self._engine.dispose()

    def pending_spooled(self) -> int:
        """Records kept on disk until the database is back."""
        spool = self._get_spool()
        return spool.pending_count() if spool is not None else 0

    # -- thread ----------------------------------------------------------------
    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="hybridcost-recorder", daemon=True)
                self._thread.start()
                atexit.register(self._at_exit)

    def _at_exit(self) -> None:
        try:
            self.flush(timeout=5.0)
        except Exception:
            pass

    def _run(self) -> None:
        batch: list[Any] = []
        deadline = time.monotonic() + self.flush_interval_s
        while True:
            try:
                item = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                item = False
            if item is None and self._stopping:
                self._deliver(batch, force=True)
                return
            if isinstance(item, _Flush):
                self._deliver(batch, force=True)
                batch = []
                item.done.set()
                continue
            if item:
                batch.append(item)
            if len(batch) >= self.batch_size or time.monotonic() >= deadline:
                self._deliver(batch, force=False)
                batch = []
                deadline = time.monotonic() + self.flush_interval_s

    def _records(self, items: list[Any]) -> list[UsageRequest]:
        from ingest.client.parse import to_record

        out = []
        for item in items:
            try:
                out.append(item if isinstance(item, UsageRequest) else to_record(item))
            except Exception:
                self.errors += 1
                log.exception("hybridcost: could not turn an HTTP attempt into a usage record")
            # Let go of the GIL between records: a caller thread waits at most one record's
            # parsing for it, not Python's 5 ms switch interval.
            time.sleep(0)
        return out

    def _deliver(self, items: list[Any], *, force: bool) -> None:
        try:
            records = self._records(items)
            db_wait = time.monotonic() < self._retry_at and not force
            if not db_wait:
                try:
                    self._drain_spools()
                    if records:
                        self._write(records)
                        self.written += len(records)
                    self._retry_at = 0.0
                    return
                except Exception as exc:
                    self._retry_at = time.monotonic() + self.retry_interval_s
                    log.warning("hybridcost: database unavailable (%s); keeping usage records in the spool",
                                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            if records:
                self._spool_records(records)
        except Exception:
            self.errors += 1
            log.exception("hybridcost: recorder failed to deliver %d records", len(items))

    def _spool_records(self, records: list[UsageRequest]) -> None:
        spool = self._get_spool()
        if spool is None:
            self.dropped += len(records)
            log.error("hybridcost: no spool folder; %d usage records lost", len(records))
            return
        self.spooled += spool.append(records)

    # -- database and spool ----------------------------------------------------
    def _write(self, records: list[UsageRequest]) -> None:
        if self._sink is not None:
            self._sink(records)
            return
        from ingest.loader import load

        load(self._get_engine(), records, source="client", target="usage_requests")

    def _get_engine(self) -> Any:
        if self._engine is None:
            from models.infra.database import database_url, make_engine
            from models.infra.settings import get_settings

            self._database_url = self._database_url or database_url(get_settings())
            self._engine = make_engine(self._database_url)
        return self._engine

    def _get_spool(self) -> Spool | None:
        with self._spool_lock:
            return self._open_spool()

    def _open_spool(self) -> Spool | None:
        if self._spool is None:
            directory = self._spool_dir
            if directory is None:
                from models.infra.settings import get_settings

                directory = get_settings().spool_dir / "client"
            directory.mkdir(parents=True, exist_ok=True)
            base = f"client-{socket.gethostname()}"
            name = base if self._try_lock(directory / f"{base}.lock", own=True) else f"{base}-{os.getpid()}"
            if name != base:
                self._try_lock(directory / f"{name}.lock", own=True)
            self._spool_dir = directory
            self._spool = Spool(directory, name)
        return self._spool

    def _try_lock(self, path: Path, *, own: bool = False) -> Any:
        fh = open(path, "a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return None
        if own:
            self._lock_fh = fh  # held for the life of the process: this spool is ours
        return fh

    def _drain_spools(self) -> None:
        """Write our spool, then any spool a finished process left behind (its lock is free)."""
        spool = self._get_spool()
        if spool is None:
            return
        spool.flush(lambda pairs: self._write([rec for _, rec in pairs]), batch_size=self.batch_size)
        for path in sorted(self._spool_dir.glob("client-*.jsonl")):
            if path == spool.path:
                continue
            lock = self._try_lock(path.with_suffix(".lock"))
            if lock is None:
                continue
            try:
                Spool(self._spool_dir, path.stem).flush(lambda pairs: self._write([r for _, r in pairs]),
                                                         batch_size=self.batch_size)
            finally:
                lock.close()
