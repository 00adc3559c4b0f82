"""The demo data: the story holds, reloads change nothing, unload removes only demo rows."""

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ingest.demo import load_demo, unload_demo
from models.schema import metadata

NOW = datetime(2026, 11, 26, 1, 30, tzinfo=timezone.utc)
ANCHOR = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
LATER = datetime(2027, 2, 3, 17, 45, tzinfo=timezone.utc)
SUMS = {
    "usage_hourly": "sum(input_tokens) + sum(output_tokens) + sum(num_requests)",
    "usage_requests": "sum(input_tokens) + sum(output_tokens) + sum(latency_ms)",
    "cost_lines": "sum(billed_cost)",
    "gpu_samples": "sum(utilization_pct) + sum(power_watts)",
    "gpu_hourly": "sum(utilization_mean_pct) + sum(power_mean_watts)",
    "inference_samples": "sum(prompt_tokens_total) + sum(requests_waiting)",
    "inference_hourly": "sum(prompt_tokens) + sum(generation_tokens)",
}


def _one(conn, sql, **params):
    return conn.execute(sa.text(sql), params).scalar()


def _snapshot(engine) -> dict[str, object]:
    """Row counts of every table (runs aside: each load is audited) and sums of the measures."""
    out: dict[str, object] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name != "ingest_runs":
                out[table.name] = _one(conn, f"SELECT count(*) FROM {table.name}")
        for table, expr in SUMS.items():
            # Float sums are rounded: the order Postgres adds floats in is not fixed.
            out[f"{table}:sum"] = round(float(_one(conn, f"SELECT {expr} FROM {table}")), 3)
        out["settings"] = conn.execute(sa.text("SELECT key, value FROM app_settings ORDER BY key")).all()
    return out


@pytest.fixture
def demo(engine):
    """The demo loaded once at a fixed time."""
    summary = load_demo(engine, now=NOW)
    assert summary.anchor == ANCHOR
    return engine


def test_story_holds(demo):
    with demo.connect() as conn:
        assert _one(conn, "SELECT count(*) FROM workloads WHERE is_demo") == 4
        assert _one(conn, "SELECT count(*) FROM workloads WHERE NOT interactive") == 2
        assert _one(conn, "SELECT count(DISTINCT team) FROM usage_requests WHERE team <> ''") >= 3
        lo, hi = conn.execute(sa.text("SELECT min(bucket_start_at), max(bucket_end_at) FROM usage_hourly")).one()
        assert (lo, hi) == (ANCHOR - timedelta(days=120), ANCHOR)
        assert _one(conn, "SELECT value FROM app_settings WHERE key = 'demo_anchor_hour'") == ANCHOR.isoformat()

        daily = conn.execute(sa.text(
            "SELECT date_trunc('day', charge_period_start_at) d, sum(billed_cost) FROM cost_lines "
            "WHERE basis = 'cost_api' AND project_id = 'proj_labeling' GROUP BY 1 ORDER BY 1")).all()
        spend = [float(v) for _, v in daily]
        peak = max(sum(spend[i:i + 14]) for i in range(len(spend) - 13))
        assert sum(spend[-14:]) < 0.2 * peak

        assert _one(conn, "SELECT count(*) FROM gpu_samples WHERE is_demo") == 8 * 7 * 1440
        hours, first, last = conn.execute(sa.text(
            "SELECT count(DISTINCT hour_at), min(hour_at), max(hour_at) FROM gpu_hourly")).one()
        assert (hours, first, last) == (120 * 24, ANCHOR - timedelta(days=120), ANCHOR - timedelta(hours=1))
        assert _one(conn, "SELECT count(*) FROM gpu_hourly") == 8 * 120 * 24
        busy_then_idle = conn.execute(sa.text(
            "SELECT bool_and(CASE WHEN gpu_idx < 4 THEN u > 50 ELSE u < 20 END) FROM ("
            " SELECT s.gpu_index AS gpu_idx, avg(h.utilization_mean_pct) AS u FROM gpu_hourly h"
            " JOIN (SELECT DISTINCT gpu_uuid, gpu_index FROM gpu_samples) s USING (gpu_uuid)"
            " WHERE h.hour_at >= :since GROUP BY 1) x"), {"since": ANCHOR - timedelta(days=7)}).scalar()
        assert busy_then_idle
        assert _one(conn, "SELECT count(*) FROM inference_hourly WHERE workload = 'segment-labeling'") > 7 * 24
        assert _one(conn, "SELECT max(requests_waiting) FROM inference_samples") > 0

        assert _one(conn, "SELECT count(*) FROM usage_requests WHERE status_code = 429") > 0
        assert _one(conn, "SELECT count(*) - count(DISTINCT fingerprint) FROM usage_requests") > 0
        assert _one(conn, "SELECT count(*) FROM usage_requests WHERE endpoint_kind = 'local'") > 0
        assert _one(conn, "SELECT sum(input_tokens) FROM usage_hourly u WHERE NOT EXISTS ("
                          " SELECT 1 FROM prices p WHERE p.provider = u.provider AND p.model = u.model)") > 0
        assert _one(conn, "SELECT count(*) FROM usage_hourly u WHERE NOT EXISTS ("
                          " SELECT 1 FROM attribution_rules a WHERE a.match_field = 'project_id'"
                          " AND a.pattern = u.project_id)") > 0

        month_start = datetime(2026, 10, 1, tzinfo=timezone.utc)
        month_end = datetime(2026, 11, 1, tzinfo=timezone.utc)
        assert _one(conn, "SELECT count(DISTINCT billing_period_start_at) FROM cost_lines WHERE basis = 'focus'") == 1
        focus, api = (float(_one(conn, "SELECT sum(billed_cost) FROM cost_lines WHERE basis = :b AND provider = "
                                       "'openai' AND charge_period_start_at >= :a AND charge_period_start_at < :z",
                                 b=basis, a=month_start, z=month_end)) for basis in ("focus", "cost_api"))
        assert api > 0 and abs(focus - api) / api < 0.05
        assert _one(conn, "SELECT sum(consumed_quantity) FROM cost_lines WHERE basis = 'focus'") > 1e9


def test_reload_is_identical_and_reuses_the_anchor(demo):
    before = _snapshot(demo)
    steps: list[tuple[str, float]] = []
    summary = load_demo(demo, now=LATER, progress=lambda step, fraction: steps.append((step, fraction)))
    assert summary.anchor == ANCHOR
    fractions = [f for _, f in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(steps) > 10
    assert summary.seconds < 30  # about 3 s on two cores; the brief allows 10
    assert _snapshot(demo) == before


def test_unload_removes_only_demo_rows(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES ('mine', 'ops')"))
        conn.execute(sa.text(
            "INSERT INTO usage_hourly (provider, account_id, bucket_start_at, bucket_end_at, model, input_tokens) "
            "VALUES ('openai', 'org-real', :t, :t2, 'gpt-4.1', 42)"), {"t": NOW, "t2": NOW + timedelta(hours=1)})
    load_demo(engine, now=NOW)
    assert unload_demo(engine) > 100_000
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if "is_demo" in table.c:
                assert _one(conn, f"SELECT count(*) FROM {table.name} WHERE is_demo") == 0, table.name
        assert _one(conn, "SELECT count(*) FROM app_settings WHERE key = 'demo_anchor_hour'") == 0
        assert _one(conn, "SELECT name FROM workloads") == "mine"
        assert _one(conn, "SELECT sum(input_tokens) FROM usage_hourly") == 42
        assert _one(conn, "SELECT count(*) FROM gpu_samples") == 0
    assert unload_demo(engine) == 0
