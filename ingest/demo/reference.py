"""Demo rows that are not loader records: catalogs, workloads, rules, budgets, a scenario, a plan, history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Connection

from ingest.demo import story as s

ANCHOR_KEY = "demo_anchor_hour"

GPU_TYPES = (  # name, purchase USD, rent USD/GPU-hour, watts, memory GiB
    ("H100", "30000", "2.99", 700.0, 80.0),
    ("H200", "40000", "3.99", 700.0, 141.0),
    ("A100 80GB", "12000", "1.50", 400.0, 80.0),
    ("L40S", "9000", "1.86", 350.0, 48.0),
    ("L4", None, None, 72.0, 24.0),
)
THROUGHPUT = (("llama-3.1-8b", "H100", 1, 40_000.0, 15_220.0), ("llama-3.3-70b", "H100", 2, 8_000.0, 4_205.0))
BUDGETS = (  # team -> monthly USD; engineering's code-review runs well over its budget
    ("data-platform", "12000"), ("customer-success", "2500"), ("engineering", "900"), ("knowledge", "1800"),
)
SCENARIO_NAME = "segment-labeling on 4x H100"
SCENARIO_BODY = {
    "name": SCENARIO_NAME,
    "api": {"input_per_mtok": 2.00, "cached_input_per_mtok": 0.50, "output_per_mtok": 8.00,
            "batch_discount": 0.5, "batch_share": 0.0},
    "gpu": {"pricing": "buy", "hourly_rate": 2.99, "purchase_price": 30000, "amortization_months": 36,
            "power_watts": 700, "pue": 1.3, "electricity_per_kwh": 0.10, "ops_per_gpu_month": 150,
            "replica_gpus": 1, "input_tokens_per_s": 40000, "output_tokens_per_s": 15220, "max_utilization": 0.8},
}


# segment-labeling moved to Llama 3.1 8B on the owned H100s: its plan says so, at the pool's own costs.
PLAN = {"workload": "segment-labeling", "choice": "self_host", "model": "Llama 3.1 8B FP8", "gpu_type": "H100",
        "tensor_parallel": 1, "pricing": "buy", "throughput_source": "published", "purchase_price_usd": 30000,
        "amortization_months": 36, "power_watts": 700.0, "pue": 1.3, "electricity_usd_per_kwh": 0.10,
        "ops_usd_per_gpu_month": 150, "replaces_provider": "openai", "replaces_model": "o3",
        "updated_by": "demo"}


def read_anchor(conn: Connection) -> datetime | None:
    """The stored demo anchor hour, if a demo was loaded before."""
    value = conn.execute(sa.text("SELECT value FROM app_settings WHERE key = :k"), {"k": ANCHOR_KEY}).scalar()
    return datetime.fromisoformat(value) if value else None


def store_anchor(conn: Connection, anchor: datetime) -> None:
    """Remember the anchor so later loads produce the same data."""
    conn.execute(sa.text("INSERT INTO app_settings (key, value) VALUES (:k, :v) ON CONFLICT (key) DO NOTHING"),
                 {"k": ANCHOR_KEY, "v": anchor.isoformat()})


def write_catalogs(conn: Connection) -> None:
    """GPU types and model throughput reference rows (kept if already there)."""
    for name, buy, rent, watts, mem in GPU_TYPES:
        conn.execute(sa.text(
            "INSERT INTO gpu_types (name, purchase_usd, rent_usd_per_gpu_hour, power_watts, memory_gib, source) "
            "VALUES (:n, :b, :r, :w, :m, 'reference defaults') ON CONFLICT (name) DO NOTHING"),
            {"n": name, "b": Decimal(buy) if buy else None, "r": Decimal(rent) if rent else None, "w": watts, "m": mem})
    for model, gpu, tp, tin, tout in THROUGHPUT:
        conn.execute(sa.text(
            "INSERT INTO model_throughput (model, gpu_type, tensor_parallel, input_tokens_per_s, output_tokens_per_s,"
            " source) VALUES (:m, :g, :tp, :i, :o, 'reference defaults') "
            "ON CONFLICT (model, gpu_type, tensor_parallel) DO NOTHING"),
            {"m": model, "g": gpu, "tp": tp, "i": tin, "o": tout})


def write_org(conn: Connection, story: s.Story) -> None:
    """Workloads, attribution rules, cost profiles, budgets and the saved scenario."""
    for wl in s.WORKLOADS:
        conn.execute(sa.text(
            "INSERT INTO workloads (name, team, description, interactive, is_demo) VALUES (:n, :t, :d, :i, TRUE) "
            "ON CONFLICT (name) DO NOTHING"),
            {"n": wl.name, "t": wl.team, "d": wl.description, "i": wl.interactive})
    for priority, wl in enumerate(s.WORKLOADS, start=1):
        conn.execute(sa.text(
            "INSERT INTO attribution_rules (priority, workload_id, match_field, pattern, is_demo) "
            "SELECT :p, w.id, 'project_id', CAST(:pat AS varchar), TRUE FROM workloads w WHERE w.name = :n "
            "AND NOT EXISTS ("
            " SELECT 1 FROM attribution_rules a WHERE a.workload_id = w.id AND a.match_field = 'project_id'"
            " AND a.pattern = CAST(:pat AS varchar))"), {"p": priority * 10, "pat": wl.project_id, "n": wl.name})
    profile_sql = sa.text(
        "INSERT INTO gpu_cost_profiles (name, gpu_type, gpu_count, pricing, host_pattern, hourly_rate_usd, "
        "purchase_price_usd, amortization_months, power_watts, pue, electricity_usd_per_kwh, ops_usd_per_gpu_month, "
        "started_on, is_demo) VALUES (:name, 'H100', 8, :pricing, :host, :rate, :buy, :months, :watts, :pue, :kwh, "
        "150, :started, TRUE) ON CONFLICT (name) DO NOTHING")
    started = story.day_date(-10)
    conn.execute(profile_sql, {"name": "gpu-node-1 (owned 8x H100)", "pricing": "buy", "host": "gpu-node-1",
                               "rate": None, "buy": Decimal("30000"), "months": 36, "watts": 700.0, "pue": 1.3,
                               "kwh": Decimal("0.10"), "started": started})
    conn.execute(profile_sql, {"name": "rented 8x H100 (comparison)", "pricing": "rent", "host": "rented-*",
                               "rate": Decimal("2.99"), "buy": None, "months": None, "watts": None, "pue": None,
                               "kwh": None, "started": None})
    for team, usd in BUDGETS:
        conn.execute(sa.text(
            "INSERT INTO budgets (scope, name, monthly_usd, is_demo) VALUES ('team', :n, :u, TRUE) "
            "ON CONFLICT (scope, name) DO NOTHING"), {"n": team, "u": Decimal(usd)})
    conn.execute(sa.text(
        "INSERT INTO scenarios (name, body, is_demo) VALUES (:n, CAST(:b AS jsonb), TRUE) "
        "ON CONFLICT (name) DO NOTHING"), {"n": SCENARIO_NAME, "b": _json(SCENARIO_BODY)})
    columns = ", ".join(PLAN)
    conn.execute(sa.text(
        f"INSERT INTO workload_plans ({columns}, is_demo) VALUES ({', '.join(':' + c for c in PLAN)}, TRUE) "
        "ON CONFLICT (workload) DO NOTHING"), PLAN)


def _json(value) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def copy_insert(conn: Connection, table: str, columns: Iterable[str], rows: Iterable[tuple],
                key: Iterable[str]) -> int:
    """COPY rows into a temp table, then insert those whose natural key is not there yet."""
    cols = ", ".join(columns)
    stage = f"stage_demo_{table}"
    conn.exec_driver_sql(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA")
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    written = conn.exec_driver_sql(
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT ({', '.join(key)}) DO NOTHING").rowcount
    conn.exec_driver_sql(f"DROP TABLE {stage}")
    return written


def tag_inference_workload(conn: Connection, endpoint: str, since: datetime) -> None:
    """The rollup does not know workloads: name the endpoint's workload on its hourly rows."""
    conn.execute(sa.text("UPDATE inference_hourly SET workload = 'segment-labeling' WHERE endpoint = :e "
                         "AND is_demo AND hour_at >= :since AND workload = ''"),
                 {"e": endpoint, "since": since - timedelta(hours=1)})
