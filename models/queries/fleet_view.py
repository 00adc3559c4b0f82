"""Fleet page figures from the frames of `models.queries.fleet` (pure polars; no SQL here)."""

from __future__ import annotations

import polars as pl


def with_costs(gpus: pl.DataFrame) -> pl.DataFrame:
    """Add cost_usd = USD per GPU-hour x hours with utilization known (null when the GPU has no cost profile)."""
    return gpus.with_columns((pl.col("gpu_hour_cost_usd") * pl.col("hours")).alias("cost_usd"))


def fleet_totals(gpus: pl.DataFrame) -> dict[str, float | int | None]:
    """GPU count, GPU-hours, mean utilization % (hour-weighted), cost and idle cost (USD), unpriced GPU-hours."""
    if gpus.is_empty():
        return {"gpus": 0, "gpu_hours": 0, "utilization_pct": None, "cost_usd": 0.0, "idle_cost_usd": 0.0,
                "unpriced_gpu_hours": 0}
    costed = with_costs(gpus)
    hours = int(costed["hours"].sum())
    weighted = (costed["utilization_mean"].fill_null(0) * costed["hours"]).sum()
    return {"gpus": costed.height, "gpu_hours": hours, "utilization_pct": float(weighted / hours) if hours else None,
            "cost_usd": float(costed["cost_usd"].fill_null(0).sum()),
            "idle_cost_usd": float(costed["idle_cost_usd"].fill_null(0).sum()),
            "unpriced_gpu_hours": int(costed.filter(pl.col("gpu_hour_cost_usd").is_null())["hours"].sum())}


def signal_rows(gpus: pl.DataFrame, pressure: pl.DataFrame, breakeven_util_pct: float) -> pl.DataFrame:
    """One row per signal: 'add capacity' per saturated endpoint or hot GPU, 'below breakeven' per idle GPU."""
    rows: list[dict] = []
    for r in pressure.filter(pl.col("saturated")).iter_rows(named=True):
        rows.append({"signal": "add capacity", "subject": r["endpoint"],
                     "why": f"requests queued in {r['queued_hours']} hours; KV cache peak "
                            f"{(r['kv_cache_max_frac'] or 0) * 100:.0f} %"})
    for r in gpus.iter_rows(named=True):
        subject = r.get("gpu") or (f"{r['host']} / {r['gpu_uuid']}" + (f":{r['mig_instance']}" if r["mig_instance"] else ""))
        if "add_capacity" in (r["signals"] or []):
            rows.append({"signal": "add capacity", "subject": subject,
                         "why": f"p95 utilization {r['utilization_p95'] or 0:.0f} % or its host's endpoint is saturated"})
        if "below_breakeven" in (r["signals"] or []):
            rows.append({"signal": "below breakeven", "subject": subject,
                         "why": f"mean utilization {r['utilization_mean'] or 0:.0f} % < {breakeven_util_pct:.0f} %"})
    return pl.DataFrame(rows, schema={"signal": pl.String, "subject": pl.String, "why": pl.String})


def saturated_throughput(saturation: pl.DataFrame) -> pl.DataFrame:
    """Per endpoint: hours with a saturated measurement and generation tok/s per replica at saturation (median)."""
    if saturation.is_empty():
        return pl.DataFrame(schema={"endpoint": pl.String, "model_name": pl.String, "saturated_hours": pl.Float64,
                                    "generation_tokens_per_s": pl.Float64})
    return (saturation.group_by("endpoint", "model_name")
            .agg((pl.col("saturated_seconds").sum() / 3600).alias("saturated_hours"),
                 pl.col("capacity_tokens_per_s").first().alias("generation_tokens_per_s"))
            .sort("endpoint"))
