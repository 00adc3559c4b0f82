"""The modules every page needs, imported at app start (see app/server.py for why it matters)."""

from __future__ import annotations

import importlib

# Third-party modules with long, order-sensitive imports: the server imports these before any session.
THIRD_PARTY = ("numpy", "pandas", "pyarrow", "polars", "plotly", "plotly.express", "plotly.graph_objects", "plotly.io",
               "sqlalchemy", "psycopg", "altair", "openpyxl")
# The app's own page dependencies: their Streamlit caches need the runtime, so the app script imports them,
# every session in this one order (no two sessions can then wait on each other's half-imported module).
HEAVY_MODULES = THIRD_PARTY + (
    "app.charts.breakeven", "app.charts.fleet", "app.charts.spend",
    "app.charts.whatif", "app.charts.workflow", "app.charts.workloads", "app.ui.data", "app.ui.economics",
    "app.ui.filters", "app.ui.tables", "app.ui.columns", "app.ui.cost_views", "app.ui.ledger_data",
    "app.ui.workflow_data", "app.reports.weekly",
    "models.queries.spend", "models.queries.fleet_view", "models.queries.workload_view", "models.economics.contract",
)


def preload(names: tuple[str, ...] = HEAVY_MODULES) -> list[str]:
    """Import the modules in order; returns the ones that are installed (altair is optional in Streamlit)."""
    loaded = []
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a module that exists but fails to import is a real error
                raise
            continue
        loaded.append(name)
    return loaded
