"""The weekly report's GPU fleet section: use, cost and idle cost per GPU, saturation per endpoint.

Per-GPU figures and signals are the fleet queries' (`models.queries.fleet`), so the report and
the GPU fleet page agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.economics.sm_delivery import DELIVERY_SCHEMA, busy_looking_sentences, delivery_sentences
from models.queries.fleet import fleet_gpus
from models.queries.sm_activity import gpu_sm_activity, sm_delivery
from models.rollups import physical_gpu_hours

HOURS_PER_MONTH = 730
PER_GPU = {"host": pl.String, "gpu_uuid": pl.String, "gpu_hours": pl.Float64, "busy_share": pl.Float64,
           "util_p95_pct": pl.Float64, "cost_usd": pl.Float64, "idle_cost_usd": pl.Float64, "signals": pl.String}


@dataclass
class FleetSummary:
    """GPU fleet figures for one week: use, cost, idle cost and saturation signals."""

    gpu_hours: float = 0.0
    busy_gpu_hours: float = 0.0
    cost_usd: float | None = None
    idle_cost_usd: float | None = None
    unpriced_gpu_hours: float = 0.0
    by_host: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PER_GPU))
    saturation: pl.DataFrame = field(default_factory=pl.DataFrame)
    hourly: pl.DataFrame = field(default_factory=pl.DataFrame)
    source: str = ""
    sm_delivery: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=DELIVERY_SCHEMA))
    sm_lines: list[str] = field(default_factory=list)  # busy-looking GPUs and tokens per SM-active GPU, plainly

    @property
    def utilization(self) -> float | None:
        """Busy GPU-hours over GPU-hours; None without GPUs."""
        return self.busy_gpu_hours / self.gpu_hours if self.gpu_hours else None


GPU_HOURS = f"""
-- physical GPUs per hour (a MIG GPU once) and their busy share, instances weighted by their slices
SELECT hour_at, sum(gpu_hours) AS gpus,
       sum(weight * coalesce(busy_fraction, utilization_mean_pct / 100.0, 0)) / nullif(sum(gpu_hours), 0) AS busy
FROM ({physical_gpu_hours("g.hour_at >= :since AND g.hour_at < :until")}) g GROUP BY hour_at ORDER BY hour_at
"""
SATURATION = """
SELECT endpoint, model_name, coalesce(max(workload), '') AS workload,
       sum(prompt_tokens + generation_tokens) AS tokens,
       count(*) FILTER (WHERE saturated_seconds > 0) AS saturated_hours,
       max(requests_waiting_max) AS queue_max, max(kv_cache_max_frac) AS kv_cache_max
FROM inference_hourly WHERE hour_at >= :since AND hour_at < :until
GROUP BY endpoint, model_name ORDER BY endpoint, model_name
"""


def _fleet_per_gpu(conn: Connection, params: dict[str, datetime]) -> pl.DataFrame:
    gpus = fleet_gpus(conn, params["since"], params["until"])
    rows = []
    for r in gpus.iter_rows(named=True):
        rate, hours = r["gpu_hour_cost_usd"], float(r["hours"])
        label = r["gpu_uuid"] + (f"/{r['mig_instance']}" if r.get("mig_instance") else "")
        rows.append((r["host"] or "", label, hours, r["busy_hours"] / hours if hours else None, r["utilization_p95"],
                     None if rate is None else rate * hours, r["idle_cost_usd"], ", ".join(r["signals"] or [])))
    return pl.DataFrame(rows, orient="row", schema=PER_GPU).sort(["host", "gpu_uuid"])


def fleet_week(conn: Connection, since: datetime, until: datetime) -> FleetSummary:
    """GPU-hours, busy share, cost and idle cost per GPU, busy share per hour, saturation, SM activity against tokens."""
    params = {"since": since, "until": until}
    per_gpu = _fleet_per_gpu(conn, params)
    out = FleetSummary(by_host=per_gpu, source="fleet queries")
    out.gpu_hours = float(per_gpu["gpu_hours"].sum()) if per_gpu.height else 0.0
    busy = (per_gpu["gpu_hours"] * per_gpu["busy_share"].fill_null(0)).sum() if per_gpu.height else 0.0
    out.busy_gpu_hours = float(busy)
    priced = per_gpu.filter(pl.col("cost_usd").is_not_null())
    out.unpriced_gpu_hours = out.gpu_hours - (float(priced["gpu_hours"].sum()) if priced.height else 0.0)
    if priced.height:
        out.cost_usd = float(priced["cost_usd"].sum())
        out.idle_cost_usd = float(priced["idle_cost_usd"].fill_null(0).sum())
    out.hourly = pl.DataFrame([tuple(r) for r in conn.execute(sa.text(GPU_HOURS), params).all()], orient="row",
                              schema={"hour_at": pl.Datetime("us", "UTC"), "gpus": pl.Int64, "busy": pl.Float64})
    out.saturation = pl.DataFrame([tuple(r) for r in conn.execute(sa.text(SATURATION), params).all()], orient="row",
                                  schema={"endpoint": pl.String, "model": pl.String, "workload": pl.String,
                                          "tokens": pl.Float64, "saturated_hours": pl.Int64,
                                          "queue_max": pl.Float64, "kv_cache_max": pl.Float64})
    out.sm_delivery = sm_delivery(conn, since, until)
    out.sm_lines = busy_looking_sentences(gpu_sm_activity(conn, since, until)) + delivery_sentences(out.sm_delivery)
    return out
