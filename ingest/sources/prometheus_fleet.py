"""Fleet telemetry from Prometheus or Thanos: hourly dcgm-exporter aggregates -> GpuHourlyAggregate.

Instead of pulling raw samples, this asks the server for one aggregate per GPU (or MIG
instance) per step through ``/api/v1/query_range``: mean and max engine activity, the
share of the window above the busy threshold, mean power, peak framebuffer use. A point
at time t covers the window (t - step, t], so it is filed under the hour of t - step.
With a step under an hour (tests), the points of one hour are combined here, weighted
by the number of scrapes behind each.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx

from ingest.base import SourceError
from ingest.records import GpuHourlyAggregate
from models.bounds import Guard

MIB = 1024 * 1024
BY = "UUID, uuid, GPU_I_ID, Hostname, hostname, modelName"  # Hostname became hostname in 2026
MAX_POINTS = 10_000  # Prometheus refuses more than 11,000 points per series per query
BUSY_PCT = 5.0  # the same threshold as the raw rollup (models.rollups.BUSY_THRESHOLD_PCT)
GR = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"  # fraction 0..1, right under MIG
UTIL = "DCGM_FI_DEV_GPU_UTIL"  # percent, reads 0 under MIG: the fallback only


def fleet_queries(step_s: int) -> dict[str, str]:
    """The PromQL expressions, one per aggregate, for a window of step_s seconds."""
    w = f"{step_s}s"
    res = f"{max(1, min(60, step_s // 60))}s"  # subquery resolution for the busy share

    def agg(op: str, inner: str) -> str:
        return f"{op} by ({BY}) ({inner})"

    fb = lambda name: f"last_over_time(DCGM_FI_DEV_{name}[{w}])"  # noqa: E731
    return {
        "gr_mean": agg("avg", f"avg_over_time({GR}[{w}])") + " * 100",
        "gr_max": agg("max", f"max_over_time({GR}[{w}])") + " * 100",
        "gr_busy": agg("avg", f"avg_over_time(({GR} > bool {BUSY_PCT / 100})[{w}:{res}])"),
        "util_mean": agg("avg", f"avg_over_time({UTIL}[{w}])"),
        "util_max": agg("max", f"max_over_time({UTIL}[{w}])"),
        "util_busy": agg("avg", f"avg_over_time(({UTIL} > bool {BUSY_PCT})[{w}:{res}])"),
        "power": agg("avg", f"avg_over_time(DCGM_FI_DEV_POWER_USAGE[{w}])"),
        "fb_used_max": agg("max", f"max_over_time(DCGM_FI_DEV_FB_USED[{w}])"),
        "fb_total": agg("max", f"{fb('FB_USED')} + {fb('FB_FREE')} + ({fb('FB_RESERVED')} or {fb('FB_USED')} * 0)"),
        # scrapes behind the point; `or` keeps one count per GPU (count_over_time drops metric names)
        "samples": agg("max", f"count_over_time({GR}[{w}]) or count_over_time({UTIL}[{w}])"
                              f" or count_over_time(DCGM_FI_DEV_POWER_USAGE[{w}])"),
    }


def _number(text: str) -> float | None:
    value = float(text)
    return None if math.isnan(value) or math.isinf(value) else value


class _Hour:
    """The points of one GPU-hour, per aggregate, as (time, value) pairs."""

    def __init__(self, labels: dict[str, str]):
        self.labels = dict(labels)
        self.points: dict[str, list[tuple[float, float]]] = {}
        self.samples_by_t: dict[float, float] = {}

    def add(self, name: str, t: float, value: float) -> None:
        if name == "samples":
            self.samples_by_t[t] = value
        self.points.setdefault(name, []).append((t, value))

    def _mean(self, name: str) -> float | None:
        pts = self.points.get(name)
        if not pts:
            return None
        weights = [self.samples_by_t.get(t, 1.0) or 1.0 for t, _ in pts]
        return sum(v * w for (_, v), w in zip(pts, weights)) / sum(weights)

    def _max(self, name: str) -> float | None:
        pts = self.points.get(name)
        return max(v for _, v in pts) if pts else None

    def record(self, hour_at: datetime, uuid: str, mig: str) -> GpuHourlyAggregate:
        # Engine activity wins; GPU_UTIL only for whole GPUs (it reads 0 on MIG instances).
        prefix = "gr" if "gr_mean" in self.points else ("util" if not mig else None)
        mean = self._mean(f"{prefix}_mean") if prefix else None
        peak = self._max(f"{prefix}_max") if prefix else None
        busy = self._mean(f"{prefix}_busy") if prefix else None
        used, total = self._max("fb_used_max"), self._max("fb_total")
        return GpuHourlyAggregate(
            hour_at=hour_at, gpu_uuid=uuid, mig_instance=mig,
            host=self.labels.get("hostname") or self.labels.get("Hostname", ""),
            model_name=self.labels.get("modelName", ""),
            samples=int(sum(self.samples_by_t.values())),
            utilization_mean_pct=mean, utilization_max_pct=peak, busy_fraction=busy,
            power_mean_watts=self._mean("power"),
            memory_used_max_bytes=int(round(used * MIB)) if used is not None else None,
            memory_total_bytes=int(round(total * MIB)) if total is not None else None,
        )


class PrometheusFleetSource:
    """Hourly dcgm-exporter aggregates of a fleet from a Prometheus/Thanos query API."""

    name = "prometheus"

    def __init__(self, url: str, *, start: datetime, end: datetime, step_s: int = 3600,
                 client: httpx.Client | None = None, timeout_s: float = 60.0, accept: tuple[str, ...] = ()):
        self.guard = Guard(url, accept)
        if start.tzinfo is None or end.tzinfo is None:
            raise SourceError(url, "start and end must be timezone-aware")
        if step_s < 1:
            raise SourceError(url, "step must be at least 1 second", field="step")
        self.url, self.start, self.end, self.step_s = url.rstrip("/"), start, end, step_s
        self.client = client or httpx.Client(timeout=timeout_s)

    def _query_range(self, expr: str, start: datetime, end: datetime) -> list[dict]:
        where = f"{self.url}/api/v1/query_range"
        params = {"query": expr, "start": start.timestamp(), "end": end.timestamp(), "step": self.step_s}
        try:
            resp = self.client.get(where, params=params)
        except httpx.HTTPError as exc:
            raise SourceError(where, f"query failed: {type(exc).__name__}: {exc}") from exc
        try:
            body = resp.json()
        except ValueError as exc:
            raise SourceError(where, f"HTTP status {resp.status_code}, not JSON") from exc
        if resp.status_code != 200 or body.get("status") != "success":
            raise SourceError(where, f"HTTP status {resp.status_code}: {body.get('error', 'query refused')}")
        return body["data"]["result"]

    def _windows(self) -> Iterator[tuple[datetime, datetime]]:
        # The first point sits one step after start, so it covers [start, start + step).
        first, step = self.start + timedelta(seconds=self.step_s), timedelta(seconds=self.step_s)
        span = step * (MAX_POINTS - 1)
        while first <= self.end:
            last = min(first + span, self.end)
            yield first, last
            first = last + step

    def collect(self) -> Iterator[GpuHourlyAggregate]:
        """Yield one GpuHourlyAggregate per GPU (or MIG instance) per hour with data."""
        hours: dict[tuple[datetime, str, str], _Hour] = {}
        queries = fleet_queries(self.step_s)
        for lo, hi in self._windows():
            for name, expr in queries.items():
                for series in self._query_range(expr, lo, hi):
                    labels = series.get("metric", {})
                    uuid = labels.get("UUID") or labels.get("uuid") or ""
                    if not uuid:
                        continue
                    mig = labels.get("GPU_I_ID", "")
                    for t, text in series.get("values", []):
                        value = _number(text)
                        if value is None:
                            continue
                        covers = datetime.fromtimestamp(float(t) - self.step_s, UTC)
                        hour_at = covers.replace(minute=0, second=0, microsecond=0)
                        hour = hours.setdefault((hour_at, uuid, mig), _Hour(labels))
                        hour.add(name, float(t), value)
        for (hour_at, uuid, mig), hour in sorted(hours.items(), key=lambda kv: kv[0]):
            rec = hour.record(hour_at, uuid, mig)
            at = f"GPU {uuid} hour {hour_at:%Y-%m-%d %H:00}Z"
            for value, kind, name in ((rec.utilization_mean_pct, "utilization_pct", "utilization mean"),
                                      (rec.utilization_max_pct, "utilization_pct", "utilization max"),
                                      (rec.busy_fraction, "fraction", "busy fraction"),
                                      (rec.power_mean_watts, "power_watts", "DCGM_FI_DEV_POWER_USAGE mean"),
                                      (rec.memory_total_bytes, "memory_bytes", "framebuffer total")):
                self.guard.check(kind, value, field=f"{name} ({at})")
            yield rec

    def describe(self) -> str:
        """Say which server and window this is."""
        return (f"Prometheus {self.url} {self.start.isoformat()}..{self.end.isoformat()} step {self.step_s}s")
