"""Published throughput/latency curves per model, GPU type and GPU count, read from a CSV and validated.

The built-in catalog is ``published_curves.csv`` beside this module; a user's own file (same columns,
docs/gpu.md) is read after it. One row is one point of a benchmark table as its source printed it:
concurrency, time to first token, inter-token latency and output tokens/s for the whole replica (the
``gpu_count`` GPUs the source measured together), at the source's request shape (input and output
tokens per request). Rows with the same ``curve_id`` form one curve and must agree on everything but
the four measured columns. Nothing here is interpolated: a curve holds the points its source printed.
A point becomes the engine's pair of rates as models/economics/slo_curves.py converts any curve point.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from models.economics.plan_inputs import SloPoint
from models.economics.slo_curves import point_at_mix

BUILTIN_CSV = Path(__file__).with_name("published_curves.csv")
META = ("curve_id", "model", "gpu_type", "gpu_count", "parallelism", "precision", "engine", "input_tokens",
        "output_tokens", "latency_statistic", "source_name", "source_version", "source_url", "read_on")
MEASURED = ("concurrency", "ttft_ms", "itl_ms", "output_tokens_per_s")
COLUMNS = META + MEASURED
LATENCY_STATISTICS = ("p95", "p99", "p90", "median", "mean", "unstated")
# Bounds a real table stays inside; a value outside one is a unit error (seconds for ms, per-user for total).
MAX_GPUS = 72
MAX_TOKENS_PER_REQUEST = 1_000_000
MAX_CONCURRENCY = 100_000
MAX_TTFT_MS = 600_000.0
MAX_ITL_MS = 10_000.0
# No serving stack reaches a token in under half a millisecond or a first token in under one: below
# these a latency was written in seconds.
MIN_ITL_MS = 0.5
MIN_TTFT_MS = 1.0
MAX_OUTPUT_TOKENS_PER_S = 1_000_000.0
# c streams each get at most one token per ITL, so a table's output rate is at most c * 1000 / ITL;
# 5 % covers the sources' rounding and ITL averaged over requests of unequal length.
STREAM_BOUND_SLACK = 1.05


class CatalogError(ValueError):
    """A catalog file is unreadable or a row breaks a rule; the message names the file, line and column."""


@dataclass(frozen=True)
class PublishedCurve:
    """One published benchmark table: its conditions, its source and its points as printed."""

    curve_id: str
    model: str
    gpu_type: str
    gpu_count: int
    parallelism: str
    precision: str
    engine: str
    input_tokens: int
    output_tokens: int
    latency_statistic: str
    source_name: str
    source_version: str
    source_url: str
    read_on: date
    rows: tuple[tuple[float, float, float, float], ...]  # (concurrency, ttft_ms, itl_ms, output_tokens_per_s)

    @property
    def input_per_output(self) -> float:
        """The benchmark's prompt tokens per output token."""
        return self.input_tokens / self.output_tokens

    @property
    def points(self) -> tuple[SloPoint, ...]:
        """The engine's curve points: each printed point converted at the benchmark's own request shape."""
        return tuple(point_at_mix(c, out, self.input_per_output, itl, ttft) for c, ttft, itl, out in self.rows)

    @property
    def source(self) -> str:
        """The source in one sentence: name, version, conditions, address, how its latencies are read."""
        latency = ("TTFT and ITL as tabulated; the table does not say which statistic, so they are read as the p95"
                   if self.latency_statistic == "unstated" else
                   f"TTFT and ITL are the source's {self.latency_statistic}, read as the p95")
        return (f"published: {self.source_name}, {self.source_version}, {self.model} on {self.gpu_count}x "
                f"{self.gpu_type} ({self.parallelism}, {self.precision}, {self.engine}), {self.input_tokens:,} "
                f"input / {self.output_tokens:,} output tokens per request, concurrency "
                f"{self.rows[0][0]:g}-{self.rows[-1][0]:g} ({self.source_url}, read {self.read_on:%Y-%m-%d}); "
                f"{latency}")

    def as_dict(self) -> dict:
        """JSON-ready: the conditions, the source and the printed points."""
        return {"curve_id": self.curve_id, "model": self.model, "gpu_type": self.gpu_type,
                "gpu_count": self.gpu_count, "parallelism": self.parallelism, "precision": self.precision,
                "engine": self.engine, "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "latency_statistic": self.latency_statistic, "source_name": self.source_name,
                "source_version": self.source_version, "source_url": self.source_url,
                "read_on": self.read_on.isoformat(),
                "points": [dict(zip(MEASURED, r, strict=True)) for r in self.rows]}


def _number(text: str, where: str, low: float, high: float, *, integer: bool = False) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise CatalogError(f"{where}: {text!r} is not {'a whole number' if integer else 'a number'}") from None
    if not math.isfinite(value) or not low < value <= high:
        raise CatalogError(f"{where}: {text} is outside ({low:g}, {high:g}]")
    return value


def _curve(rows: list[tuple[int, dict[str, str]]], name: str) -> PublishedCurve:
    line, first = rows[0]
    for n, row in rows[1:]:
        for key in META:
            if row[key] != first[key]:
                raise CatalogError(f"{name}:{n}: {key} {row[key]!r} differs from line {line}'s {first[key]!r} "
                                   f"within curve {first['curve_id']!r}")
    at = f"{name}:{line}"
    for key in ("curve_id", "model", "gpu_type", "parallelism", "precision", "engine", "source_name",
                "source_version"):
        if not first[key].strip():
            raise CatalogError(f"{at}: {key} is empty")
    if first["latency_statistic"] not in LATENCY_STATISTICS:
        raise CatalogError(f"{at}: latency_statistic {first['latency_statistic']!r} is not one of "
                           f"{', '.join(LATENCY_STATISTICS)}")
    if not first["source_url"].startswith("https://"):
        raise CatalogError(f"{at}: source_url must be an https:// address")
    try:
        read_on = date.fromisoformat(first["read_on"])
    except ValueError:
        raise CatalogError(f"{at}: read_on {first['read_on']!r} is not a YYYY-MM-DD date") from None
    points = []
    for n, row in rows:
        where = f"{name}:{n}"
        c = _number(row["concurrency"], f"{where}: concurrency", 0, MAX_CONCURRENCY)
        ttft = _number(row["ttft_ms"], f"{where}: ttft_ms", MIN_TTFT_MS, MAX_TTFT_MS)
        itl = _number(row["itl_ms"], f"{where}: itl_ms", MIN_ITL_MS, MAX_ITL_MS)
        out = _number(row["output_tokens_per_s"], f"{where}: output_tokens_per_s", 0, MAX_OUTPUT_TOKENS_PER_S)
        if out > c * 1000.0 / itl * STREAM_BOUND_SLACK:
            raise CatalogError(f"{where}: output_tokens_per_s {out:g} exceeds concurrency x 1000 / itl_ms = "
                               f"{c * 1000.0 / itl:,.1f} (is it per user, or the ITL in seconds?)")
        if points and c <= points[-1][0]:
            raise CatalogError(f"{where}: concurrency must rise within a curve ({c:g} after {points[-1][0]:g})")
        points.append((c, ttft, itl, out))
    if len(points) < 2:
        raise CatalogError(f"{at}: curve {first['curve_id']!r} has one point; a curve needs two or more")
    return PublishedCurve(
        curve_id=first["curve_id"], model=first["model"].strip(), gpu_type=first["gpu_type"].strip(),
        gpu_count=int(_number(first["gpu_count"], f"{at}: gpu_count", 0, MAX_GPUS, integer=True)),
        parallelism=first["parallelism"], precision=first["precision"], engine=first["engine"],
        input_tokens=int(_number(first["input_tokens"], f"{at}: input_tokens", 0, MAX_TOKENS_PER_REQUEST,
                                 integer=True)),
        output_tokens=int(_number(first["output_tokens"], f"{at}: output_tokens", 0, MAX_TOKENS_PER_REQUEST,
                                  integer=True)),
        latency_statistic=first["latency_statistic"], source_name=first["source_name"],
        source_version=first["source_version"], source_url=first["source_url"], read_on=read_on,
        rows=tuple(points))


def parse_curves(lines: Iterable[str], name: str) -> tuple[PublishedCurve, ...]:
    """Curves from CSV text (a header of COLUMNS, then one row per point); CatalogError on any broken rule."""
    reader = csv.DictReader(lines)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CatalogError(f"{name}: missing column(s) {', '.join(missing)}")
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for row in reader:
        groups.setdefault(row["curve_id"], []).append((reader.line_num, row))
    return tuple(_curve(rows, name) for rows in groups.values())


def load_curves(path: Path) -> tuple[PublishedCurve, ...]:
    """Curves from a CSV file (CatalogError naming the file when it cannot be read or breaks a rule)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return parse_curves(handle, str(path))
    except OSError as exc:
        raise CatalogError(f"{path}: {exc.strerror or exc}") from None


@lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int) -> tuple[PublishedCurve, ...]:
    return load_curves(Path(path))


def catalog_curves(user_file: Path | None = None) -> tuple[PublishedCurve, ...]:
    """The built-in curves, then the user's file's (a curve_id in both is refused); each file read once per change."""
    curves = _cached(str(BUILTIN_CSV), BUILTIN_CSV.stat().st_mtime_ns)
    if user_file is None:
        return curves
    try:
        extra = _cached(str(user_file), user_file.stat().st_mtime_ns)
    except OSError as exc:
        raise CatalogError(f"{user_file}: {exc.strerror or exc}") from None
    clash = {c.curve_id for c in curves} & {c.curve_id for c in extra}
    if clash:
        raise CatalogError(f"{user_file}: curve_id {min(clash)!r} is already in the built-in catalog")
    return curves + extra


def find_curve(curves: Sequence[PublishedCurve], model: str, gpu_type: str, gpu_count: int,
               input_per_output: float | None = None) -> PublishedCurve | None:
    """The curve of this model on `gpu_count` x `gpu_type` (None if none); among several, the request shape
    nearest `input_per_output` (by ratio; a tie, or no mix, goes to the first in file order)."""
    same = [c for c in curves if c.model.lower() == (model or "").strip().lower()
            and c.gpu_type.lower() == (gpu_type or "").strip().lower() and c.gpu_count == gpu_count]
    if not same:
        return None
    if input_per_output is None or not math.isfinite(input_per_output) or input_per_output <= 0:
        return same[0]
    return min(same, key=lambda c: abs(math.log(c.input_per_output / input_per_output)))
