"""Dashboard data loads per page, cold and warm, on a fresh database of 10M x scale requests and GPU samples.

(What a person waits for in a browser, rendering included: bench/bench_browser.py.)

Run: PYTHONPATH=. python bench/bench_dashboard.py [--scale 0.1]
Starts a throwaway embedded PostgreSQL in a temporary folder, loads the rows through the
real loader (which maintains the gpu_hourly, request_hourly and request_discipline_hourly rollups), then times each
page's loaders: cold = empty Streamlit caches, warm = the same calls again (served by
st.cache_data). Where a page reads a rollup, the same aggregation on the raw table is timed
too and the ratio shown. Goal: warm < 1 s and cold < 3 s per page. Not run by pytest.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
import warnings
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
logging.getLogger("streamlit").setLevel(logging.ERROR)

DAYS = 30
END = datetime(2026, 11, 20, tzinfo=timezone.utc)
START = END - timedelta(days=DAYS)
WORKLOADS = [("labeling", "data", "proj_lab", "openai", "gpt-4.1"), ("support", "cs", "proj_sup", "anthropic",
             "claude-sonnet-4"), ("review", "eng", "proj_rev", "openai", "o3"), ("docs", "kb", "proj_doc", "openai",
                                                                                  "gpt-4.1-mini")]
GPUS = 8


def _requests(n: int, rng: np.random.Generator):
    from ingest import records as r

    seconds = rng.integers(0, DAYS * 86400, n)
    which = rng.integers(0, len(WORKLOADS), n)
    inp = rng.integers(200, 4000, n)
    out = rng.integers(50, 1500, n)
    for i in range(n):
        _, _, project, provider, model = WORKLOADS[which[i]]
        yield r.UsageRequest(source="bench", request_id=f"r{i}", started_at=START + timedelta(seconds=int(seconds[i])),
                             provider=provider, model=model, account_id="acct", project_id=project,
                             input_tokens=int(inp[i]), cached_input_tokens=int(inp[i]) // 4,
                             output_tokens=int(out[i]), reasoning_tokens=int(out[i]) // 3)


def _gpu_samples(n: int, rng: np.random.Generator):
    from ingest import records as r

    per_gpu = n // GPUS
    step = DAYS * 86400 / per_gpu
    util = rng.uniform(0, 100, n)
    for g in range(GPUS):
        for k in range(per_gpu):
            yield r.GpuSample(sampled_at=START + timedelta(seconds=k * step), host="node-1", gpu_uuid=f"GPU-{g:02d}",
                              source="bench", utilization_pct=float(util[g * per_gpu + k]), power_watts=400.0)


def _reference(engine) -> None:
    import sqlalchemy as sa

    from ingest import records as r
    from ingest.loader import load

    with engine.begin() as conn:
        for i, (name, team, project, _, _) in enumerate(WORKLOADS):
            conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES (:n, :t)"), {"n": name, "t": team})
            conn.execute(sa.text("INSERT INTO attribution_rules (priority, workload_id, match_field, pattern) "
                                 "SELECT :p, id, 'project_id', :pat FROM workloads WHERE name = :n"),
                         {"p": i, "pat": project, "n": name})
        conn.execute(sa.text(
            "INSERT INTO gpu_cost_profiles (name, gpu_type, gpu_count, pricing, host_pattern, purchase_price_usd, "
            "amortization_months, power_watts, pue, electricity_usd_per_kwh, ops_usd_per_gpu_month) VALUES "
            "('owned', 'H100', 8, 'buy', 'node-*', 30000, 36, 700, 1.3, 0.10, 150)"))
    load(engine, [r.Price(provider=p, model=m, effective_from=date(2026, 1, 1), input_usd_per_mtok=Decimal("2"),
                          output_usd_per_mtok=Decimal("8"), cached_input_usd_per_mtok=Decimal("0.5"))
                  for _, _, _, p, m in WORKLOADS], source="bench", target="prices")


def fill(engine, scale: float) -> dict[str, float]:
    """Load 10M x scale request rows and 10M x scale GPU samples through the real loader; seconds per part."""
    from ingest.loader import load

    rng = np.random.default_rng(7)
    n = int(10_000_000 * scale)
    _reference(engine)
    took = {}
    t = time.perf_counter()
    load(engine, _requests(n, rng), source="bench", target="requests", batch_size=100_000)
    took["requests"] = time.perf_counter() - t
    t = time.perf_counter()
    load(engine, _gpu_samples(n, rng), source="bench", target="gpu", batch_size=100_000)
    took["gpu_samples"] = time.perf_counter() - t
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return took


def page_loaders():
    """Per page: the cached loader calls its data comes from (as the page makes them)."""
    from app.ui import data, economics, workflow_data
    from models.queries.overview import two_month_window

    since, until = START, END + timedelta(days=1)
    now = END + timedelta(days=1)

    def workloads():
        """The Workloads page: workload list, demand and the planning path."""
        data.workloads()
        data.workload_hourly("labeling", since, until)
        economics.plan("labeling", since, until, now)

    def breakeven():
        """The Breakeven page: the planning path, its curve and payback."""
        economics.plan("labeling", since, until, now)
        economics.curve("labeling", since, until, now)
        economics.payback("labeling", since, until, now)

    def whatif():
        """The What-if page: the planning path as the starting point, curve, levers and saved scenarios."""
        figures = economics.plan("labeling", since, until, now)
        gpu = figures.candidate.gpu.model_dump() if figures.candidate.gpu else None
        if gpu is not None:
            args = ("labeling", since, until, now, gpu, 1.0, 1.0)
            economics.whatif(*args)
            economics.whatif_curve(*args)
            economics.whatif_levers(*args, {"repeat_share": 0.1, "batchable_share": 0.2, "route_share": 0.1,
                                            "route_price_ratio": 0.2})
        data.scenarios()

    return {
        "overview": lambda: (data.spend_daily(min(since, two_month_window(END.date())[0]), until),
                             data.gpu_spend_daily(since, until), data.budgets(), data.data_freshness()),
        "spend": lambda: (data.spend_daily(since, until), data.batch_daily(since, until),
                          data.reconciliation(since, until)),
        "workloads": workloads,
        "breakeven": breakeven,
        "fleet": lambda: (data.fleet_gpus(since, until), data.gpu_heatmap(since, until),
                          data.inference_saturation(since, until), data.inference_pressure(since, until)),
        "whatif": whatif,
        "workflow": lambda: (workflow_data.discipline_scorecard(since, until, "team"),
                             workflow_data.measured_lever_shares(since, until)),
        "data": lambda: (data.ingest_runs(), data.attribution_rules(), data.prices(), data.unpriced_usage(since, until),
                         data.data_freshness()),
    }


_REQUEST_KEYS = ("provider, account_id, model, endpoint_kind, project_id, api_key_id, user_id, team, workload_tag, "
                 "is_batch")
RAW_EQUIVALENTS = {  # the same aggregation a page reads from a rollup, done on the raw rows
    "overview": "SELECT date_trunc('day', sampled_at), gpu_uuid, count(DISTINCT date_trunc('hour', sampled_at)) "
                "FROM gpu_samples WHERE sampled_at >= :s AND sampled_at < :u GROUP BY 1, 2",
    "fleet": "SELECT date_trunc('hour', sampled_at), host, gpu_uuid, avg(utilization_pct), "
             "avg(CASE WHEN utilization_pct > 5 THEN 1.0 ELSE 0.0 END) FROM gpu_samples "
             "WHERE sampled_at >= :s AND sampled_at < :u GROUP BY 1, 2, 3",
    "spend": f"SELECT date_trunc('hour', started_at, 'UTC'), {_REQUEST_KEYS}, sum(input_tokens), "
             "sum(cached_input_tokens), sum(output_tokens), count(*) FROM usage_requests "
             f"WHERE started_at >= :s AND started_at < :u GROUP BY 1, {_REQUEST_KEYS}",
}
ROLLUP_EQUIVALENTS = {
    "overview": "SELECT date_trunc('day', hour_at), gpu_uuid, count(*) FROM gpu_hourly "
                "WHERE hour_at >= :s AND hour_at < :u GROUP BY 1, 2",
    "fleet": "SELECT hour_at, host, gpu_uuid, utilization_mean_pct, busy_fraction FROM gpu_hourly "
             "WHERE hour_at >= :s AND hour_at < :u",
    "spend": f"SELECT hour_at, {_REQUEST_KEYS}, sum(input_tokens), sum(cached_input_tokens), sum(output_tokens), "
             f"sum(requests) FROM request_hourly WHERE hour_at >= :s AND hour_at < :u GROUP BY 1, {_REQUEST_KEYS}",
}


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    """Fill a throwaway database, time every page cold and warm, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="fraction of 10M rows per table (default 0.1)")
    args = parser.parse_args()
    from models.infra import embedded
    from models.infra.database import ensure_database, make_engine
    from models.infra.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="hybridcost-bench-"))
    try:
        socket_dir = embedded.start(folder)
        ensure_database(embedded.url_for(socket_dir, "postgres"), "bench")
        url = embedded.url_for(socket_dir, "bench")
        upgrade(url)
        os.environ["DATABASE_URL"] = url
        engine = make_engine(url)
        took = fill(engine, args.scale)
        rows = int(10_000_000 * args.scale)
        print(f"loaded {rows:,} request rows in {took['requests']:.1f} s and {rows:,} GPU samples in "
              f"{took['gpu_samples']:.1f} s through the loader (scale {args.scale})\n")
        import sqlalchemy as sa
        import streamlit as st

        print("| page | cold (s) | warm (s) | raw-table aggregation (s) | rollup read (s) | raw / rollup |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for page, load_page in page_loaders().items():
            st.cache_data.clear()
            cold = _timed(load_page)
            warm = _timed(load_page)
            raw = rollup = ratio = ""
            if page in RAW_EQUIVALENTS:
                params = {"s": START, "u": END + timedelta(days=1)}
                with engine.connect() as conn:
                    r = _timed(lambda: conn.execute(sa.text(RAW_EQUIVALENTS[page]), params).all())
                    q = _timed(lambda: conn.execute(sa.text(ROLLUP_EQUIVALENTS[page]), params).all())
                raw, rollup, ratio = f"{r:.3f}", f"{q:.3f}", f"{r / q:,.0f}x"
            print(f"| {page} | {cold:.3f} | {warm:.4f} | {raw} | {rollup} | {ratio} |")
        engine.dispose()
    finally:
        try:
            embedded.stop(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
