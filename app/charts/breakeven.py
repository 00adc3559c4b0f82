"""Breakeven chart: monthly cost against monthly tokens (API line, GPU staircase, hybrid envelope)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from app.charts.common import empty, style


def breakeven_chart(curve: pl.DataFrame, *, today_tokens: float | None = None, forecast_tokens: float | None = None,
                    forecast_low: float | None = None, forecast_high: float | None = None,
                    breakeven_tokens: float | None = None, title: str = "Breakeven: monthly cost vs monthly tokens"
                    ) -> go.Figure:
    """Lines for API only, GPU only (staircase) and best hybrid; markers for today, the forecast and breakeven."""
    if curve.is_empty():
        return empty(title, "No demand to draw a curve for")
    x = curve["monthly_tokens"].to_list()
    fig = go.Figure()
    fig.add_scatter(x=x, y=curve["api_only_usd"].to_list(), name="API only", mode="lines",
                    hovertemplate="%{x:,.3s} tokens/month<br>$%{y:,.0f}/month<extra>API only</extra>")
    fig.add_scatter(x=x, y=curve["gpu_only_usd"].to_list(), name="GPU only (whole replicas)", mode="lines",
                    line={"shape": "hv"},
                    hovertemplate="%{x:,.3s} tokens/month<br>$%{y:,.0f}/month<extra>GPU only</extra>")
    fig.add_scatter(x=x, y=curve["hybrid_usd"].to_list(), name="Best hybrid", mode="lines",
                    line={"dash": "dot", "width": 3},
                    customdata=curve["hybrid_replicas"].to_list(),
                    hovertemplate="%{x:,.3s} tokens/month<br>$%{y:,.0f}/month with %{customdata} replica(s)"
                                  "<extra>Best hybrid</extra>")
    x_max = max(x)
    markers = ((today_tokens, "Today", "solid", "top left"), (forecast_tokens, "Forecast", "dash", "top right"),
               (breakeven_tokens, "First replica pays", "dot", "bottom right"))
    for value, name, dash, where in markers:
        if value is not None and value <= x_max:
            fig.add_vline(x=value, line_dash=dash, line_color="#64748b", annotation_text=name,
                          annotation_position=where)
    if forecast_low is not None and forecast_high is not None and forecast_low <= x_max:
        fig.add_vrect(x0=forecast_low, x1=min(forecast_high, x_max), fillcolor="#94a3b8", opacity=0.15,
                      line_width=0)
    fig = style(fig, title=title, x_title="Volume (tokens/month)", y_title="Cost (USD/month)", money=True)
    fig.update_xaxes(range=[0, x_max])
    return fig


def forecast_chart(weekly: pl.DataFrame, forecast: pl.DataFrame | None, *, breakeven_tokens: float | None = None,
                   title: str = "Monthly volume: history and forecast") -> go.Figure:
    """Monthly-equivalent tokens per week (history x 730/168), the forecast line and its interval band."""
    if weekly.is_empty():
        return empty(title, "No weekly history for this workload")
    fig = go.Figure()
    hist = weekly.with_columns((pl.col("tokens") * 730 / pl.col("hours")).alias("monthly"))
    fig.add_scatter(x=hist["week_start"].to_list(), y=hist["monthly"].to_list(), name="History", mode="lines+markers")
    if forecast is not None and not forecast.is_empty():
        weeks = forecast["week_start"].to_list()
        fig.add_scatter(x=weeks + weeks[::-1], y=forecast["monthly_tokens_high"].to_list()
                        + forecast["monthly_tokens_low"].to_list()[::-1], fill="toself", name="Forecast interval",
                        line={"width": 0}, fillcolor="rgba(37,99,235,0.15)", hoverinfo="skip")
        fig.add_scatter(x=weeks, y=forecast["monthly_tokens"].to_list(), name="Forecast", mode="lines",
                        line={"dash": "dash"})
    if breakeven_tokens is not None:
        fig.add_hline(y=breakeven_tokens, line_dash="dot", annotation_text="first replica pays")
    fig = style(fig, title=title, x_title="Week starting (UTC)", y_title="Volume (tokens/month, log scale)")
    fig.update_yaxes(type="log")
    return fig
