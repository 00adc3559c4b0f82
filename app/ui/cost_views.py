"""Cached loaders for GPU cost by team and spend anomalies (kept apart from data.py to merge cleanly).

Every time-dependent value (the clock's hour, today) arrives as an argument, never read inside.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from app.ui import data
from models.anomalies import AnomalyRule, spend_anomalies
from models.infra.settings import get_settings
from models.queries.gpu_showback import gpu_cost_daily


@data.keyed_to(data.GPU, spinner="Sharing GPU cost by measured use…")
def gpu_lines(since: datetime, until: datetime, now_hour: datetime) -> pl.DataFrame:
    """GPU cost per day, pool, workload and team (idle its own line), up to `now_hour` (models.queries.gpu_showback)."""
    with data.engine().connect() as conn:
        return gpu_cost_daily(conn, since=since, until=until, now=now_hour)


def anomaly_rule() -> AnomalyRule:
    """The anomaly threshold and minimum dollar impact from the settings."""
    settings = get_settings()
    return AnomalyRule(threshold=settings.anomaly_threshold, min_usd=settings.anomaly_min_usd)


@data.keyed_to(data.TOKENS, spinner="Checking daily spend against its baseline…")
def anomalies(since: datetime, until: datetime, today: date, threshold: float, min_usd: float) -> pl.DataFrame:
    """Anomalous complete days in the range per workload and team (models.anomalies)."""
    with data.engine().connect() as conn:
        return spend_anomalies(conn, since=since, until=until, today=today,
                               rule=AnomalyRule(threshold=threshold, min_usd=min_usd))

