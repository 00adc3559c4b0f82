"""Shared look of every chart."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from models.names import has_invisible, shown

# The house template as Plotly's default: naming it on each figure deep-copies the whole template
# (about 0.3 s per figure on a busy machine), the default is applied when the figure is serialised.
pio.templates.default = "plotly_white"

PALETTE = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777"]


def _escape_names(fig: go.Figure) -> None:
    """Names in legends, categories and labels shown with invisible characters written out (<U+202E>)."""
    for trace in fig.data:
        for attr in ("name", "legendgroup", "x", "y", "labels", "text", "hovertext", "ids", "parents"):
            value = getattr(trace, attr, None) if attr in trace else None
            if isinstance(value, str):
                trace[attr] = shown(value)
            elif isinstance(value, (tuple, list)) or getattr(getattr(value, "dtype", None), "kind", "") in ("O", "U"):
                if any(isinstance(v, str) and has_invisible(v) for v in value):
                    trace[attr] = [shown(v) for v in value]


def style(fig: go.Figure, *, title: str, x_title: str, y_title: str, money: bool = False) -> go.Figure:
    """Apply titles, axis labels (with units) and the house layout; names shown escaped."""
    _escape_names(fig)
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"}, colorway=PALETTE,
        margin={"l": 60, "r": 20, "t": 60, "b": 60}, legend={"orientation": "h", "y": -0.3}, height=400,
    )
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title, tickprefix="$" if money else None, separatethousands=True)
    return fig


def empty(title: str, message: str) -> go.Figure:
    """A figure that says there is nothing to show, and why."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title=title, height=300,
                      xaxis={"visible": False}, yaxis={"visible": False})
    return fig
