"""GPU fleet charts: utilization heatmap, inference queue depth and KV cache."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from app.charts.common import empty, style


def _names(frame: pl.DataFrame) -> list[str]:
    """GPU names as people read them: the `gpu` column (host:index), else host:UUID-prefix."""
    if "gpu" in frame.columns:
        return frame["gpu"].to_list()
    return (frame["host"] + ":" + frame["gpu_uuid"].str.replace("GPU-", "").str.slice(0, 8)).to_list()


def utilization_heatmap(heat: pl.DataFrame, *, title: str = "GPU utilization per hour") -> go.Figure:
    """Heatmap: GPUs as host:index (rows) x UTC hours (columns), colour = mean utilization %; the UUID on hover."""
    if heat.is_empty():
        return empty(title, "No GPU telemetry in this period")
    uuid_of = dict(zip(heat["gpu"].to_list(), heat["gpu_uuid"].to_list())) if "gpu_uuid" in heat.columns else {}
    wide = heat.pivot(on="gpu", index="hour_at", values="utilization_mean_pct",
                      aggregate_function="mean").sort("hour_at")
    names = sorted((c for c in wide.columns if c != "hour_at"), key=_natural)
    hours = wide["hour_at"].to_list()
    fig = go.Figure(go.Heatmap(z=[wide[n].to_list() for n in names], x=hours, y=names,
                               customdata=[[uuid_of.get(n, n)] * len(hours) for n in names],
                               zmin=0, zmax=100, colorscale="Viridis", colorbar={"title": "% utilization"},
                               hovertemplate="%{y} (%{customdata})<br>%{x}<br>%{z:.0f} % utilization"
                                             "<extra></extra>"))
    fig = style(fig, title=title, x_title="Hour (UTC)", y_title="GPU (host:index)")
    fig.update_yaxes(automargin=True, autorange="reversed")
    fig.update_layout(height=max(300, 60 + 28 * len(names)))
    return fig


def _natural(name: str) -> tuple:
    """Sort key putting gpu-node-1:2 before gpu-node-1:10."""
    host, _, device = name.partition(":")
    head, _, mig = device.partition("/")
    return (host, int(head) if head.isdigit() else 10**6, head, mig)


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
    """Bars per GPU (host:index, UUID on hover): busy cost and idle cost (USD), stacked to the GPU's total cost."""
    if per_gpu.is_empty():
        return empty(title, "No GPU telemetry in this period")
    names = _names(per_gpu)
    uuids = per_gpu["gpu_uuid"].to_list()
    busy = (per_gpu["cost_usd"].fill_null(0) - per_gpu["idle_cost_usd"].fill_null(0)).to_list()
    fig = go.Figure()
    for values, name in ((busy, "Busy cost"), (per_gpu["idle_cost_usd"].fill_null(0).to_list(), "Idle cost")):
        fig.add_bar(x=names, y=values, name=name, customdata=uuids,
                    hovertemplate="%{x} (%{customdata})<br>$%{y:,.2f}<extra>" + name + "</extra>")
    fig.update_layout(barmode="stack")
    fig = style(fig, title=title, x_title="GPU (host:index)", y_title="Cost (USD)", money=True)
    fig.update_xaxes(automargin=True, tickangle=-30 if len(names) > 8 else 0)
    return fig


def sm_versus_utilization(gpus: pl.DataFrame, *, title: str = "Utilization beside SM activity per GPU") -> go.Figure:
    """Scatter: mean utilization % (x) against mean SM activity % (y); points far below the diagonal look busy."""
    if gpus.is_empty():
        return empty(title, "No GPU reported DCGM_FI_PROF_SM_ACTIVE in this period")
    fig = go.Figure([
        go.Scatter(x=[0, 100], y=[0, 100], mode="lines", line={"dash": "dot", "color": "grey"},
                   name="SMs as busy as utilization says", hoverinfo="skip"),
        go.Scatter(x=gpus["utilization_mean_pct"].to_list(), y=(gpus["sm_active_mean_frac"] * 100).to_list(),
                   mode="markers", name="GPU", text=_names(gpus),
                   hovertemplate="%{text}<br>%{x:.0f} % utilization<br>%{y:.0f} % of SMs active<extra></extra>"),
    ])
    fig = style(fig, title=title, x_title="Mean utilization (%)", y_title="Mean SM activity (%)")
    fig.update_xaxes(range=[0, 100])
    fig.update_yaxes(range=[0, 100])
    return fig
