"""What-if charts: the levers waterfall and saved scenarios side by side."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from app.charts.common import empty, style


def levers_waterfall(steps: pl.DataFrame, *, title: str = "Levers: from today's monthly cost") -> go.Figure:
    """Waterfall: today's USD/month, each lever's saving (cache, batch, route, move), what is left."""
    if steps.is_empty():
        return empty(title, "No cost to take levers from")
    labels, measures, values, texts = [], [], [], []
    for row in steps.iter_rows(named=True):
        labels.append(row["lever"])
        if row["status"] == "total":
            measures.append("absolute" if row["lever"] == "today" else "total")
            values.append(row["remaining_usd_month"])
            texts.append(f"${row['remaining_usd_month']:,.0f}")
        else:
            saving = row["saving_usd_month"]
            measures.append("relative")
            values.append(-(saving or 0.0))
            texts.append("not measurable" if saving is None else f"-${saving:,.0f}")
    fig = go.Figure(go.Waterfall(x=labels, y=values, measure=measures, text=texts, textposition="outside",
                                 connector={"line": {"color": "#94a3b8"}},
                                 decreasing={"marker": {"color": "#16a34a"}},
                                 totals={"marker": {"color": "#2563eb"}}))
    return style(fig, title=title, x_title="Lever (applied in this order)", y_title="Cost (USD/month)", money=True)


def scenario_comparison(rows: pl.DataFrame, *, title: str = "Saved scenarios side by side") -> go.Figure:
    """Grouped bars per scenario: API-only, GPU-only and best hybrid cost (USD/month)."""
    if rows.is_empty():
        return empty(title, "No saved scenarios to compare")
    fig = go.Figure()
    for column, name in (("api_only_usd_month", "API only"), ("gpu_only_usd_month", "GPU only"),
                         ("hybrid_usd_month", "Best hybrid")):
        fig.add_bar(x=rows["scenario"].to_list(), y=rows[column].to_list(), name=name)
    fig.update_layout(barmode="group")
    return style(fig, title=title, x_title="Scenario", y_title="Cost (USD/month)", money=True)
