"""Spend charts."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from app.charts.common import empty, style


def spend_over_time(daily: pl.DataFrame, *, color: str = "provider", title: str = "Token spend per day") -> go.Figure:
    """Stacked bars of USD per UTC day, one colour per value of `color`."""
    if daily.is_empty():
        return empty(title, "No token spend in this period")
    frame = (daily.group_by("day", color).agg(pl.col("cost_usd").sum().cast(pl.Float64))
             .sort("day"))
    fig = go.Figure()
    for name in frame.get_column(color).unique().sort().to_list():
        part = frame.filter(pl.col(color) == name)
        fig.add_bar(x=part["day"].to_list(), y=part["cost_usd"].to_list(), name=str(name),
                    hovertemplate="%{x}<br>$%{y:,.2f}<extra>" + str(name) + "</extra>")
    fig.update_layout(barmode="stack")
    return style(fig, title=title, x_title="Day (UTC)", y_title="Spend (USD)", money=True)


def spend_by_group(summary: pl.DataFrame, *, title: str) -> go.Figure:
    """Horizontal bars of total USD per group (a `spend_by` frame)."""
    if summary.is_empty():
        return empty(title, "No token spend in this period")
    frame = summary.sort("cost_usd")
    fig = go.Figure(go.Bar(x=frame["cost_usd"].cast(pl.Float64).to_list(), y=frame["group"].to_list(),
                           orientation="h", hovertemplate="%{y}: $%{x:,.2f}<extra></extra>"))
    return style(fig, title=title, x_title="Spend (USD)", y_title="", money=False)
