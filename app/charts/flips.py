"""Flip points as a small tornado chart: how far each input may move before the plan's answer changes."""

from __future__ import annotations

from typing import Mapping

import plotly.graph_objects as go

from app.charts.common import PALETTE, style
from models.economics.flips import CLASS_WORDS, flip_rows

CLASS_COLOURS = {"tokens": PALETTE[1], "hybrid": PALETTE[0], "move": PALETTE[2]}
TICKS = [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8, 16]


def _tick(m: float) -> str:
    return f"{m:g}x" if m >= 1 else f"1/{round(1 / m)}x"


def flips_tornado(flips: Mapping[str, float | None], plan_class: str,
                  flip_to: Mapping[str, str | None] | None = None,
                  title: str = "What flips this answer") -> go.Figure:
    """One bar per input from 1x (the plan) to the multiplier at which the answer changes; the shortest on top."""
    rows = flip_rows(flips, flip_to)[::-1]  # Plotly draws the first category at the bottom
    labels = [r["label"] for r in rows]
    fig = go.Figure()
    for row in rows:
        m = row["multiplier"]
        if m is None:
            continue
        to = row["to"]
        fig.add_bar(
            y=[row["label"]], x=[m - 1.0], base=[1.0], orientation="h", width=0.55,
            marker_color=CLASS_COLOURS.get(to, PALETTE[3]), showlegend=False,
            text=[f"{_tick(m) if m >= 2 or m <= 0.5 else f'{m:.2f}x'}" + (f" → {to}" if to else "")],
            textposition="outside", cliponaxis=False,
            hovertemplate=f"{row['condition']}<br>the answer becomes {CLASS_WORDS.get(to, to or 'different')}"
                          "<extra></extra>")
    for row in rows:
        if row["multiplier"] is None:
            fig.add_annotation(y=row["label"], x=0, xref="x", text="no flip from 1/16x to 16x", showarrow=False,
                               font={"color": "#64748b"})
    fig.add_vline(x=1.0, line_color="#0f172a", line_width=1)
    fig.add_annotation(x=0, xref="x", y=1.02, yref="paper", yanchor="bottom", showarrow=False,
                       text=f"the plan as assumed: {plan_class}")
    fig = style(fig, title=title, x_title="Multiplier on the plan's value (log scale)", y_title="")
    fig.update_xaxes(type="log", range=[-1.25, 1.25], tickvals=TICKS, ticktext=[_tick(t) for t in TICKS])
    fig.update_yaxes(categoryorder="array", categoryarray=labels)
    fig.update_layout(height=260, margin={"l": 110, "r": 40, "t": 60, "b": 50}, bargap=0.4)
    return fig

