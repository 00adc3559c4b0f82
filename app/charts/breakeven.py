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
    # GPU only is null where no replica meets the SLO (contract v2): the API line alone sets the scale then.
    y_max = max(curve["api_only_usd"].max(), curve["gpu_only_usd"].max() or 0.0) * 1.05
    if forecast_low is not None and forecast_high is not None and forecast_low <= x_max:
        fig.add_vrect(x0=forecast_low, x1=min(forecast_high, x_max), fillcolor="#94a3b8", opacity=0.15,
                      line_width=0)
        fig.add_scatter(x=[None], y=[None], mode="markers", name=f"Forecast range {_volume(forecast_low, unit='')}–"
                        f"{_volume(forecast_high)}", marker={"symbol": "square", "size": 12, "color": "#cbd5e1"})
    # Markers are named in the legend, not written on the plot, so close values never overlap.
    markers = ((today_tokens, "Today", "solid"), (forecast_tokens, "Forecast", "dash"),
               (breakeven_tokens, "First replica pays", "dot"))
    for value, name, dash in markers:
        if value is not None and value <= x_max:
            fig.add_scatter(x=[value, value], y=[0, y_max], mode="lines", name=f"{name}: {_volume(value)}",
                            line={"dash": dash, "color": "#475569", "width": 1.5},
                            hovertemplate=f"{name}: %{{x:,.3s}} tokens/month<extra></extra>")
        elif value is not None:
            fig.add_scatter(x=[None], y=[None], mode="lines", name=f"{name}: {_volume(value)} (off the chart)",
                            line={"dash": dash, "color": "#475569", "width": 1.5})
    fig = style(fig, title=title, x_title="Volume (tokens/month)", y_title="Cost (USD/month)", money=True)
    fig.update_xaxes(range=[0, x_max])
    fig.update_yaxes(range=[0, y_max])
    fig.update_layout(height=460, legend={"orientation": "h", "y": -0.22})
    return fig


def _volume(tokens: float, unit: str = " tok/month") -> str:
    """Tokens per month, short: 1.2B tok/month."""
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(tokens) >= limit:
            return f"{tokens / limit:,.1f}{suffix}{unit}"
    return f"{tokens:,.0f}{unit}"


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
        fig.add_hline(y=breakeven_tokens, line_dash="dot", annotation_text="first replica pays",
                      annotation_position="bottom right")
    fig = style(fig, title=title, x_title="Week starting (UTC)", y_title="Volume (tokens/month, log scale)")
    fig.update_yaxes(type="log")
    return fig
