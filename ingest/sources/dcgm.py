"""dcgm-exporter scrapes (Prometheus text) -> GpuSample, one per GPU or MIG instance.

Units as DCGM exports them: power in W, energy in mJ, framebuffer in MiB, the
``PROF_*`` activity metrics as fractions 0..1 and ``GPU_UTIL`` as a percentage.
A scrape carries no time of its own, so the caller gives ``at`` (else a file's
mtime, or the fetch time for a URL).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ingest.base import SourceError
from ingest.records import GpuSample
from ingest.sources._common import decode_text
from models.bounds import Guard

MIB = 1024 * 1024
SENTINEL_MIN = 9.22e18  # DCGM writes blank/unsupported values as huge ints
FETCH_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Scrape:
    """The text of one Prometheus scrape, when it was taken and where it came from."""

    text: str
    at: datetime
    where: str
    digest: str = field(default="")


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _strip_doc_excerpt(text: str) -> str:
    # Samples copied from docs carry shell prompts ("$ curl ...") and "..." elisions;
    # neither can be a valid exposition line, so dropping them loses nothing.
    keep = [ln for ln in text.splitlines() if not ln.startswith("$ ") and ln.strip() != "..."]
    return "\n".join(keep) + "\n"


def _check_at(at: datetime | None, where: str) -> datetime | None:
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise SourceError(where, "at must be timezone-aware", field="at")
    return at.astimezone(UTC) if at is not None else None


def read_scrape(text_or_url: str | os.PathLike, at: datetime | None = None, *, timeout: float = FETCH_TIMEOUT_S) -> Scrape:
    """Fetch a URL, read a file or take raw text; settle the scrape time (at > mtime > fetch time)."""
    value = os.fspath(text_or_url) if isinstance(text_or_url, os.PathLike) else text_or_url
    if _is_url(value):
        at = _check_at(at, value)
        try:
            resp = httpx.get(value, timeout=timeout, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise SourceError(value, f"fetch failed: {type(exc).__name__}: {exc}") from exc
        if resp.status_code != 200:
            raise SourceError(value, f"HTTP status {resp.status_code}")
        fetched = datetime.now(UTC)
        return Scrape(decode_text(resp.content, value), at or fetched, value, hashlib.sha256(resp.content).hexdigest())
    if "\n" not in value and Path(value).is_file():
        path = Path(value)
        at = _check_at(at, value)
        raw = path.read_bytes()
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return Scrape(decode_text(raw, str(path)), at or mtime, str(path), hashlib.sha256(raw).hexdigest())
    if "\n" not in value and " " not in value and "{" not in value:
        raise SourceError(value, "no such file, and not a URL or Prometheus text")
    at = _check_at(at, "<text>")
    if at is None:
        raise SourceError("<text>", "a scrape has no time of its own: pass at=", field="at")
    return Scrape(value, at, "<text>", hashlib.sha256(value.encode()).hexdigest())


def iter_samples(scrape: Scrape) -> Iterator[tuple[str, dict[str, str], float]]:
    """Yield (sample name, labels, value) from the scrape, parsed by prometheus_client."""
    try:
        for family in text_string_to_metric_families(_strip_doc_excerpt(scrape.text)):
            for s in family.samples:
                yield s.name, s.labels, s.value
    except ValueError as exc:
        raise SourceError(scrape.where, f"not Prometheus text: {exc}") from exc


def clean_value(value: float | None) -> float | None:
    """None for NaN, infinities and DCGM's huge-integer sentinels; else the value."""
    if value is None or math.isnan(value) or math.isinf(value) or abs(value) >= SENTINEL_MIN:
        return None
    return float(value)


_FIELDS = {
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": "gr_active",
    "DCGM_FI_PROF_SM_ACTIVE": "sm_active",
    "DCGM_FI_DEV_GPU_UTIL": "gpu_util",
    "DCGM_FI_DEV_POWER_USAGE": "power",
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": "energy",
    "DCGM_FI_DEV_FB_USED": "fb_used",
    "DCGM_FI_DEV_FB_FREE": "fb_free",
    "DCGM_FI_DEV_FB_RESERVED": "fb_reserved",
    "DCGM_FI_DEV_GPU_TEMP": "temp",
    "DCGM_FI_DEV_SM_CLOCK": "sm_clock",
}


# What each field is checked against (the raw value, in DCGM's own unit), and the metric to name.
_CHECKS = {
    "gr_active": ("fraction", "DCGM_FI_PROF_GR_ENGINE_ACTIVE"), "sm_active": ("fraction", "DCGM_FI_PROF_SM_ACTIVE"),
    "gpu_util": ("utilization_pct", "DCGM_FI_DEV_GPU_UTIL"), "power": ("power_watts", "DCGM_FI_DEV_POWER_USAGE"),
    "energy": ("energy_mj", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"), "temp": ("temperature_c", "DCGM_FI_DEV_GPU_TEMP"),
    "sm_clock": ("clock_mhz", "DCGM_FI_DEV_SM_CLOCK"),
}


def check_scrape_time(scrape: Scrape, guard: Guard) -> None:
    """A scrape dated 1970 (a zero mtime) or in the future is refused unless accepted."""
    guard.time("observed_at", scrape.at, field="at (the scrape time: --at, else the file's mtime)")


def _utilization(v: dict[str, float | None], is_mig: bool) -> float | None:
    for key in ("gr_active", "sm_active"):
        if v.get(key) is not None:
            return v[key] * 100.0
    if not is_mig:  # GPU_UTIL reads 0 under MIG: a wrong zero is worse than none
        return v.get("gpu_util")
    return None


def _memory(v: dict[str, float | None]) -> tuple[int | None, int | None]:
    used, free, reserved = v.get("fb_used"), v.get("fb_free"), v.get("fb_reserved")
    used_b = int(round(used * MIB)) if used is not None else None
    if used is None or free is None:
        return used_b, None
    return used_b, int(round((used + free + (reserved or 0.0)) * MIB))


class DcgmSource:
    """One dcgm-exporter scrape (URL, file or text) as GpuSamples keyed by (UUID, GPU_I_ID)."""

    name = "dcgm"

    def __init__(self, text_or_url: str | os.PathLike, *, at: datetime | None = None, host_default: str = "",
                 accept: tuple[str, ...] = ()):
        self.text_or_url, self.at, self.host_default = text_or_url, at, host_default
        self._scrape: Scrape | None = None
        self.guard = Guard(os.fspath(text_or_url) if isinstance(text_or_url, os.PathLike) else str(text_or_url)[:200],
                           accept)

    def _load(self) -> Scrape:
        if self._scrape is None:
            self._scrape = read_scrape(self.text_or_url, self.at)
        return self._scrape

    def collect(self) -> Iterator[GpuSample]:
        """Yield one GpuSample per physical GPU or MIG instance found in the scrape."""
        scrape = self._load()
        self.guard.where = scrape.where
        check_scrape_time(scrape, self.guard)
        values: dict[tuple[str, str], dict[str, float | None]] = {}
        labels: dict[tuple[str, str], dict[str, str]] = {}
        for metric, lab, value in iter_samples(scrape):
            # prometheus_client appends "_total" to counter samples that lack it
            key_name = _FIELDS.get(metric) or _FIELDS.get(metric.removesuffix("_total"))
            if key_name is None:
                continue
            uuid = lab.get("UUID") or lab.get("uuid") or ""
            if not uuid:
                continue  # 1.x exporter or a series not tied to a GPU
            key = (uuid, lab.get("GPU_I_ID", ""))
            cleaned = clean_value(value)
            if key_name in _CHECKS:
                kind, name = _CHECKS[key_name]
                self.guard.check(kind, cleaned, field=f"{name} (GPU {uuid})")
            values.setdefault(key, {})[key_name] = cleaned
            merged = labels.setdefault(key, {})
            for name, text in lab.items():
                if text and not merged.get(name):
                    merged[name] = text
        if not values:
            raise SourceError(scrape.where, "no GPU series in the scrape (no DCGM_FI_* metric with a UUID label): "
                              "is this a dcgm-exporter /metrics page?")
        partitioned = {uuid for uuid, instance in values if instance}
        for key in values:
            uuid, instance = key
            v, lab = values[key], labels[key]
            used, total = _memory(v)
            gpu = lab.get("gpu", "")
            yield GpuSample(
                sampled_at=scrape.at,
                host=lab.get("hostname") or lab.get("Hostname") or self.host_default,
                gpu_uuid=uuid,
                source=self.name,
                mig_instance=instance,
                mig_profile=lab.get("GPU_I_PROFILE", "") if instance else "",
                gpu_index=int(gpu) if gpu.isdigit() else None,
                model_name=lab.get("modelName", ""),
                # a MIG parent's GPU_UTIL reads 0: only its profiling metrics (if any) say anything
                utilization_pct=_utilization(v, is_mig=bool(instance) or uuid in partitioned),
                memory_used_bytes=used,
                memory_total_bytes=total,
                power_watts=v.get("power"),
                energy_mj=v.get("energy"),
                temperature_c=v.get("temp"),
                sm_clock_mhz=v.get("sm_clock"),
                namespace=lab.get("namespace", ""),
                pod=lab.get("pod", ""),
                container=lab.get("container", ""),
                sm_active_frac=v.get("sm_active"),
            )

    def describe(self) -> str:
        """Say which scrape this is: its URL or file, its time and its SHA-256."""
        s = self._load()
        return f"dcgm-exporter scrape {s.where} at {s.at.isoformat()} sha256={s.digest[:16]}"
