"""``nvidia-smi --query-gpu=... --format=csv`` logs -> GpuSample, one per row.

Columns are found by header name (the set varies by driver), values carry units
("631.95 W", "19818 MiB", "100 %") or not (``nounits``), placeholders such as
``[N/A]`` mean missing, and timestamps are local wall-clock time in a zone the
caller must name: an hour made ambiguous or skipped by a DST change is rejected. A log without
a ``uuid`` column loads when the caller names the host: each GPU is then ``<host>/gpu<index>``
(by ``pci.bus_id`` when there is no index), and the load says so.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingest.base import SourceError
from ingest.records import GpuSample
from ingest.sources._common import text_lines
from models.bounds import Guard

MISSING = {"", "n/a", "[n/a]", "[not supported]", "not supported", "[unknown error]", "[insufficient permissions]"}
_BYTES_PER = {"b": 1, "kib": 1024, "mib": 1024**2, "gib": 1024**3}
_TS_FORMATS = ("%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S")

# field -> accepted header base names, newest first
COLUMNS = {
    "timestamp": ("timestamp",),
    "name": ("name",),
    "uuid": ("uuid",),
    "index": ("index",),
    "pci": ("pci.bus_id",),
    "utilization": ("utilization.gpu",),
    "memory_used": ("memory.used",),
    "memory_total": ("memory.total",),
    "power": ("power.draw", "power.draw.average"),
    "energy": ("total_energy_consumption",),
    "temperature": ("temperature.gpu",),
    "sm_clock": ("clocks.current.sm", "clocks.sm"),
}


def split_header(column: str) -> tuple[str, str]:
    """Split 'memory.used [MiB]' into ('memory.used', 'MiB'); no brackets gives an empty unit."""
    column = column.strip()
    if column.endswith("]") and " [" in column:
        base, unit = column[:-1].split(" [", 1)
        return base.strip(), unit.strip()
    return column, ""


def is_missing(text: str) -> bool:
    """True for the placeholders nvidia-smi prints instead of a value ([N/A], [Not Supported], ...)."""
    t = text.strip().lower()
    return t in MISSING or (t.startswith("[") and t.endswith("]"))


def parse_number(text: str, header_unit: str) -> tuple[float, str] | None:
    """Parse '631.95 W' or '631.95' into (value, unit); None for a placeholder; ValueError otherwise."""
    if is_missing(text):
        return None
    parts = text.strip().split()
    if len(parts) > 2:
        raise ValueError(f"unexpected value {text!r}")
    unit = parts[1] if len(parts) == 2 else header_unit
    return float(parts[0]), unit


def local_to_utc(naive: datetime, zone: ZoneInfo) -> datetime:
    """Attach zone to a wall-clock time and convert to UTC; ValueError if DST makes it ambiguous or absent."""
    early, late = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    # In a gap the round trip through UTC lands on another wall time; check that first,
    # since fold=0 and fold=1 also disagree there.
    if early.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValueError(f"{naive} does not exist in {zone.key} (DST spring-forward gap)")
    if early.utcoffset() != late.utcoffset():
        raise ValueError(f"{naive} is ambiguous in {zone.key} (DST fall-back hour)")
    return early.astimezone(UTC)


class NvidiaSmiCsvSource:
    """A saved nvidia-smi --query-gpu CSV log, read with an explicit time zone."""

    name = "nvidia-smi"

    def __init__(self, path: str | os.PathLike, *, tz: str, host: str = "", accept: tuple[str, ...] = ()):
        self.path, self.host = Path(path), host
        self.guard = Guard(str(self.path), accept)
        self.notes: list[str] = []
        if not tz:
            raise SourceError(str(self.path), "a time zone is required (nvidia-smi writes local time)", field="tz")
        try:
            self.zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SourceError(str(self.path), f"unknown time zone {tz!r}", field="tz") from exc

    def _lines(self) -> Iterator[tuple[int, str]]:
        """(line number, line) of the non-comment lines, streamed: memory stays flat whatever the file's size."""
        number = 0
        for raw in text_lines(self.path):
            for line in raw.splitlines():  # numbered as splitting the whole text would number them
                number += 1
                if line.strip() and not line.lstrip().startswith("#"):
                    yield number, line

    def collect(self) -> Iterator[GpuSample]:
        """Yield one GpuSample per data row; SourceError names the file, line and field on bad input."""
        where = str(self.path)
        lines = self._lines()
        first = next(lines, None)
        if first is None:
            raise SourceError(where, "empty file: no header (nvidia-smi --query-gpu=... --format=csv writes one)",
                              line=1)
        header = [split_header(c) for c in next(csv.reader([first[1]], skipinitialspace=True))]
        position = {base: (i, unit) for i, (base, unit) in enumerate(header)}
        cols: dict[str, tuple[int, str]] = {}
        for field, names in COLUMNS.items():
            found = next((position[n] for n in names if n in position), None)
            if found is not None:
                cols[field] = found
        if "timestamp" not in cols:
            raise SourceError(where, "no 'timestamp' column in the header", line=first[0], field="timestamp")
        if "uuid" not in cols:
            if not self.host or ("index" not in cols and "pci" not in cols):
                raise SourceError(where, "no 'uuid' column in the header: add uuid to --query-gpu, or name the host "
                                  "the log came from (--host) and keep an index or pci.bus_id column", line=first[0],
                                  field="uuid")
            by = "index" if "index" in cols else "pci"
            self.notes.append(f"no uuid column: each GPU is identified as {self.host}/gpu<{by}>, as --host said")
        for number, line in lines:
            row = next(csv.reader([line], skipinitialspace=True))
            if len(row) != len(header):
                raise SourceError(where, f"{len(row)} values for {len(header)} columns", line=number)
            yield self._row(row, cols, number)

    def _row(self, row: list[str], cols: dict[str, tuple[int, str]], number: int) -> GpuSample:
        where = str(self.path)

        def text(field: str) -> str:
            return row[cols[field][0]].strip() if field in cols else ""

        def number_of(field: str) -> tuple[float, str] | None:
            if field not in cols:
                return None
            try:
                return parse_number(row[cols[field][0]], cols[field][1])
            except ValueError as exc:
                raise SourceError(where, str(exc), line=number, field=field) from exc

        def memory(field: str) -> int | None:
            got = number_of(field)
            if got is None:
                return None
            factor = _BYTES_PER.get(got[1].lower())
            if factor is None:
                raise SourceError(where, f"unknown memory unit {got[1]!r}", line=number, field=field)
            return int(round(got[0] * factor))

        def plain(field: str) -> float | None:
            got = number_of(field)
            return got[0] if got is not None else None

        stamp = text("timestamp")
        naive = None
        for fmt in _TS_FORMATS:
            try:
                naive = datetime.strptime(stamp, fmt)
                break
            except ValueError:
                continue
        if naive is None:
            raise SourceError(where, f"bad timestamp {stamp!r}", line=number, field="timestamp")
        try:
            sampled_at = local_to_utc(naive, self.zone)
        except ValueError as exc:
            raise SourceError(where, str(exc), line=number, field="timestamp") from exc
        index = plain("index")
        if "uuid" in cols:
            uuid = text("uuid")
        else:
            by = f"{int(index)}" if index is not None else text("pci")
            uuid = f"{self.host}/gpu{by}" if by and not is_missing(by) else ""
        if is_missing(uuid):
            raise SourceError(where, "empty GPU UUID", line=number, field="uuid")
        power = number_of("power")
        if power is not None and power[1].lower() not in ("w", ""):
            raise SourceError(where, f"unexpected power unit {power[1]!r}", line=number, field="power.draw")
        guard = self.guard
        guard.time("observed_at", sampled_at, field="timestamp", line=number)
        for field, kind in (("utilization", "utilization_pct"), ("temperature", "temperature_c"),
                            ("sm_clock", "clock_mhz"), ("energy", "energy_mj")):
            guard.check(kind, plain(field), field=field, line=number)
        guard.check("power_watts", power[0] if power is not None else None, field="power.draw", line=number)
        for field in ("memory_used", "memory_total"):
            guard.check("memory_bytes", memory(field), field=field, line=number)
        return GpuSample(
            sampled_at=sampled_at,
            host=self.host,
            gpu_uuid=uuid,
            source=self.name,
            gpu_index=int(index) if index is not None else None,
            model_name="" if is_missing(text("name")) else text("name"),
            utilization_pct=plain("utilization"),  # [N/A] under MIG -> None
            memory_used_bytes=memory("memory_used"),
            memory_total_bytes=memory("memory_total"),
            power_watts=power[0] if power is not None else None,
            energy_mj=plain("energy"),
            temperature_c=plain("temperature"),
            sm_clock_mhz=plain("sm_clock"),
        )

    def describe(self) -> str:
        """Say which file this is (path and SHA-256) and the zone its timestamps were read in."""
        sha = hashlib.sha256()
        try:
            with open(self.path, "rb") as fh:  # in chunks: the file is never held whole
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    sha.update(chunk)
            digest = sha.hexdigest()[:16]
        except OSError:
            digest = "unreadable"
        return f"nvidia-smi CSV {self.path} sha256={digest} tz={self.zone.key}"
