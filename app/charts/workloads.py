"""Workload charts: hourly shape, weekly volume and growth, token mix."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from app.charts.common import empty, style

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def hourly_heatmap(shape: pl.DataFrame, *, title: str = "Hourly shape: mean tokens per hour") -> go.Figure:
    """Heatmap of mean tokens per hour, weekday (rows) x UTC hour of day (columns)."""
    if shape.is_empty():
        return empty(title, "No tokens for this workload in this period")
    grid = [[0.0] * 24 for _ in range(7)]
    for row in shape.iter_rows(named=True):
        grid[int(row["weekday"])][int(row["hour_of_day"])] = float(row["tokens"] or 0.0)
    fig = go.Figure(go.Heatmap(z=grid, x=list(range(24)), y=WEEKDAYS, colorscale="Blues",
                               colorbar={"title": "tokens/hour"},
                               hovertemplate="%{y} %{x}:00 UTC<br>%{z:,.0f} tokens/hour<extra></extra>"))
    fig = style(fig, title=title, x_title="Hour of day (UTC)", y_title="Weekday")
    fig.update_yaxes(autorange="reversed")
    return fig


def weekly_volume(weekly: pl.DataFrame, *, title: str = "Weekly tokens and growth") -> go.Figure:
    """Bars of tokens per week with a line of week-over-week growth (%) on a second axis."""
    if weekly.is_empty():
        return empty(title, "No tokens for this workload in this period")
    fig = go.Figure()
    fig.add_bar(x=weekly["week_start"].to_list(), y=weekly["tokens"].to_list(), name="Tokens per week",
                hovertemplate="week of %{x}<br>%{y:,.0f} tokens<extra></extra>")
    fig.add_scatter(x=weekly["week_start"].to_list(), y=weekly["growth_pct"].to_list(), name="Growth vs week before (%)",
                    yaxis="y2", mode="lines+markers")
    fig = style(fig, title=title, x_title="Week starting (UTC)", y_title="Tokens per week")
    fig.update_layout(yaxis2={"title": {"text": "Growth (%)"}, "overlaying": "y", "side": "right",
                              "ticksuffix": " %", "showgrid": False})
    return fig


def token_mix(mix: pl.DataFrame, *, title: str = "Token mix") -> go.Figure:
    """Donut of uncached input, cached input, output and reasoning tokens."""
    if mix.is_empty() or int(mix["tokens"].sum()) == 0:
        return empty(title, "No tokens for this workload in this period")
    fig = go.Figure(go.Pie(labels=mix["kind"].to_list(), values=mix["tokens"].to_list(), hole=0.5, sort=False,
                           hovertemplate="%{label}: %{value:,.0f} tokens (%{percent})<extra></extra>"))
    fig.update_layout(title={"text": title, "x": 0.0}, height=380)
    return fig
