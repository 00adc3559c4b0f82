"""Published GPU rates per GPU type: on-demand, one-year committed and spot USD per GPU-hour, with sources.

The built-in catalog is ``gpu_rates.csv`` beside this module; a user's own file (same columns,
docs/gpu.md) is read after it. Each row is one provider's listed offer as read on a date, in USD per
GPU-hour as an exact decimal string (an instance price is divided by its GPUs only where the row
also gives ``instance_usd_per_hour``, and the two must agree). ``read_via`` names the copy that was
read where it was not the provider's page itself.

The planning path's on-demand tier needs one rate per GPU type: ``reference_rate`` takes the
published on-demand rates of that type and picks the middle one (the lower middle of an even
count), so neither the cheapest marketplace offer nor the dearest hyperscaler list price decides,
and the figure shown is a price some provider actually lists, with its source.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from models import bounds
from models.economics.catalog import GPU_TYPES
from models.economics.published_curves import CatalogError

BUILTIN_CSV = Path(__file__).with_name("gpu_rates.csv")
COLUMNS = ("gpu_type", "provider", "offer", "tier", "usd_per_gpu_hour", "gpus_per_instance",
           "instance_usd_per_hour", "region", "source_url", "read_via", "read_on", "note")
TIERS = ("on_demand", "one_year_committed", "spot")
TIER_WORDS = {"on_demand": "on-demand", "one_year_committed": "one-year committed", "spot": "spot"}
MAX_GPUS_PER_INSTANCE = 72
INSTANCE_TOLERANCE_USD = Decimal("0.01")  # per GPU-hour, for a per-GPU figure rounded from an instance price


@dataclass(frozen=True)
class GpuRate:
    """One provider's listed price for one GPU type and tier, with where and when it was read."""

    gpu_type: str
    provider: str
    offer: str
    tier: str
    usd_per_gpu_hour: Decimal
    gpus_per_instance: int
    instance_usd_per_hour: Decimal | None
    region: str
    source_url: str
    read_via: str
    read_on: date
    note: str

    def words(self) -> str:
        """'Lambda 8x NVIDIA H100 SXM, on-demand: $3.99 per GPU-hour (https://lambda.ai/pricing, read ...)'."""
        where = f", {self.region}" if self.region else ""
        via = f" as transcribed in {self.read_via}" if self.read_via else ""
        return (f"{self.provider} {self.offer}{where}, {TIER_WORDS[self.tier]}: ${self.usd_per_gpu_hour} per "
                f"GPU-hour ({self.source_url}{via}, read {self.read_on:%Y-%m-%d})")

    def as_dict(self) -> dict:
        """JSON-ready, the rate as an exact string."""
        return {"gpu_type": self.gpu_type, "provider": self.provider, "offer": self.offer, "tier": self.tier,
                "usd_per_gpu_hour": str(self.usd_per_gpu_hour), "gpus_per_instance": self.gpus_per_instance,
                "instance_usd_per_hour": None if self.instance_usd_per_hour is None else str(
                    self.instance_usd_per_hour), "region": self.region or None, "source_url": self.source_url,
                "read_via": self.read_via or None, "read_on": self.read_on.isoformat(), "note": self.note or None}


def _usd(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise CatalogError(f"{where}: {text!r} is not a USD amount") from None
    if not value.is_finite() or value <= 0:
        raise CatalogError(f"{where}: {text} must be above zero")
    return value


def _rate(row: dict[str, str], where: str, known_gpu_types: Sequence[str] | None) -> GpuRate:
    for key in ("gpu_type", "provider", "offer", "tier", "usd_per_gpu_hour", "gpus_per_instance", "source_url",
                "read_on"):
        if not (row.get(key) or "").strip():
            raise CatalogError(f"{where}: {key} is empty")
    if known_gpu_types is not None and row["gpu_type"] not in known_gpu_types:
        raise CatalogError(f"{where}: gpu_type {row['gpu_type']!r} is not a catalog GPU type "
                           f"({', '.join(known_gpu_types)})")
    if row["tier"] not in TIERS:
        raise CatalogError(f"{where}: tier {row['tier']!r} is not one of {', '.join(TIERS)}")
    rate = _usd(row["usd_per_gpu_hour"], f"{where}: usd_per_gpu_hour")
    try:
        bounds.check("usd_per_gpu_hour", rate, field="usd_per_gpu_hour", where=where)
    except bounds.ImplausibleValue as exc:
        raise CatalogError(str(exc).split("; if it is real")[0]) from None
    try:
        gpus = int(row["gpus_per_instance"])
    except ValueError:
        raise CatalogError(f"{where}: gpus_per_instance {row['gpus_per_instance']!r} is not a whole number") from None
    if not 1 <= gpus <= MAX_GPUS_PER_INSTANCE:
        raise CatalogError(f"{where}: gpus_per_instance {gpus} is outside 1..{MAX_GPUS_PER_INSTANCE}")
    instance = None
    if (row.get("instance_usd_per_hour") or "").strip():
        instance = _usd(row["instance_usd_per_hour"], f"{where}: instance_usd_per_hour")
        if abs(instance / gpus - rate) > INSTANCE_TOLERANCE_USD:
            raise CatalogError(f"{where}: usd_per_gpu_hour {rate} is not instance_usd_per_hour {instance} / "
                               f"{gpus} GPUs = {instance / gpus:.4f}")
    for key in ("source_url", "read_via"):
        if row.get(key) and not row[key].startswith("https://"):
            raise CatalogError(f"{where}: {key} must be an https:// address")
    try:
        read_on = date.fromisoformat(row["read_on"])
    except ValueError:
        raise CatalogError(f"{where}: read_on {row['read_on']!r} is not a YYYY-MM-DD date") from None
    return GpuRate(row["gpu_type"].strip(), row["provider"].strip(), row["offer"].strip(), row["tier"], rate, gpus,
                   instance, (row.get("region") or "").strip(), row["source_url"], (row.get("read_via") or "").strip(),
                   read_on, (row.get("note") or "").strip())


def parse_rates(lines: Iterable[str], name: str, known_gpu_types: Sequence[str] | None = None
                ) -> tuple[GpuRate, ...]:
    """Rates from CSV text (a header of COLUMNS); CatalogError on a broken rule or a repeated offer."""
    reader = csv.DictReader(lines)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CatalogError(f"{name}: missing column(s) {', '.join(missing)}")
    rates, seen = [], {}
    for row in reader:
        rate = _rate(row, f"{name}:{reader.line_num}", known_gpu_types)
        key = (rate.gpu_type.lower(), rate.provider.lower(), rate.offer.lower(), rate.region.lower(), rate.tier)
        if key in seen:
            raise CatalogError(f"{name}:{reader.line_num}: the same offer as line {seen[key]} (keep the newer one)")
        seen[key] = reader.line_num
        rates.append(rate)
    return tuple(rates)


def load_rates(path: Path, known_gpu_types: Sequence[str] | None = None) -> tuple[GpuRate, ...]:
    """Rates from a CSV file (CatalogError naming the file when it cannot be read or breaks a rule)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return parse_rates(handle, str(path), known_gpu_types)
    except OSError as exc:
        raise CatalogError(f"{path}: {exc.strerror or exc}") from None


@lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int, known: tuple[str, ...] | None) -> tuple[GpuRate, ...]:
    return load_rates(Path(path), known)


def catalog_rates(user_file: Path | None = None) -> tuple[GpuRate, ...]:
    """The built-in rates (GPU types of the reference catalog only), then the user's file's; read once per change."""
    known = tuple(g["gpu_type"] for g in GPU_TYPES)
    rates = _cached(str(BUILTIN_CSV), BUILTIN_CSV.stat().st_mtime_ns, known)
    if user_file is None:
        return rates
    try:
        return rates + _cached(str(user_file), user_file.stat().st_mtime_ns, None)
    except OSError as exc:
        raise CatalogError(f"{user_file}: {exc.strerror or exc}") from None


def rates_for(rates: Sequence[GpuRate], gpu_type: str, tier: str) -> list[GpuRate]:
    """The rates of one GPU type and tier, cheapest first (ties in file order)."""
    name = (gpu_type or "").strip().lower()
    return sorted((r for r in rates if r.gpu_type.lower() == name and r.tier == tier),
                  key=lambda r: r.usd_per_gpu_hour)


def reference_rate(rates: Sequence[GpuRate], gpu_type: str, tier: str = "on_demand") -> GpuRate | None:
    """The middle published rate of a GPU type and tier (the lower middle of an even count); None if none."""
    found = rates_for(rates, gpu_type, tier)
    return found[(len(found) - 1) // 2] if found else None
