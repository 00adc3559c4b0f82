"""Prometheus exporter: a custom collector that reads the database on each scrape (cached a few seconds).

Metrics (definitions in models/queries/signals.py, models/planning/ and docs/deploy.md):
  hybridcost_spend_usd_per_hour{workload}          last 24 h average
  hybridcost_budget_burn_ratio{scope,name}         forecast month-end spend / budget
  hybridcost_breakeven_status{workload}            1 when the plan owns a replica at today's volume
  hybridcost_move_date_days{workload}              days until the forecast week the first replica pays
  hybridcost_plan_replicas{workload,candidate}     replicas the plan owns against its candidate
  hybridcost_plan_usd_per_month{workload,plan}     on tokens alone (api_only) and the best plan (hybrid)
  hybridcost_throughput_gap_ratio{workload}        the plan's assumed throughput / the measured one
  hybridcost_plan_figures_age_seconds              age of the precomputed planning figures
  hybridcost_gpu_saturation{gpu_uuid}              0..1, last 15 minutes
  hybridcost_gpu_idle_cost_usd{host}               last 24 h
  hybridcost_spend_anomaly_usd{scope,name}         last complete UTC day: spend above (+) or below (-) its
                                                   weekday baseline when an anomaly (models.anomalies), else 0
  hybridcost_exporter_up                           1 when the last read of the database worked

The per-workload planning figures are precomputed (`models.planning.precomputed`): a scrape reads
them, and a background refresher recomputes them on a schedule and when the data version moves,
so a scrape never runs the planning path.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime

import polars as pl
from prometheus_client import start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import Engine

from models import clock as product_clock
from models.anomalies import AnomalyRule, latest_day
from models.infra.settings import get_settings
from models.planning import precomputed
from models.queries import signals

log = logging.getLogger(__name__)
ANOMALY_SECONDS = 900


class PlanRefresher:
    """Recomputes the precomputed planning figures in a background thread, never inside a scrape."""

    def __init__(self, engine: Engine, interval_seconds: float, clock: Callable[[], datetime]):
        """Refresh through `engine` (a role that may write) at least every `interval_seconds`."""
        self.engine, self.interval, self.clock = engine, interval_seconds, clock
        self._wake = threading.Event()
        self.refreshes = 0
        self._thread = threading.Thread(target=self._run, name="hybridcost-plan-refresh", daemon=True)

    def start(self) -> "PlanRefresher":
        """Start the thread (it refreshes once at once)."""
        self._thread.start()
        return self

    def request(self) -> None:
        """Ask for a refresh soon (the data changed); returns at once."""
        self._wake.set()

    def refresh_now(self) -> None:
        """Recompute the figures in this thread."""
        precomputed.refresh(self.engine, self.clock())
        self.refreshes += 1

    def _run(self) -> None:
        while True:
            try:
                self.refresh_now()
            except Exception as exc:  # a failed refresh keeps the last figures; the next try may work
                log.warning("planning figures not refreshed: %s", str(exc).splitlines()[0] if str(exc) else exc)
            self._wake.wait(timeout=self.interval)
            self._wake.clear()


class HybridcostCollector(Collector):
    """Reads the signals from the database at scrape time; results are reused for `cache_seconds`."""

    def __init__(self, engine: Engine, cache_seconds: float = 5.0, clock: Callable[[], datetime] | None = None,
                 refresher: PlanRefresher | None = None):
        """Collect from `engine`; `clock` gives 'now' (UTC) for tests; `refresher` recomputes the plan figures."""
        self.engine = engine
        self.cache_seconds = cache_seconds
        self.clock = clock or product_clock.now
        self.refresher = refresher
        self._lock = threading.Lock()
        self._cached: tuple[float, list[GaugeMetricFamily]] | None = None
        self.reads = 0
        # The anomaly check reads 9 weeks of spend; its answer changes with the day, so it is kept for a while.
        self._anomalies: tuple[float, date, pl.DataFrame] | None = None

    def describe(self) -> list:
        """Nothing up front, so registering never touches the database."""
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The metric families, read fresh when the cache is older than cache_seconds."""
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > self.cache_seconds:
                self._cached = (time.monotonic(), self._read())
            families = self._cached[1]
        yield from families

    def _maybe_refresh(self, version: str, rows: list) -> None:
        """Wake the refresher when the data moved on since the figures were computed (its schedule does the rest)."""
        if self.refresher is None:
            return
        if not rows or any(r.data_version != version for r in rows):
            self.refresher.request()

    def _read(self) -> list[GaugeMetricFamily]:
        self.reads += 1
        started = time.monotonic()
        families = _empty_families()
        up = GaugeMetricFamily("hybridcost_exporter_up", "1 when the last read of the database worked")
        try:
            now = self.clock()
            with self.engine.connect() as conn:
                version, rows = _fill(families, conn, now)
                for row in self._latest_anomalies(conn, now).iter_rows(named=True):
                    families["anomaly"].add_metric([row["scope"], row["name"]], row["impact_usd"])
            up.add_metric([], 1)
            self._maybe_refresh(version, rows)
        except Exception as exc:  # a scrape must answer even when the database is away
            log.warning("exporter could not read the database: %s", str(exc).splitlines()[0] if str(exc) else exc)
            families = _empty_families()
            up.add_metric([], 0)
        took = GaugeMetricFamily("hybridcost_exporter_read_seconds", "Seconds the last database read took")
        took.add_metric([], time.monotonic() - started)
        return [*families.values(), up, took]

    def _latest_anomalies(self, conn, now: datetime) -> pl.DataFrame:
        """Yesterday's anomaly check per workload and team, recomputed at most every ANOMALY_SECONDS or on a new day."""
        today = now.date()
        cached = self._anomalies
        if cached is None or cached[1] != today or time.monotonic() - cached[0] > ANOMALY_SECONDS:
            settings = get_settings()
            frame = latest_day(conn, today=today, rule=AnomalyRule(threshold=settings.anomaly_threshold,
                                                                    min_usd=settings.anomaly_min_usd))
            self._anomalies = cached = (time.monotonic(), today, frame)
        return cached[2]


def _empty_families() -> dict[str, GaugeMetricFamily]:
    return {
        "spend": GaugeMetricFamily("hybridcost_spend_usd_per_hour",
                                   "Token spend in USD per hour, average of the last 24 hours", labels=["workload"]),
        "budget": GaugeMetricFamily("hybridcost_budget_burn_ratio",
                                    "Forecast month-end spend divided by the monthly budget", labels=["scope", "name"]),
        "breakeven": GaugeMetricFamily("hybridcost_breakeven_status",
                                       "1 when the workload is above its GPU breakeven volume, else 0",
                                       labels=["workload"]),
        "move": GaugeMetricFamily("hybridcost_move_date_days",
                                  "Days until the forecast move date (negative: already past)", labels=["workload"]),
        "replicas": GaugeMetricFamily("hybridcost_plan_replicas",
                                      "Replicas the workload's plan owns at today's volume, against its candidate",
                                      labels=["workload", "candidate"]),
        "plan_usd": GaugeMetricFamily("hybridcost_plan_usd_per_month",
                                      "USD per month on tokens alone (api_only) and with the best plan (hybrid)",
                                      labels=["workload", "plan"]),
        "gap": GaugeMetricFamily("hybridcost_throughput_gap_ratio",
                                 "The plan's assumed throughput divided by the one its vLLM servers measured",
                                 labels=["workload"]),
        "age": GaugeMetricFamily("hybridcost_plan_figures_age_seconds",
                                 "Seconds since the planning figures were computed"),
        "saturation": GaugeMetricFamily("hybridcost_gpu_saturation",
                                        "Mean GPU utilisation 0..1 over the last 15 minutes", labels=["gpu_uuid"]),
        "idle": GaugeMetricFamily("hybridcost_gpu_idle_cost_usd",
                                  "USD spent on idle GPU-hours over the last 24 hours", labels=["host"]),
        "anomaly": GaugeMetricFamily("hybridcost_spend_anomaly_usd",
                                     "Last complete UTC day: USD above (+) or below (-) the weekday-seasonal baseline "
                                     "when the day is an anomaly, else 0", labels=["scope", "name"]),
    }


def _fill(families: dict[str, GaugeMetricFamily], conn, now: datetime) -> tuple[str, list]:
    for workload, usd in sorted(signals.spend_per_hour(conn, now).items()):
        families["spend"].add_metric([workload], usd)
    for burn in signals.budget_burn(conn, now):
        families["budget"].add_metric([burn.scope, burn.name], burn.ratio)
    for uuid, value in signals.gpu_saturation(conn, now).items():
        families["saturation"].add_metric([uuid], value)
    for host, usd in signals.gpu_idle_cost(conn, now).items():
        families["idle"].add_metric([host], usd)
    version = precomputed.data_version(conn)
    rows = precomputed.stored(conn)
    for row in rows:
        if row.above_breakeven is not None:
            families["breakeven"].add_metric([row.workload], 1.0 if row.above_breakeven else 0.0)
        if isinstance(row.move_date, date):
            families["move"].add_metric([row.workload], float((row.move_date - now.date()).days))
        if row.optimal_replicas is not None:
            families["replicas"].add_metric([row.workload, row.candidate], float(row.optimal_replicas))
        for plan, usd in (("api_only", row.api_only_usd_month), ("hybrid", row.hybrid_usd_month)):
            if usd is not None:
                families["plan_usd"].add_metric([row.workload, plan], usd)
        if row.throughput_gap is not None:
            families["gap"].add_metric([row.workload], row.throughput_gap)
    if rows:
        families["age"].add_metric([], max(0.0, (now - min(r.computed_at for r in rows)).total_seconds()))
    return version, rows


def make_registry(engine: Engine, cache_seconds: float = 5.0,
                  refresher: PlanRefresher | None = None) -> CollectorRegistry:
    """A registry holding only the hybridcost collector (no process or platform metrics)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HybridcostCollector(engine, cache_seconds, refresher=refresher))
    return registry


def serve(engine: Engine, host: str, port: int, cache_seconds: float = 5.0, writer: Engine | None = None,
          refresh_seconds: float = 300.0):
    """Start the HTTP endpoint (and, with a `writer` engine, the planning-figures refresher); returns (server, thread)."""
    refresher = PlanRefresher(writer, refresh_seconds, product_clock.now).start() if writer is not None else None
    return start_http_server(port, addr=host, registry=make_registry(engine, cache_seconds, refresher))
