"""A FOCUS export as one unit: all its files, its name and when it was issued.

An export arrives as files (several parts of one billing period), a folder, or a manifest
naming its parts: an AWS Data Exports ``Manifest.json`` (``dataFiles``), an Azure Cost
Management ``manifest.json`` (``blobs``, ``runInfo.submittedTime``) or FOCUS 1.3 metadata
(``DatasetInstanceId``, ``Recency``). The unit's issue time orders re-issues: the manifest's or
metadata's own time, else ``--issued-at``, else the newest modification time of its files.
Its fingerprint (its name and the hashes of its files) makes a byte-identical re-import the same
export.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.base import SourceError
from ingest.records import CostLine
from ingest.sources._common import file_describe
from ingest.sources.focus import FocusSource
from models.bounds import Guard

DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq", ".gz")
_LOOSE_TIME = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}:?\d{2})?\s*$")


@dataclass
class ExportUnit:
    """The files of one export and what identifies it; `issued_from` says where `issued_at` came from."""

    files: list[Path]
    name: str = ""
    issued_at: datetime | None = None
    issued_from: str = "file times"
    focus_version: str = ""
    manifest: Path | None = None
    digests: dict[Path, str] = field(default_factory=dict)

    def digest_of(self, path: Path) -> str:
        """The SHA-256 of one file of the unit (read once)."""
        if path not in self.digests:
            self.digests[path] = file_describe(path).rsplit("sha256:", 1)[1]
        return self.digests[path]

    def fingerprint(self, name: str | None = None) -> str:
        """The export's identity as loaded: its name and the hashes of its files, order-free."""
        parts = sorted(self.digest_of(p) for p in self.files)
        return hashlib.sha256("\x1f".join([self.name if name is None else name, *parts]).encode()).hexdigest()

    def file_records(self) -> list[dict[str, str]]:
        """[{path, sha256}] for the run record and the export row."""
        return [{"path": str(p), "sha256": self.digest_of(p)} for p in self.files]


def _is_data(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for s in DATA_SUFFIXES) and not name.endswith(".json.gz")


def parse_loose_time(value: Any, where: str, field: str) -> datetime | None:
    """An ISO-like time as the FOCUS metadata examples write it ('2025-01-27T0:00:00z'); None if unparseable."""
    if not isinstance(value, str):
        return None
    m = _LOOSE_TIME.match(value)
    if not m:
        return None
    day, hour, minute, second, frac, zone = m.groups()
    text = f"{day}T{int(hour or 0):02d}:{minute or '00'}:{second or '00'}{frac or ''}"
    zone = (zone or "Z").upper()
    text += "+00:00" if zone == "Z" else (zone if ":" in zone else f"{zone[:3]}:{zone[3:]}")
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return None


def _first_time(doc: dict, where: str, fields: Iterable[str]) -> tuple[datetime | None, str | None]:
    """The first of `fields` (dotted paths) that holds a parseable time, and the name of the first bad one."""
    bad = None
    for path in fields:
        value: Any = doc
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            continue
        parsed = parse_loose_time(value, where, path)
        if parsed is not None:
            return parsed, None
        bad = bad or path
    return None, bad


def _resolve(manifest: Path, names: list[str]) -> list[Path]:
    """Local files for the manifest's entries: as written, beside it, or by name under the export's folder."""
    roots = [manifest.parent, *list(manifest.parents)[1:3]]
    found = []
    for entry in names:
        bare = entry.split("://", 1)[-1]
        candidates = [Path(bare), manifest.parent / bare, manifest.parent / Path(bare).name]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            tail = Path(bare).name
            matches = sorted({m for root in roots for m in root.rglob(tail) if m.is_file()})
            if len(matches) > 1:
                raise SourceError(str(manifest), f"part {entry!r} matches {len(matches)} files; keep one",
                                  field="files")
            hit = matches[0] if matches else None
        if hit is None:
            raise SourceError(str(manifest), f"part {entry!r} is missing: no such file next to the manifest",
                              field="files")
        found.append(hit)
    return found


def _load_json(path: Path) -> Any:
    where = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(where, f"cannot read manifest: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise SourceError(where, f"manifest is not valid JSON: {exc.msg}", line=exc.lineno) from None
    if isinstance(doc, list) and doc and all(isinstance(x, dict) for x in doc):
        return {"DatasetInstance": doc} if "DatasetInstanceId" in doc[0] else doc[0]
    if not isinstance(doc, dict):
        raise SourceError(where, "manifest is not a JSON object")
    return doc


_FOCUS_KEYS = {"DatasetInstanceId", "DatasetInstance", "Recency", "RecencyLastUpdateDate", "FocusVersion",
               "SchemaId", "DatasetInstanceLastUpdated", "TimeSectors", "DataGenerator", "Dataset"}


def read_manifest(path: Path, doc: dict | None = None) -> ExportUnit:
    """An ExportUnit from an AWS Data Exports or Azure Cost Management export manifest."""
    where = str(path)
    doc = _load_json(path) if doc is None else doc
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    if isinstance(doc.get("dataFiles"), list):  # AWS Data Exports
        files = _resolve(path, [str(x) for x in doc["dataFiles"]])
        name = str(doc.get("exportArn") or doc.get("exportName") or "")
        issued, _bad = _first_time(doc, where, ("exportTime", "executionTime", "creationTime"))
        return ExportUnit(files, name, issued or mtime, "manifest" if issued else "manifest file time", "", path)
    if isinstance(doc.get("blobs"), list):  # Azure Cost Management exports
        names = [str(b.get("blobName")) for b in doc["blobs"] if isinstance(b, dict) and b.get("blobName")]
        files = _resolve(path, names)
        config = doc.get("exportConfig") if isinstance(doc.get("exportConfig"), dict) else {}
        name = str(config.get("exportName") or config.get("resourceId") or "")
        issued, bad = _first_time(doc, where, ("runInfo.submittedTime", "runInfo.endTime"))
        if issued is None and bad:
            raise SourceError(where, f"{bad} is not a date-time", field=bad)
        version = str(config.get("dataVersion") or "")
        return ExportUnit(files, name, issued or mtime, "manifest" if issued else "manifest file time", version, path)
    raise SourceError(where, "not an export manifest: expected dataFiles (AWS), blobs (Azure) or FOCUS 1.3 "
                             "metadata (DatasetInstanceId, Recency)")


def read_metadata(paths: list[Path], docs: list[dict], files: list[Path]) -> ExportUnit:
    """An ExportUnit for `files` from FOCUS 1.3 metadata: the dataset instance and its Recency update time."""
    where = str(paths[0])
    merged: dict[str, Any] = {}
    for doc in docs:
        for key, value in doc.items():
            merged.setdefault(key, value)
    for key in ("Recency", "DatasetInstance"):
        items = merged.get(key)
        if isinstance(items, list) and len(items) == 1 and isinstance(items[0], dict):
            merged = {**items[0], **merged}
    sectors = [s.get("TimeSectorLastUpdated") for s in merged.get("TimeSectors") or [] if isinstance(s, dict)]
    sector_times = [t for t in (parse_loose_time(s, where, "TimeSectorLastUpdated") for s in sectors) if t]
    issued, bad = _first_time(merged, where, ("DatasetInstanceLastUpdated",))
    if issued is None and sector_times:
        issued = max(sector_times)
    if issued is None:
        issued, bad = _first_time(merged, where, ("RecencyLastUpdateDate", "CreationDate"))
    if issued is None and bad:
        raise SourceError(where, f"{bad} is not a date-time (and no other update time is given)", field=bad)
    if not files:
        folder = paths[0].parent
        files = sorted(p for p in folder.iterdir() if p.is_file() and _is_data(p)) or sorted(
            p for p in folder.parent.rglob("*") if p.is_file() and _is_data(p))
    if not files:
        raise SourceError(where, "FOCUS metadata names no data files: give the export's files with it")
    mtime = max(datetime.fromtimestamp(p.stat().st_mtime, UTC) for p in paths)
    name = str(merged.get("DatasetInstanceId") or merged.get("Dataset") or "")
    return ExportUnit(files, name, issued or mtime, "metadata" if issued else "metadata file time",
                      str(merged.get("FocusVersion") or ""), paths[0])


def discover(paths: Iterable[str | Path]) -> list[ExportUnit]:
    """Group the given files, folders and manifests into export units (each AWS/Azure manifest is its own)."""
    paths = list(paths)
    jsons: list[Path] = []
    data: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            inside = sorted(x for x in p.rglob("*") if x.is_file())
            jsons += [x for x in inside if x.suffix.lower() == ".json"]
            data += [x for x in inside if _is_data(x)]
        elif p.is_file():
            (jsons if p.suffix.lower() == ".json" else data).append(p)
        else:
            raise SourceError(str(p), "no such file or folder")
    data = sorted({d.resolve(): d for d in data}.values(), key=str)
    units: list[ExportUnit] = []
    meta_paths, meta_docs = [], []
    for path in jsons:
        doc = _load_json(path)
        if isinstance(doc.get("dataFiles"), list) or isinstance(doc.get("blobs"), list):
            units.append(read_manifest(path, doc))
        elif _FOCUS_KEYS & set(doc):
            meta_paths.append(path)
            meta_docs.append(doc)
        else:
            read_manifest(path, doc)  # raises: not a manifest
    claimed = {f.resolve() for u in units for f in u.files}
    rest = [d for d in data if d.resolve() not in claimed]
    if meta_paths:
        units.append(read_metadata(meta_paths, meta_docs, rest))
    elif rest and not units:
        newest = max(datetime.fromtimestamp(f.stat().st_mtime, UTC) for f in rest)
        units.append(ExportUnit(rest, issued_at=newest, issued_from="file times"))
    elif rest and any(Path(p).is_file() and Path(p).resolve() in {r.resolve() for r in rest} for p in paths):
        raise SourceError(str(rest[0]), "this file is in no manifest given; load it on its own")
    if not units:
        raise SourceError(", ".join(str(p) for p in paths), "no FOCUS files (.csv, .csv.gz, .parquet) found")
    return sorted(units, key=lambda u: u.issued_at)


class FocusExportSource:
    """Every part of one export as one stream of CostLine rows (one load, all or nothing)."""

    name = "focus"

    def __init__(self, unit: ExportUnit, *, batch_rows: int = 10_000, accept: tuple[str, ...] = ()):
        """Read the unit's files in order; identical rows are numbered across its parts."""
        self.unit = unit
        self.accept = accept
        self.parts = [FocusSource(p, batch_rows=batch_rows, accept=accept) for p in unit.files]

    @property
    def guard(self) -> Guard:
        """The plausibility checks of every part: what --accept-implausible let through, for the audit log."""
        where = ", ".join(str(p) for p in self.unit.files)
        return Guard(where, frozenset(self.accept), [a for part in self.parts for a in part.guard.accepted])

    def describe(self) -> str:
        """Say which export and files this is (paths and hashes) for the run record."""
        label = f"focus export {self.unit.name!r}" if self.unit.name else "focus export"
        files = ", ".join(f"{p} sha256:{self.unit.digest_of(p)}" for p in self.unit.files)
        return f"{label} issued {self.unit.issued_at:%Y-%m-%dT%H:%M:%SZ} ({self.unit.issued_from}): {files}"

    def collect(self) -> Iterator[CostLine]:
        """Yield the rows of every part, in file order."""
        seen: dict[str, int] = {}
        for part in self.parts:
            yield from part.collect(seen)
