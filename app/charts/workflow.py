"""Workflow-discipline charts: savings by lever, ranked; saturation (429s and latency)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from app.charts.common import empty, style

LEVERS = [("repeat_savings_usd", "Cache repeats"), ("batch_savings_usd", "Batch API"),
          ("reasoning_savings_usd", "Route to a cheap model")]


def savings_ranked(card: pl.DataFrame, *, title: str = "Savings on the table, by lever") -> go.Figure:
    """Stacked horizontal bars of USD per group and lever (cache, batch, route), biggest total on top."""
    if card.is_empty() or float(card["total_savings_usd"].cast(pl.Float64).sum()) == 0:
        return empty(title, "No savings found in this period")
    frame = card.sort("total_savings_usd")
    fig = go.Figure()
    for column, name in LEVERS:
        values = frame[column].cast(pl.Float64).fill_null(0).to_list()
        fig.add_bar(x=values, y=frame["group"].to_list(), name=name, orientation="h",
                    hovertemplate="%{y}: $%{x:,.2f}<extra>" + name + "</extra>")
    fig.update_layout(barmode="stack")
    return style(fig, title=title, x_title="Savings in the period (USD), levers in order cache → batch → route",
                 y_title="", money=False)


def saturation(card: pl.DataFrame, *, title: str = "Token-side saturation") -> go.Figure:
    """Latency p50 and p95 (ms) per group as bars, with the share of 429 answers as text."""
    frame = card.filter(pl.col("latency_p95_ms").is_not_null() | (pl.col("rate_limited_share") > 0))
    if frame.is_empty():
        return empty(title, "No latency or status codes in these requests")
    frame = frame.sort("group")
    groups = frame["group"].to_list()
    rate = [f"429: {v * 100:.1f} %" if v is not None else "429: n/m" for v in frame["rate_limited_share"].to_list()]
    fig = go.Figure()
    fig.add_bar(x=groups, y=frame["latency_p50_ms"].to_list(), name="p50 latency",
                hovertemplate="%{x}: %{y:,.0f} ms<extra>p50</extra>")
    fig.add_bar(x=groups, y=frame["latency_p95_ms"].to_list(), name="p95 latency", text=rate,
                textposition="outside", hovertemplate="%{x}: %{y:,.0f} ms<extra>p95</extra>")
    fig.update_layout(barmode="group")
    return style(fig, title=title, x_title="", y_title="Latency (ms)")
