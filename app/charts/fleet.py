"""GPU fleet charts: utilization heatmap, inference queue depth and KV cache."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from app.charts.common import empty, style


def utilization_heatmap(heat: pl.DataFrame, *, title: str = "GPU utilization per hour") -> go.Figure:
    """Heatmap: GPUs (rows) x UTC hours (columns), colour = mean utilization % (a `gpu_heatmap` frame)."""
    if heat.is_empty():
        return empty(title, "No GPU telemetry in this period")
    frame = heat.with_columns(pl.col("gpu").str.slice(0, 40))
    wide = frame.pivot(on="gpu", index="hour_at", values="utilization_mean_pct",
                       aggregate_function="mean").sort("hour_at")
    names = sorted(c for c in wide.columns if c != "hour_at")
    fig = go.Figure(go.Heatmap(z=[wide[n].to_list() for n in names], x=wide["hour_at"].to_list(), y=names,
                               zmin=0, zmax=100, colorscale="Viridis", colorbar={"title": "% utilization"},
                               hovertemplate="%{y}<br>%{x}<br>%{z:.0f} % utilization<extra></extra>"))
    return style(fig, title=title, x_title="Hour (UTC)", y_title="GPU")


def queue_and_kv(inference: pl.DataFrame, *, title: str = "Inference queue depth and KV cache") -> go.Figure:
    """Per hour: mean and max waiting requests (left axis) and peak KV cache use (%, right axis)."""
    if inference.is_empty():
        return empty(title, "No inference-engine metrics in this period")
    frame = inference.rename({"hour_at": "hour"}).group_by("hour").agg(pl.col("requests_waiting_mean").sum(), pl.col("requests_waiting_max").max(),
                                           pl.col("kv_cache_max_frac").max()).sort("hour")
    fig = go.Figure()
    fig.add_scatter(x=frame["hour"].to_list(), y=frame["requests_waiting_mean"].to_list(), name="Queue depth (mean)",
                    mode="lines")
    fig.add_scatter(x=frame["hour"].to_list(), y=frame["requests_waiting_max"].to_list(), name="Queue depth (max)",
                    mode="lines", line={"dash": "dot"})
    fig.add_scatter(x=frame["hour"].to_list(), y=(frame["kv_cache_max_frac"] * 100).to_list(),
                    name="KV cache peak (%)", mode="lines", yaxis="y2")
    fig = style(fig, title=title, x_title="Hour (UTC)", y_title="Waiting requests")
    fig.update_layout(yaxis2={"title": {"text": "KV cache used (%)"}, "overlaying": "y", "side": "right",
                              "range": [0, 100], "ticksuffix": " %", "showgrid": False})
    return fig


def idle_cost_by_gpu(per_gpu: pl.DataFrame, *, title: str = "Cost and idle cost per GPU") -> go.Figure:
    """Bars per GPU: busy cost and idle cost (USD), stacked to the GPU's total cost."""
    if per_gpu.is_empty():
        return empty(title, "No GPU telemetry in this period")
    names = (per_gpu["host"] + " / " + per_gpu["gpu_uuid"].str.slice(0, 12)).to_list()
    busy = (per_gpu["cost_usd"].fill_null(0) - per_gpu["idle_cost_usd"].fill_null(0)).to_list()
    fig = go.Figure()
    fig.add_bar(x=names, y=busy, name="Busy cost")
    fig.add_bar(x=names, y=per_gpu["idle_cost_usd"].fill_null(0).to_list(), name="Idle cost")
    fig.update_layout(barmode="stack")
    return style(fig, title=title, x_title="GPU", y_title="Cost (USD)", money=True)
