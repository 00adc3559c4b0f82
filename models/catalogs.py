"""GPU and throughput catalogs in the database: seeded from the reference defaults, editable."""

from __future__ import annotations

from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.economics import catalog
from models.economics.contract import GpuOption


def seed_catalogs(conn: Connection) -> int:
    """Insert the reference GPU types and throughput rows that are missing; edits are kept."""
    added = 0
    for row in catalog.GPU_TYPES:
        added += conn.execute(sa.text(
            "INSERT INTO gpu_types (name, purchase_usd, rent_usd_per_gpu_hour, power_watts, source) "
            "VALUES (:n, :p, :r, :w, :s) ON CONFLICT (name) DO NOTHING"),
            {"n": row["gpu_type"], "p": row["purchase_usd"], "r": row["rent_usd_per_gpu_hour"],
             "w": row["tdp_watts"], "s": row["source"]}).rowcount
    for row in catalog.MODEL_THROUGHPUT:
        added += conn.execute(sa.text(
            "INSERT INTO model_throughput (model, gpu_type, tensor_parallel, input_tokens_per_s, "
            "output_tokens_per_s, source) VALUES (:m, :g, :tp, :i, :o, :s) "
            "ON CONFLICT (model, gpu_type, tensor_parallel) DO NOTHING"),
            {"m": row["model"], "g": row["gpu_type"], "tp": row["tensor_parallel"], "i": row["input_tokens_per_s"],
             "o": row["output_tokens_per_s"], "s": f"{row['source']}; {row['conversion_note']}"}).rowcount
    return added


def gpu_types(conn: Connection) -> pl.DataFrame:
    """Every GPU type with its purchase price (USD), rent (USD per GPU-hour) and power (W)."""
    rows = conn.execute(sa.text("SELECT name, purchase_usd, rent_usd_per_gpu_hour, power_watts, source "
                                "FROM gpu_types ORDER BY name")).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "gpu_type": pl.String, "purchase_usd": pl.Float64, "rent_usd_per_gpu_hour": pl.Float64,
        "power_watts": pl.Float64, "source": pl.String})


def model_throughput(conn: Connection) -> pl.DataFrame:
    """Every (model, GPU type, tensor-parallel size) with tokens per second per replica."""
    rows = conn.execute(sa.text("SELECT model, gpu_type, tensor_parallel, input_tokens_per_s, output_tokens_per_s, "
                                "source FROM model_throughput ORDER BY model, gpu_type, tensor_parallel")).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "model": pl.String, "gpu_type": pl.String, "tensor_parallel": pl.Int64, "input_tokens_per_s": pl.Float64,
        "output_tokens_per_s": pl.Float64, "source": pl.String})


def gpu_option(conn: Connection, gpu_type: str, model: str, tensor_parallel: int, pricing: str = "rent",
               **overrides: Any) -> GpuOption:
    """A GpuOption from the catalog rows in the database (edits included); overrides win."""
    g = conn.execute(sa.text("SELECT purchase_usd, rent_usd_per_gpu_hour, power_watts FROM gpu_types "
                             "WHERE lower(name) = lower(:n)"), {"n": gpu_type}).one_or_none()
    t = conn.execute(sa.text("SELECT input_tokens_per_s, output_tokens_per_s FROM model_throughput WHERE "
                             "lower(model) = lower(:m) AND lower(gpu_type) = lower(:g) AND tensor_parallel = :tp"),
                     {"m": model, "g": gpu_type, "tp": tensor_parallel}).one_or_none()
    if g is None or t is None:
        raise KeyError(f"no catalog row for {model} on {gpu_type} TP{tensor_parallel}")
    fields: dict[str, Any] = {
        "pricing": pricing, "ops_per_gpu_month": catalog.DEFAULT_OPS_PER_GPU_MONTH, "replica_gpus": tensor_parallel,
        "input_tokens_per_s": t[0], "output_tokens_per_s": t[1], "max_utilization": catalog.DEFAULT_MAX_UTILIZATION,
    }
    if pricing == "rent":
        fields["hourly_rate"] = float(g[1]) if g[1] is not None else None
    else:
        fields.update(purchase_price=float(g[0]) if g[0] is not None else None,
                      amortization_months=catalog.DEFAULT_AMORTIZATION_MONTHS, power_watts=g[2],
                      pue=catalog.DEFAULT_PUE, electricity_per_kwh=catalog.DEFAULT_ELECTRICITY_PER_KWH)
    fields.update(overrides)
    return GpuOption(**fields)
