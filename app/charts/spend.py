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


def month_comparison(months: pl.DataFrame, *, title: str = "This month vs last month by provider") -> go.Figure:
    """Grouped bars per provider: last month, last month to the same day, this month to date (USD)."""
    if months.is_empty():
        return empty(title, "No token spend in the last two months")
    fig = go.Figure()
    providers = months["provider"].to_list()
    for column, name in (("last_month_usd", "Last month (whole)"),
                         ("last_month_to_date_usd", "Last month, same days"),
                         ("this_month_usd", "This month to date")):
        fig.add_bar(x=providers, y=months[column].to_list(), name=name,
                    hovertemplate="%{x}: $%{y:,.2f}<extra>" + name + "</extra>")
    fig.update_layout(barmode="group")
    return style(fig, title=title, x_title="Provider", y_title="Spend (USD)", money=True)


def token_vs_gpu(frame: pl.DataFrame, *, title: str = "Token API spend vs GPU spend per day") -> go.Figure:
    """Stacked bars per UTC day: token API spend and GPU spend (USD), from a `token_vs_gpu_daily` frame."""
    if frame.is_empty():
        return empty(title, "No token or GPU spend in this period")
    fig = go.Figure()
    for kind in ("token APIs", "GPUs"):
        part = frame.filter(pl.col("kind") == kind)
        fig.add_bar(x=part["day"].to_list(), y=part["cost_usd"].to_list(), name=kind,
                    hovertemplate="%{x}<br>$%{y:,.2f}<extra>" + kind + "</extra>")
    fig.update_layout(barmode="stack")
    return style(fig, title=title, x_title="Day (UTC)", y_title="Spend (USD)", money=True)


def share_lines(shares: pl.DataFrame, *, title: str = "Cached and batch shares per day") -> go.Figure:
    """Lines per day: cached share of input tokens and batch share of tokens (% of tokens)."""
    if shares.is_empty():
        return empty(title, "No token usage in this period")
    fig = go.Figure()
    for column, name in (("cached_share", "Cached input / input"), ("batch_share", "Batch tokens / all tokens")):
        if column in shares.columns:
            fig.add_scatter(x=shares["day"].to_list(), y=(shares[column] * 100).to_list(), mode="lines", name=name)
    fig = style(fig, title=title, x_title="Day (UTC)", y_title="Share of tokens (%)")
    fig.update_yaxes(ticksuffix=" %", rangemode="tozero")
    return fig


def reconciliation_bars(long: pl.DataFrame, *, title: str = "Reconciliation: each basis's total per month") -> go.Figure:
    """Grouped bars per provider-month, one per basis (USD), so bases can be compared side by side."""
    if long.is_empty():
        return empty(title, "No cost lines or priced usage in this period")
    fig = go.Figure()
    frame = long.with_columns((pl.col("provider") + " " + pl.col("month").dt.strftime("%Y-%m")).alias("period"))
    for basis in frame["basis"].unique().sort().to_list():
        part = frame.filter(pl.col("basis") == basis)
        fig.add_bar(x=part["period"].to_list(), y=part["amount_usd"].to_list(), name=basis,
                    hovertemplate="%{x}: $%{y:,.2f}<extra>" + basis + "</extra>")
    fig.update_layout(barmode="group")
    return style(fig, title=title, x_title="Provider and month (UTC)", y_title="Total (USD)", money=True)


def cost_by_team(table: pl.DataFrame, *, column: str = "team", title: str = "Tokens and GPUs by team") -> go.Figure:
    """Stacked horizontal bars per team (or workload): token spend and GPU cost (USD), from a `team_costs` frame."""
    if table.is_empty():
        return empty(title, "No token spend or GPU cost in this period")
    frame = table.with_columns(pl.col("token_usd", "gpu_usd", "total_usd").cast(pl.Float64)).sort("total_usd")
    fig = go.Figure()
    for key, name in (("token_usd", "Token APIs"), ("gpu_usd", "GPUs (shared by measured use)")):
        fig.add_bar(y=frame[column].to_list(), x=frame[key].to_list(), name=name, orientation="h",
                    hovertemplate="%{y}: $%{x:,.2f}<extra>" + name + "</extra>")
    fig.update_layout(barmode="stack")
    fig = style(fig, title=title, x_title="Cost (USD)", y_title="", money=False)
    fig.update_xaxes(tickprefix="$", separatethousands=True)
    fig.update_yaxes(automargin=True)
    return fig
