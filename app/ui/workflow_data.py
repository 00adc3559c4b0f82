"""Cached loaders for the Workflow page (kept apart from app/ui/data.py so areas merge cleanly)."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from app.ui.data import TOKENS, engine, keyed_to
from models.discipline import lever_shares_by_workload, scorecard
from models.queries import drilldown

# The scorecard and lever shares read the discipline flags the loader keeps beside the request logs.
DISCIPLINE = TOKENS + ("request_discipline_hourly",)

@keyed_to(DISCIPLINE, spinner="Scoring workflow discipline from request logs…")
def discipline_scorecard(since: datetime, until: datetime, by: str) -> pl.DataFrame:
    """The workflow-discipline scorecard per team or workload."""
    with engine().connect() as conn:
        return scorecard(conn, since=since, until=until, by=by)


@keyed_to(DISCIPLINE, spinner="Measuring cache, batch and routing shares from request logs…")
def measured_lever_shares(since: datetime, until: datetime) -> dict[str, dict[str, float | None]]:
    """Per workload, the lever shares measured from request logs (cache, batch, route); None = not measurable."""
    with engine().connect() as conn:
        return lever_shares_by_workload(conn, since, until)


@keyed_to(TOKENS, spinner="Pricing reasoning tokens…")
def reasoning_costs(since: datetime, until: datetime) -> pl.DataFrame:
    """Reasoning tokens' list cost beside each row's list cost, per provider, account, day, model, workload, team."""
    with engine().connect() as conn:
        return drilldown.reasoning_costs(conn, since=since, until=until)


@keyed_to(TOKENS, spinner="Grouping request logs by team, workload and user…")
def request_groups(since: datetime, until: datetime) -> pl.DataFrame:
    """Served request-log rows per team, workload, user and fingerprint (the drill-down's one query)."""
    with engine().connect() as conn:
        return drilldown.request_groups(conn, since=since, until=until)
