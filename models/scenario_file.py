"""Load a scenario YAML and its hourly demand CSV, rejecting bad input with one clear line.

Every problem raises ``ScenarioError`` whose message is ``<file>: <where>: <problem>``, where
``<where>`` is a dotted YAML key (``gpu.hourly_rate``) or a CSV line (``line 7``, 1-based, the
header is line 1). Only the keys the chosen pricing mode uses are required; zero is a valid price.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ingest.base import SourceError
from ingest.sources._common import read_text, text_lines
from models.economics.contract import ApiPricing, Demand, GpuOption
from models.economics.plan_inputs import SLO_POINT_KEYS, PlanInputs, PlanningInputs, SloInputs, SloPoint

DEMAND_COLUMNS = ("hour", "input_tokens", "cached_input_tokens", "output_tokens")
_API_REQUIRED = ("input_per_mtok", "cached_input_per_mtok", "output_per_mtok")
_API_OPTIONAL = {"batch_discount": 0.5, "batch_share": 0.0}
_GPU_MODE_KEYS = {
    "rent": ("hourly_rate",),
    "buy": ("purchase_price", "amortization_months", "power_watts", "pue", "electricity_per_kwh"),
}
_GPU_COMMON_REQUIRED = ("ops_per_gpu_month", "input_tokens_per_s", "output_tokens_per_s")
_GPU_OPTIONAL = {"replica_gpus": 1, "max_utilization": 0.8}
_GPU_KEYS = set(_GPU_MODE_KEYS["rent"]) | set(_GPU_MODE_KEYS["buy"]) | set(_GPU_COMMON_REQUIRED) \
    | set(_GPU_OPTIONAL) | {"pricing"}
_TOP_KEYS = {"name", "demand", "api", "gpu", "description", "plan", "slo"}
_PLAN_RULES = {  # key: (test, rule); every key is optional and defaults to its v1 value
    "escalation_share": (lambda v: 0 <= v < 1, "must be at least 0 and below 1"),
    "peak_factor": (lambda v: v >= 1, "must be at least 1 (the busiest minute is never below the mean)"),
    "deferrable_share": (lambda v: 0 <= v <= 1, "must be between 0 and 1"),
    "fixed_monthly": (lambda v: v >= 0, "must not be negative"),
    "on_demand_hourly_rate": (lambda v: v > 0, "rate must be above zero"),
    "lead_time_days": (lambda v: v >= 0, "must not be negative"),
}
_SLO_TARGETS = {"p95_itl_ms": "target p95 inter-token latency, ms", "p95_ttft_ms": "target p95 time to first token, ms"}
_ONE_HOUR = timedelta(hours=1)
_NUMERIC = re.compile(r"[-+]?(\d[\d_]*)?\.?\d*([eE][-+]?\d+)?")


class ScenarioError(ValueError):
    """A scenario or demand file is invalid; the message is one line naming file and place."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: its name, API pricing, GPU option and where the demand lives."""

    name: str
    path: Path
    api: ApiPricing | None
    gpu: GpuOption
    demand_path: Path | None
    plan: PlanInputs | None = None
    slo: SloInputs | None = None

    @property
    def planning(self) -> PlanningInputs:
        """The v2 blocks (both None: a v1 scenario)."""
        return PlanningInputs(plan=self.plan, slo=self.slo)


def _number(file: Path, key: str, value: Any) -> float:
    # YAML 1.1 reads `2e4` (no dot) as text; a plain number written that way is still a number.
    if isinstance(value, str):
        try:
            value = float(value.strip().replace("_", "")) if _NUMERIC.fullmatch(value.strip()) else value
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(f"{file}: {key}: must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an integer too long for a float (hundreds of digits)
        raise ScenarioError(f"{file}: {key}: number out of range ({len(str(abs(value)))} digits; "
                            "the largest accepted is about 1e308)") from None
    if not math.isfinite(number):
        raise ScenarioError(f"{file}: {key}: must be a finite number, got {value!r}")
    return number


def _check(file: Path, key: str, value: float, ok: bool, rule: str) -> None:
    if not ok:
        raise ScenarioError(f"{file}: {key}: {rule}, got {value:g}")


def _section(file: Path, doc: dict, name: str, allowed: set[str]) -> dict:
    section = doc.get(name)
    if section is None:
        raise ScenarioError(f"{file}: {name}: missing section")
    if not isinstance(section, dict):
        raise ScenarioError(f"{file}: {name}: must be a mapping of keys to values")
    unknown = sorted(set(map(str, section)) - allowed)
    if unknown:
        raise ScenarioError(f"{file}: {name}.{unknown[0]}: unknown key")
    return section


def _api(file: Path, doc: dict) -> ApiPricing:
    section = _section(file, doc, "api", set(_API_REQUIRED) | set(_API_OPTIONAL))
    values: dict[str, float] = {}
    for key in _API_REQUIRED:
        if section.get(key) is None:
            raise ScenarioError(f"{file}: api.{key}: missing price (USD per million tokens)")
        values[key] = _number(file, f"api.{key}", section[key])
        _check(file, f"api.{key}", values[key], values[key] >= 0, "price must not be negative")
    for key, default in _API_OPTIONAL.items():
        v = _number(file, f"api.{key}", section.get(key, default))
        _check(file, f"api.{key}", v, 0 <= v <= 1, "must be between 0 and 1")
        values[key] = v
    return ApiPricing(**values)


def _gpu(file: Path, doc: dict) -> GpuOption:
    section = _section(file, doc, "gpu", _GPU_KEYS)
    mode = section.get("pricing")
    if mode not in _GPU_MODE_KEYS:
        raise ScenarioError(f"{file}: gpu.pricing: unknown pricing mode {mode!r} (use rent or buy)")
    values: dict[str, Any] = {"pricing": mode}
    for key in _GPU_MODE_KEYS[mode] + _GPU_COMMON_REQUIRED:
        if section.get(key) is None:
            raise ScenarioError(f"{file}: gpu.{key}: missing (required when gpu.pricing is {mode})")
        values[key] = _number(file, f"gpu.{key}", section[key])
        _check(file, f"gpu.{key}", values[key], values[key] >= 0, "must not be negative")
    for key, default in _GPU_OPTIONAL.items():
        values[key] = _number(file, f"gpu.{key}", section.get(key, default))
    for key in ("input_tokens_per_s", "output_tokens_per_s"):
        _check(file, f"gpu.{key}", values[key], values[key] > 0, "throughput must be above zero")
    if mode == "buy":
        v = values["amortization_months"]
        _check(file, "gpu.amortization_months", v, v > 0, "must be above zero")
        _check(file, "gpu.pue", values["pue"], values["pue"] >= 1, "PUE must be at least 1")
    u = values["max_utilization"]
    _check(file, "gpu.max_utilization", u, 0 < u <= 1, "utilization must be in (0, 1]")
    n = values["replica_gpus"]
    _check(file, "gpu.replica_gpus", n, n >= 1 and n == int(n), "must be a whole number of GPUs, 1 or more")
    values["replica_gpus"] = int(n)
    return GpuOption(**values)


def _mapping(file: Path, key: str, value: Any, allowed: set[str] | tuple[str, ...]) -> dict:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ScenarioError(f"{file}: {key}: must be a mapping of keys to values")
    unknown = sorted(set(map(str, value)) - set(allowed))
    if unknown:
        raise ScenarioError(f"{file}: {key}.{unknown[0]}: unknown key")
    return value


def _plan(file: Path, doc: dict, api: ApiPricing | None) -> PlanInputs | None:
    """The optional ``plan:`` block (contract v2); ``plan:`` with nothing under it takes every default."""
    if "plan" not in doc:
        return None
    section = _mapping(file, "plan", doc["plan"], set(_PLAN_RULES))
    values: dict[str, float] = {}
    for key, (ok, rule) in _PLAN_RULES.items():
        if section.get(key) is None:
            continue
        values[key] = _number(file, f"plan.{key}", section[key])
        _check(file, f"plan.{key}", values[key], ok(values[key]), rule)
    batch_share = api.batch_share if api is not None else 0.0
    if values.get("deferrable_share", 0.0) > 0 and batch_share > 0:
        raise ScenarioError(f"{file}: plan.deferrable_share: must be 0 while api.batch_share is above 0 (the "
                            f"deferrable share replaces the batch share), got {values['deferrable_share']:g}")
    return PlanInputs(**values)


def _slo(file: Path, doc: dict) -> SloInputs | None:
    """The optional ``slo:`` block: both p95 targets and a curve of points with all five keys, all positive."""
    if "slo" not in doc:
        return None
    section = _mapping(file, "slo", doc["slo"], (*_SLO_TARGETS, "curve"))
    targets: dict[str, float] = {}
    for key, meaning in _SLO_TARGETS.items():
        if section.get(key) is None:
            raise ScenarioError(f"{file}: slo.{key}: missing ({meaning})")
        targets[key] = _number(file, f"slo.{key}", section[key])
        _check(file, f"slo.{key}", targets[key], targets[key] > 0, "target must be above zero")
    curve = section.get("curve")
    if curve is None:
        raise ScenarioError(f"{file}: slo.curve: missing (points of concurrency, input_tokens_per_s, "
                            "output_tokens_per_s, p95_itl_ms, p95_ttft_ms)")
    if not isinstance(curve, list) or not curve:
        raise ScenarioError(f"{file}: slo.curve: must be a list of at least one point")
    points = []
    for i, raw in enumerate(curve):
        where = f"slo.curve[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(f"{file}: {where}: must be a mapping with {', '.join(SLO_POINT_KEYS)}")
        point = _mapping(file, where, raw, SLO_POINT_KEYS)
        values = {}
        for key in SLO_POINT_KEYS:
            if point.get(key) is None:
                raise ScenarioError(f"{file}: {where}.{key}: missing (every curve point has all five keys)")
            values[key] = _number(file, f"{where}.{key}", point[key])
            _check(file, f"{where}.{key}", values[key], values[key] > 0, "must be above zero")
        points.append(SloPoint(**values))
    return SloInputs(**targets, curve=tuple(points))


def load_scenario(path: Path | str, *, require_api: bool = True) -> Scenario:
    """Read and validate a scenario YAML (the demand CSV is loaded separately).

    With require_api=False (demand priced from the database) the api section may be absent.
    """
    file = Path(path)
    try:
        text = read_text(file)  # the shared reader: BOMs and UTF-16 read, others refused with line and offset
    except SourceError as exc:
        raise ScenarioError(str(exc)) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError(f"{file}: {where}{problem}") from None
    if not isinstance(doc, dict):
        raise ScenarioError(f"{file}: the scenario must be a YAML mapping with api and gpu sections")
    unknown = sorted(set(map(str, doc)) - _TOP_KEYS)
    if unknown:
        raise ScenarioError(f"{file}: {unknown[0]}: unknown key")
    demand = doc.get("demand")
    if demand is not None and not isinstance(demand, str):
        raise ScenarioError(f"{file}: demand: must be a path to a CSV file")
    api = _api(file, doc) if (require_api or "api" in doc) else None
    return Scenario(
        name=str(doc.get("name") or file.stem),
        path=file,
        api=api,
        gpu=_gpu(file, doc),
        demand_path=(file.parent / demand) if demand else None,
        plan=_plan(file, doc, api),
        slo=_slo(file, doc),
    )


def _parse_hour(file: Path, line: int, cell: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(cell.strip())
    except ValueError:
        raise ScenarioError(f"{file}: line {line}: hour: not an ISO 8601 timestamp: {cell!r}") from None
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ScenarioError(
            f"{file}: line {line}: hour: {cell!r} has no time zone; write it in UTC with Z or +00:00"
        )
    return stamp.astimezone(timezone.utc)


def _parse_count(file: Path, line: int, column: str, cell: str | None) -> float:
    if cell is None or not cell.strip():
        raise ScenarioError(f"{file}: line {line}: {column}: missing value")
    try:
        value = float(cell)
    except ValueError:
        raise ScenarioError(f"{file}: line {line}: {column}: not a number: {cell!r}") from None
    if not math.isfinite(value):
        raise ScenarioError(f"{file}: line {line}: {column}: not a finite number: {cell!r}")
    if value < 0:
        raise ScenarioError(f"{file}: line {line}: {column}: negative token count {cell.strip()}")
    return value


def _parse_peak(file: Path, line: int, cell: str | None) -> float:
    """A per-hour ``peak_factor`` cell: empty takes the plan's value (NaN here), else a number >= 1."""
    if cell is None or not cell.strip():
        return math.nan
    try:
        value = float(cell)
    except ValueError:
        raise ScenarioError(f"{file}: line {line}: peak_factor: not a number: {cell!r}") from None
    if not math.isfinite(value):
        raise ScenarioError(f"{file}: line {line}: peak_factor: not a finite number: {cell!r}")
    if value < 1:
        raise ScenarioError(f"{file}: line {line}: peak_factor: must be at least 1 (the busiest minute is never "
                            f"below the mean), got {cell.strip()}")
    return value


def load_demand_csv(path: Path | str, *, peak_factor: bool = False) -> Demand:
    """Read and validate an hourly demand CSV into a Demand (hours as UTC datetime64).

    With ``peak_factor`` (the scenario has a plan block) an optional ``peak_factor`` column is read
    and validated; otherwise that column is ignored.
    """
    file = Path(path)
    try:
        return _read_demand_csv(file, peak_factor)
    except SourceError as exc:
        raise ScenarioError(str(exc)) from None
    except csv.Error as exc:
        raise ScenarioError(f"{file}: unreadable CSV ({exc})") from None


def _read_demand_csv(file: Path, read_peak: bool) -> Demand:
    if not file.is_file():
        raise ScenarioError(f"{file}: cannot read demand file (no such file)")
    reader = csv.reader(text_lines(file))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        raise ScenarioError(f"{file}: demand file is empty")
    names = [h.strip() for h in header]
    missing = [c for c in DEMAND_COLUMNS if c not in names]
    if missing:
        raise ScenarioError(f"{file}: line 1: missing column(s) {', '.join(missing)}")
    col = {c: names.index(c) for c in DEMAND_COLUMNS}
    peak_col = names.index("peak_factor") if read_peak and "peak_factor" in names else None
    hours: list[datetime] = []
    counts: list[tuple[float, float, float]] = []
    peaks: list[float] = []
    for line, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue  # a blank line is not a data row
        cells = {c: (row[i] if i < len(row) else None) for c, i in col.items()}
        if cells["hour"] is None or not cells["hour"].strip():
            raise ScenarioError(f"{file}: line {line}: hour: missing value")
        stamp = _parse_hour(file, line, cells["hour"])
        inp, cached, out = (_parse_count(file, line, c, cells[c]) for c in DEMAND_COLUMNS[1:])
        if cached > inp:
            raise ScenarioError(
                f"{file}: line {line}: cached_input_tokens ({cached:g}) exceeds input_tokens ({inp:g}); "
                "input_tokens must include the cached part"
            )
        if hours:
            step = stamp - hours[-1]
            if step == timedelta(0):
                raise ScenarioError(f"{file}: line {line}: hour: duplicate hour {cells['hour'].strip()}")
            if step < timedelta(0):
                raise ScenarioError(f"{file}: line {line}: hour: not sorted ({cells['hour'].strip()} "
                                    f"comes after {hours[-1].isoformat()})")
            if step != _ONE_HOUR:
                raise ScenarioError(f"{file}: line {line}: hour: gap after {hours[-1].isoformat()} "
                                    f"(hours must be consecutive; write a row of zeros for an idle hour)")
        hours.append(stamp)
        counts.append((inp, cached, out))
        if peak_col is not None:
            peaks.append(_parse_peak(file, line, row[peak_col] if peak_col < len(row) else None))
    if not counts:
        raise ScenarioError(f"{file}: demand file is empty (a header but no rows)")
    arr = np.asarray(counts, dtype=np.float64)
    stamps = np.array([h.replace(tzinfo=None) for h in hours], dtype="datetime64[s]")
    peak = np.asarray(peaks, dtype=np.float64) if peak_col is not None else None
    return Demand(stamps, arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy(), peak)


def load_scenario_with_demand(path: Path | str) -> tuple[Scenario, Demand]:
    """Load a scenario YAML and the demand CSV it names (relative to the YAML file)."""
    scenario = load_scenario(path)
    if scenario.demand_path is None:
        raise ScenarioError(f"{scenario.path}: demand: missing (path to the hourly demand CSV)")
    return scenario, load_demand_csv(scenario.demand_path, peak_factor=scenario.plan is not None)
