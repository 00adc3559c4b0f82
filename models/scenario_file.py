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

from models.economics.contract import ApiPricing, Demand, GpuOption

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
_TOP_KEYS = {"name", "demand", "api", "gpu", "description"}
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


def load_scenario(path: Path | str, *, require_api: bool = True) -> Scenario:
    """Read and validate a scenario YAML (the demand CSV is loaded separately).

    With require_api=False (demand priced from the database) the api section may be absent.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{file}: cannot read file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{file}: not a UTF-8 text file") from None
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
    return Scenario(
        name=str(doc.get("name") or file.stem),
        path=file,
        api=_api(file, doc) if (require_api or "api" in doc) else None,
        gpu=_gpu(file, doc),
        demand_path=(file.parent / demand) if demand else None,
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


def load_demand_csv(path: Path | str) -> Demand:
    """Read and validate an hourly demand CSV into a Demand (hours as UTC datetime64)."""
    file = Path(path)
    try:
        return _read_demand_csv(file)
    except UnicodeDecodeError:
        raise ScenarioError(f"{file}: not a UTF-8 text file") from None
    except csv.Error as exc:
        raise ScenarioError(f"{file}: unreadable CSV ({exc})") from None


def _read_demand_csv(file: Path) -> Demand:
    try:
        handle = file.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{file}: cannot read demand file ({exc.strerror or exc})") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise ScenarioError(f"{file}: demand file is empty")
        names = [h.strip() for h in header]
        missing = [c for c in DEMAND_COLUMNS if c not in names]
        if missing:
            raise ScenarioError(f"{file}: line 1: missing column(s) {', '.join(missing)}")
        col = {c: names.index(c) for c in DEMAND_COLUMNS}
        hours: list[datetime] = []
        counts: list[tuple[float, float, float]] = []
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
    if not counts:
        raise ScenarioError(f"{file}: demand file is empty (a header but no rows)")
    arr = np.asarray(counts, dtype=np.float64)
    stamps = np.array([h.replace(tzinfo=None) for h in hours], dtype="datetime64[s]")
    return Demand(stamps, arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy())


def load_scenario_with_demand(path: Path | str) -> tuple[Scenario, Demand]:
    """Load a scenario YAML and the demand CSV it names (relative to the YAML file)."""
    scenario = load_scenario(path)
    if scenario.demand_path is None:
        raise ScenarioError(f"{scenario.path}: demand: missing (path to the hourly demand CSV)")
    return scenario, load_demand_csv(scenario.demand_path)
