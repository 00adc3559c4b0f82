"""Charts only the weekly report needs: week over week per group, fleet busy share per hour."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from app.charts.common import empty, style


def week_over_week(compared: pl.DataFrame, *, title: str, this_label: str, last_label: str) -> go.Figure:
    """Grouped bars of this week's and last week's USD per group (a `compare` frame)."""
    if compared.is_empty():
        return empty(title, "No token spend in either week")
    groups = compared["group"].to_list()
    fig = go.Figure()
    fig.add_bar(x=groups, y=compared["previous_usd"].cast(pl.Float64).to_list(), name=last_label,
                hovertemplate="%{x}<br>$%{y:,.2f}<extra>" + last_label + "</extra>")
    fig.add_bar(x=groups, y=compared["cost_usd"].cast(pl.Float64).to_list(), name=this_label,
                hovertemplate="%{x}<br>$%{y:,.2f}<extra>" + this_label + "</extra>")
    fig.update_layout(barmode="group")
    return style(fig, title=title, x_title="", y_title="Spend (USD)", money=True)


def fleet_busy(hourly: pl.DataFrame, *, title: str = "GPU fleet: busy share per hour") -> go.Figure:
    """Line of the fleet's busy share (0-100 %) per UTC hour, with the GPU count in the hover."""
    if hourly.is_empty():
        return empty(title, "No GPU telemetry in this period")
    fig = go.Figure(go.Scatter(x=hourly["hour_at"].to_list(), y=(hourly["busy"] * 100).to_list(),
                               customdata=hourly["gpus"].to_list(), mode="lines",
                               hovertemplate="%{x}<br>%{y:.0f}% busy, %{customdata} GPUs<extra></extra>"))
    fig = style(fig, title=title, x_title="Hour (UTC)", y_title="Busy GPUs (%)")
    fig.update_yaxes(range=[0, 100])
    return fig
