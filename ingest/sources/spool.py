"""A durable, append-only local spool for GPU records while Postgres is away.

Layout in ``directory``: ``<host>.jsonl`` (one record a line, each carrying its
sequence id) and ``<host>.offset`` (the next sequence id not yet delivered, plus
a byte hint). Every append is written, flushed and fsynced before it returns.
``flush(writer)`` hands batches of ``(seq, record)`` to the writer and only after
the writer returns commits the new offset (temp file, fsync, ``os.replace``,
fsync of the folder). A crash between the writer and the commit re-delivers that
batch with the same sequence ids, so an idempotent writer sees each record once;
a crash anywhere else loses nothing. Sequence ids are never reused.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingest.records import RECORD_TYPES

_TYPES = {t.__name__: t for t in RECORD_TYPES}
_CONVERTERS: dict[type, dict[str, Callable[[Any], Any]]] = {}


def _converters(cls: type) -> dict[str, Callable[[Any], Any]]:
    # Annotations are strings (postponed evaluation); pick the parser by the type named.
    if cls not in _CONVERTERS:
        conv: dict[str, Callable[[Any], Any]] = {}
        for f in fields(cls):
            ann = str(f.type)
            if ann.startswith("datetime"):
                conv[f.name] = datetime.fromisoformat
            elif ann.startswith("date"):
                conv[f.name] = date.fromisoformat
            elif ann.startswith("Decimal"):
                conv[f.name] = Decimal
        _CONVERTERS[cls] = conv
    return _CONVERTERS[cls]


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_record(record: Any) -> dict[str, Any]:
    """A record as a JSON-ready dict: {'type': class name, 'data': fields with ISO datetimes}."""
    name = type(record).__name__
    if _TYPES.get(name) is not type(record):
        raise TypeError(f"not a record type: {name}")
    return {"type": name, "data": {f.name: _plain(getattr(record, f.name)) for f in fields(record)}}


def decode_record(obj: dict[str, Any]) -> Any:
    """The record that ``encode_record`` encoded, exactly."""
    cls = _TYPES[obj["type"]]
    conv = _converters(cls)
    data = {k: (conv[k](v) if v is not None and k in conv else v) for k, v in obj["data"].items()}
    return cls(**data)


class SpoolFullError(OSError):
    """The spool could not take every record (a full or failing disk); `appended` of them were kept durably."""

    def __init__(self, appended: int, cause: OSError):
        super().__init__(cause.errno, f"spool write failed after {appended} record(s): {cause.strerror or cause}")
        self.appended, self.cause = appended, cause


def _safe_name(host: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", host) or "localhost"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """Append-only JSON-lines spool for one host; flush delivers each record in order, once."""

    def __init__(self, directory: str | os.PathLike, host: str):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / f"{_safe_name(host)}.jsonl"
        self.offset_path = self.directory / f"{_safe_name(host)}.offset"
        self._repair_torn_tail()
        self._next_seq = max(self._committed()[0], self._last_seq() + 1)

    # -- state on disk -------------------------------------------------------
    def _committed(self) -> tuple[int, int]:
        """(next undelivered seq, byte hint) from the offset file; (0, 0) when none."""
        try:
            obj = json.loads(self.offset_path.read_text())
            return int(obj["next_seq"]), int(obj["byte"])
        except FileNotFoundError:
            return 0, 0

    def _commit(self, next_seq: int, byte: int) -> None:
        tmp = self.offset_path.with_suffix(".offset.tmp")
        with open(tmp, "w") as fh:
            json.dump({"next_seq": next_seq, "byte": byte}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.offset_path)
        _fsync_dir(self.directory)

    def _repair_torn_tail(self) -> None:
        # A crash mid-append leaves a line without its newline; that append never
        # returned, so nobody was told it was kept. Cut it off before appending more.
        if not self.path.exists():
            return
        with open(self.path, "rb+") as fh:
            data = fh.read()
            if data and not data.endswith(b"\n"):
                fh.truncate(data.rfind(b"\n") + 1)
                fh.flush()
                os.fsync(fh.fileno())

    def _last_seq(self) -> int:
        last = -1
        for seq, _, _ in self._scan(0):
            last = seq
        return last

    def _scan(self, start_byte: int) -> Iterator[tuple[int, dict[str, Any], int]]:
        """Yield (seq, raw object, byte offset after the line) from start_byte on."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            fh.seek(start_byte if 0 <= start_byte <= size else 0)
            for line in fh:
                if not line.endswith(b"\n"):
                    break
                obj = json.loads(line)
                yield obj["seq"], obj, fh.tell()

    # -- public API ----------------------------------------------------------
    def append(self, records: Iterable[Any]) -> int:
        """Append records durably (write, flush, fsync per line); return how many were spooled.

        A write that fails (a full disk) is cut back to the last whole line and raises
        SpoolFullError saying how many records were kept before it; those are durable.
        """
        n = 0
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SpoolFullError(0, exc) from exc
        try:
            for record in records:
                obj = {"seq": self._next_seq, **encode_record(record)}
                line = memoryview(json.dumps(obj, separators=(",", ":")).encode() + b"\n")
                good = os.fstat(fd).st_size
                try:
                    while line:  # unbuffered: a short write is retried, a failed one leaves no buffer behind
                        line = line[os.write(fd, line):]
                    os.fsync(fd)
                except OSError as exc:
                    self._cut_back(good)
                    raise SpoolFullError(n, exc) from exc
                self._next_seq += 1
                n += 1
        finally:
            os.close(fd)
        return n

    def _cut_back(self, size: int) -> None:
        """Drop a torn last line after a failed write (truncating frees space even on a full disk)."""
        try:
            os.truncate(self.path, size)
        except OSError:
            pass  # the torn tail is cut when the spool is next opened (_repair_torn_tail)

    def pending_pairs(self) -> Iterator[tuple[int, Any]]:
        """Yield (seq, record) for every record not yet delivered, oldest first."""
        next_seq, byte = self._committed()
        start = byte
        if self.path.exists() and byte > self.path.stat().st_size:
            start = 0  # the file was compacted after the hint was written
        for seq, obj, _ in self._scan(start):
            if seq >= next_seq:
                yield seq, decode_record(obj)

    def pending(self) -> Iterator[Any]:
        """Yield every record not yet delivered, oldest first."""
        for _, record in self.pending_pairs():
            yield record

    def pending_count(self) -> int:
        """How many records wait to be delivered."""
        return sum(1 for _ in self.pending_pairs())

    def flush(self, writer: Callable[[list[tuple[int, Any]]], Any], batch_size: int = 1000) -> int:
        """Deliver pending records to writer in order, batch by batch; commit each batch only after writer returns."""
        next_seq, byte = self._committed()
        if self.path.exists() and byte > self.path.stat().st_size:
            byte = 0
        delivered = 0
        batch: list[tuple[int, Any]] = []
        end_byte = byte
        for seq, obj, after in self._scan(byte):
            if seq < next_seq:
                continue
            batch.append((seq, decode_record(obj)))
            end_byte = after
            if len(batch) >= batch_size:
                writer(batch)  # raises -> nothing committed for this batch
                self._commit(batch[-1][0] + 1, end_byte)
                delivered += len(batch)
                batch = []
        if batch:
            writer(batch)
            self._commit(batch[-1][0] + 1, end_byte)
            delivered += len(batch)
        self._compact_if_drained()
        return delivered

    def _compact_if_drained(self) -> None:
        # Everything is delivered: empty the data file. The offset file keeps next_seq,
        # so sequence ids continue and a crash between the two steps is harmless.
        if self.path.exists() and self.path.stat().st_size and not any(True for _ in self.pending_pairs()):
            with open(self.path, "rb+") as fh:
                fh.truncate(0)
                fh.flush()
                os.fsync(fh.fileno())
            self._commit(self._next_seq, 0)
