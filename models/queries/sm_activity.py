"""SM activity beside utilisation, and beside the tokens the GPUs' vLLM servers produced.

`gpu_sm_activity` gives per physical GPU its mean utilisation (engine-active, else
DCGM_FI_DEV_GPU_UTIL) and its mean SM activity (DCGM_FI_PROF_SM_ACTIVE), hours where both exist.

`endpoint_sm_hours` maps each inference endpoint to GPUs, hour by hour, with what the schema holds
(inference_samples carry only the endpoint, the model and the engine; gpu_samples carry host, pod,
namespace and container):
1. **pod**: the GPUs whose Kubernetes ``pod`` label (dcgm-exporter in Kubernetes mode) equals the
   endpoint as recorded (``--endpoint`` names the pod) or its host part;
2. **host**: else every GPU reporting the endpoint's host (the host of its URL, or the part before
   ``:port``) that hour. Endpoints on one host share its GPUs, so they are taken together: one row
   per GPU set and hour, tokens summed over its endpoints, never the host's SMs counted twice.
   GPUs on that host doing other work count against the endpoints: the host is the finest unit
   the data supports without pod labels.
3. **none**: an endpoint recorded as a file or text (no host), or whose host no GPU reports, cannot
   be mapped; it is listed with mapping "none" and no figures.

`reference_rates` finds the model's curve for each GPU set: output tokens per second per GPU at
saturation, from the workload's plan (its entered rates, else the catalog row of its model, GPU
type and tensor-parallel size), else the catalog row of the endpoint's own model on the GPU type
its GPUs report (lowest tensor-parallel size). The arithmetic is models/economics/sm_delivery.py.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlparse

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.economics.sm_delivery import delivery
from models.queries.fleet import cost_profiles, gpu_hour_cost_usd, match_profile
from models.rollups import physical_gpu_hours

_HOST_PORT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9.-]*):\d+$")

_PHYSICAL = f"""
SELECT hour_at, gpu_uuid, max(host) AS host, max(pod) AS pod, max(model_name) AS gpu_model,
       CASE WHEN count(utilization_mean_pct) FILTER (WHERE weight > 0) > 0
            THEN sum(utilization_mean_pct * weight) FILTER (WHERE weight > 0) END AS utilization_pct,
       CASE WHEN count(sm_active_mean_frac) FILTER (WHERE weight > 0) > 0
            THEN least(sum(sm_active_mean_frac * weight) FILTER (WHERE weight > 0), 1.0) END AS sm_active_frac
FROM ({physical_gpu_hours("g.hour_at >= :since AND g.hour_at < :until")}) p
GROUP BY hour_at, gpu_uuid
"""

_PER_GPU = f"""
WITH h AS ({_PHYSICAL})
SELECT gpu_uuid, '' AS mig_instance, max(host) AS host, max(gpu_model) AS gpu_model, count(*) AS hours,
       avg(utilization_pct) AS utilization_mean_pct, avg(sm_active_frac) AS sm_active_mean_frac
FROM h WHERE utilization_pct IS NOT NULL AND sm_active_frac IS NOT NULL
GROUP BY gpu_uuid ORDER BY 2, 1
"""

_SETS = f"""
WITH ep AS (
    SELECT * FROM unnest(CAST(:endpoints AS text[]), CAST(:hosts AS text[])) AS e(endpoint, host)
), h AS MATERIALIZED ({_PHYSICAL}),
inf AS (
    SELECT i.hour_at, i.endpoint, ep.host, max(i.workload) AS workload, string_agg(DISTINCT i.model_name, ', ')
           AS model_name, sum(i.prompt_tokens) AS prompt_tokens, sum(i.generation_tokens) AS generation_tokens
    FROM inference_hourly i JOIN ep ON ep.endpoint = i.endpoint
    WHERE i.hour_at >= :since AND i.hour_at < :until
    GROUP BY 1, 2, 3
), by_pod AS (
    SELECT hour_at, pod, count(*) AS gpus FROM h WHERE pod <> '' GROUP BY 1, 2
), mapped AS (
    SELECT inf.*, CASE WHEN p1.gpus IS NOT NULL THEN 'pod:' || inf.endpoint
                       WHEN p2.gpus IS NOT NULL THEN 'pod:' || inf.host
                       WHEN inf.host <> '' AND EXISTS (SELECT 1 FROM h WHERE h.hour_at = inf.hour_at
                                                       AND h.host = inf.host) THEN 'host:' || inf.host
                       ELSE 'none:' || inf.endpoint END AS gpu_set
    FROM inf
    LEFT JOIN by_pod p1 ON p1.hour_at = inf.hour_at AND p1.pod = inf.endpoint
    LEFT JOIN by_pod p2 ON p2.hour_at = inf.hour_at AND p2.pod = inf.host AND inf.host <> ''
), sets AS (
    SELECT hour_at, gpu_set, string_agg(DISTINCT endpoint, ', ') AS endpoints,
           string_agg(DISTINCT nullif(workload, ''), ', ') AS workload, string_agg(DISTINCT model_name, ', ')
           AS model_name, sum(prompt_tokens) AS prompt_tokens, sum(generation_tokens) AS generation_tokens
    FROM mapped WHERE gpu_set NOT LIKE 'none:%' OR generation_tokens > 0  -- an unmapped idle hour says nothing
    GROUP BY 1, 2
)
SELECT s.hour_at, split_part(s.gpu_set, ':', 1) AS mapping, substr(s.gpu_set, strpos(s.gpu_set, ':') + 1) AS target,
       s.endpoints, coalesce(s.workload, '') AS workload, s.model_name, s.prompt_tokens, s.generation_tokens,
       count(h.gpu_uuid) AS gpus, max(h.host) AS host, max(h.gpu_model) AS gpu_model,
       count(h.sm_active_frac) AS gpus_with_sm, sum(h.sm_active_frac) AS sm_active_gpus,
       avg(h.utilization_pct) AS utilization_mean_pct
FROM sets s
LEFT JOIN h ON h.hour_at = s.hour_at AND (
    (s.gpu_set LIKE 'pod:%' AND h.pod = substr(s.gpu_set, 5))
    OR (s.gpu_set LIKE 'host:%' AND h.host = substr(s.gpu_set, 6)))
GROUP BY s.hour_at, s.gpu_set, s.endpoints, s.workload, s.model_name, s.prompt_tokens, s.generation_tokens
ORDER BY 2, 3, 1
"""

GPU_SCHEMA = {"gpu_uuid": pl.String, "mig_instance": pl.String, "host": pl.String, "gpu_model": pl.String, "hours": pl.Int64,
              "utilization_mean_pct": pl.Float64, "sm_active_mean_frac": pl.Float64}
SET_SCHEMA = {"hour_at": pl.Datetime("us", "UTC"), "mapping": pl.String, "target": pl.String, "endpoints": pl.String,
              "workload": pl.String, "model_name": pl.String, "prompt_tokens": pl.Float64,
              "generation_tokens": pl.Float64, "gpus": pl.Int64, "host": pl.String, "gpu_model": pl.String,
              "gpus_with_sm": pl.Int64, "sm_active_gpus": pl.Float64, "utilization_mean_pct": pl.Float64}
REFERENCE_SCHEMA = {"workload": pl.String, "model_name": pl.String, "gpu_model": pl.String,
                    "input_tokens_per_s_per_gpu": pl.Float64, "output_tokens_per_s_per_gpu": pl.Float64,
                    "reference_source": pl.String}


def endpoint_host(endpoint: str) -> str:
    """The host an endpoint runs on: its URL's host, or the part before ':port'; '' for a file or text."""
    if "://" in endpoint:
        return urlparse(endpoint).hostname or ""
    match = _HOST_PORT.match(endpoint)
    if match:
        return match.group(1)
    return "" if "/" in endpoint or endpoint.startswith("<") or not endpoint else endpoint


def gpu_sm_activity(conn: Connection, since: datetime, until: datetime) -> pl.DataFrame:
    """Per physical GPU (mig_instance '': a MIG GPU once): hours with both readings, mean utilisation and SM activity."""
    rows = conn.execute(sa.text(_PER_GPU), {"since": since, "until": until}).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema=GPU_SCHEMA)


def endpoint_sm_hours(conn: Connection, since: datetime, until: datetime) -> pl.DataFrame:
    """Per GPU set (the endpoints mapped to one pod or host) and hour: tokens, GPUs, SM-active GPUs, utilisation."""
    endpoints = conn.execute(sa.text("SELECT DISTINCT endpoint FROM inference_hourly WHERE hour_at >= :s "
                                     "AND hour_at < :u ORDER BY 1"), {"s": since, "u": until}).scalars().all()
    if not endpoints:
        return pl.DataFrame(schema=SET_SCHEMA)
    params = {"since": since, "until": until, "endpoints": list(endpoints),
              "hosts": [endpoint_host(e) for e in endpoints]}
    rows = conn.execute(sa.text(_SETS), params).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema=SET_SCHEMA)


def _catalog_row(catalog: list[dict], model: str, gpu_model: str, tp: int | None) -> dict | None:
    """The catalog row of `model` on the GPU type whose name appears in `gpu_model` (longest name first)."""
    rows = [r for r in catalog if r["model"].lower() == (model or "").lower()
            and r["gpu_type"] and r["gpu_type"].lower() in (gpu_model or "").lower()
            and (tp is None or r["tensor_parallel"] == tp)]
    rows.sort(key=lambda r: (-len(r["gpu_type"]), r["tensor_parallel"]))
    return rows[0] if rows else None


def _per_gpu(row: dict, tp: int, source: str) -> tuple[float, float, str]:
    return row["input_tokens_per_s"] / tp, row["output_tokens_per_s"] / tp, source


def reference_rates(conn: Connection, sets: pl.DataFrame) -> pl.DataFrame:
    """Per (workload, model, GPU model) of the sets: the model's saturation rates per GPU, and where they come from."""
    catalog = [dict(r) for r in conn.execute(sa.text(
        "SELECT model, gpu_type, tensor_parallel, input_tokens_per_s, output_tokens_per_s FROM model_throughput"
    )).mappings()]
    plans = {r["workload"]: dict(r) for r in conn.execute(sa.text(
        "SELECT workload, model, gpu_type, tensor_parallel, input_tokens_per_s, output_tokens_per_s "
        "FROM workload_plans WHERE choice = 'self_host'")).mappings()}
    out = []
    for workload, model, gpu_model in sets.select("workload", "model_name", "gpu_model").unique().iter_rows():
        found = None
        plan = plans.get(workload or "")
        if plan and plan["input_tokens_per_s"] and plan["output_tokens_per_s"] and plan["tensor_parallel"]:
            found = _per_gpu(plan, plan["tensor_parallel"], f"the plan of {workload}: its entered rates per replica "
                             f"/ TP{plan['tensor_parallel']}")
        elif plan and plan["model"] and plan["tensor_parallel"]:
            row = _catalog_row(catalog, plan["model"], plan["gpu_type"] or "", plan["tensor_parallel"])
            if row:
                found = _per_gpu(row, row["tensor_parallel"], f"the plan of {workload}: {row['model']} on "
                                 f"{row['gpu_type']} TP{row['tensor_parallel']} in the throughput catalog, per GPU")
        if found is None:
            row = _catalog_row(catalog, model or "", gpu_model or "", None)
            if row:
                found = _per_gpu(row, row["tensor_parallel"], f"{row['model']} on {row['gpu_type']} "
                                 f"TP{row['tensor_parallel']} in the throughput catalog, per GPU")
        if found is not None:
            out.append((workload, model, gpu_model, *found))
    return pl.DataFrame(out, orient="row", schema=REFERENCE_SCHEMA)


def gpu_hour_costs(conn: Connection, hosts: list[str]) -> pl.DataFrame:
    """USD per GPU-hour of each host's cost profile (null when it has none or the profile lacks a figure)."""
    profiles = cost_profiles(conn)
    rates = []
    for host in hosts:
        profile = match_profile(host or "", profiles)
        rates.append(gpu_hour_cost_usd(profile) if profile else None)
    return pl.DataFrame({"host": hosts, "usd_per_gpu_hour": rates}, schema={"host": pl.String,
                                                                          "usd_per_gpu_hour": pl.Float64})


def sm_delivery(conn: Connection, since: datetime, until: datetime) -> pl.DataFrame:
    """Per GPU set over [since, until): economics.sm_delivery.delivery of its hours, curve and GPU-hour cost."""
    sets = endpoint_sm_hours(conn, since, until)
    hosts = sorted({h for h in sets["host"].to_list() if h})
    return delivery(sets, reference_rates(conn, sets), gpu_hour_costs(conn, hosts))
