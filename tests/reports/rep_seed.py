"""Seed two ISO weeks (2026-W44 and W45) of tokens, costs, GPU hours and a failed run for report tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa

from ingest import records as r
from ingest.loader import load

WEEK = "2026-W45"
SINCE = datetime(2026, 11, 2, tzinfo=timezone.utc)
UNTIL = SINCE + timedelta(days=7)
PREV_SINCE = SINCE - timedelta(days=7)
HOSTILE_MODEL = '=HYPERLINK("http://evil.example/","click")'
NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def _usage(provider, model, project, start, inp, out, cached=0):
    return r.UsageHourly(provider=provider, account_id="acct-1", bucket_start_at=start,
                         bucket_end_at=start + timedelta(hours=1), model=model, project_id=project,
                         input_tokens=inp, cached_input_tokens=cached, output_tokens=out)


def seed(engine) -> None:
    """Two weeks of data; week W45 has more labeling traffic than W44, a cost API day and a failed run."""
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES ('segment-labeling', 'data'), "
                             "('support-bot', 'cs'), ('-rm -rf', '@ops')"))
        conn.execute(sa.text(
            "INSERT INTO attribution_rules (priority, workload_id, match_field, pattern) "
            "SELECT 1, id, 'project_id', 'proj_lab*' FROM workloads WHERE name = 'segment-labeling' UNION ALL "
            "SELECT 2, id, 'model', 'claude-*' FROM workloads WHERE name = 'support-bot' UNION ALL "
            "SELECT 3, id, 'project_id', 'proj_evil' FROM workloads WHERE name = '-rm -rf'"))
    load(engine, [
        r.Price(provider="openai", model="gpt-4.1", effective_from=date(2026, 1, 1),
                input_usd_per_mtok=Decimal("2"), output_usd_per_mtok=Decimal("8"),
                cached_input_usd_per_mtok=Decimal("0.5")),
        r.Price(provider="openai", model=HOSTILE_MODEL, effective_from=date(2026, 1, 1),
                input_usd_per_mtok=Decimal("1"), output_usd_per_mtok=Decimal("1")),
        r.Price(provider="anthropic", model="claude-sonnet-4", effective_from=date(2026, 1, 1),
                input_usd_per_mtok=Decimal("3"), output_usd_per_mtok=Decimal("15")),
    ], source="test", target="prices")
    rows = []
    for day in range(14):
        start = PREV_SINCE + timedelta(days=day, hours=9)
        grow = 1 if day < 7 else 3
        rows.append(_usage("openai", "gpt-4.1", "proj_labeling", start, 1_000_000 * grow, 200_000 * grow,
                           cached=300_000 * grow))
        rows.append(_usage("anthropic", "claude-sonnet-4", "proj_cs", start, 400_000, 50_000))
        rows.append(_usage("openai", HOSTILE_MODEL, "proj_evil", start, 100_000, 10_000))
        rows.append(_usage("openai", "mystery-model", "proj_x", start, 5_000, 500))
    start = SINCE + timedelta(days=2)
    rows.append(r.CostLine(basis="cost_api", provider="anthropic", account_id="acct-1", source_line_key="d2",
                           charge_period_start_at=start, charge_period_end_at=start + timedelta(days=1),
                           billed_cost=Decimal("2.3456")))
    load(engine, rows, source="test", target="usage")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO ingest_runs (source, target, started_at, finished_at, status, error) VALUES "
            "('openai', 'api window', :t, :t, 'failed', 'HTTP 500 from usage API')"),
            {"t": SINCE + timedelta(days=3)})
        conn.execute(sa.text(
            "INSERT INTO gpu_cost_profiles (name, gpu_type, gpu_count, pricing, host_pattern, hourly_rate_usd, "
            "ops_usd_per_gpu_month) VALUES ('pool', 'H100', 2, 'rent', 'gpu-*', 2.99, 0)"))
        conn.execute(sa.text(
            "INSERT INTO gpu_hourly (hour_at, gpu_uuid, host, model_name, samples, utilization_mean_pct, "
            "utilization_max_pct, busy_fraction) "
            "SELECT h, g, 'gpu-host-1', 'H100', 60, 40, 95, 0.25 FROM generate_series(:s, :u - interval '1 hour', "
            "interval '1 hour') h, (VALUES ('GPU-a'), ('GPU-b')) v(g)"), {"s": SINCE, "u": UNTIL})
        conn.execute(sa.text(
            "INSERT INTO inference_hourly (hour_at, endpoint, model_name, workload, prompt_tokens, generation_tokens, "
            "requests_waiting_max, kv_cache_max_frac, saturated_seconds) "
            "SELECT h, 'http://gpu-host-1:8000', 'llama-3.1-8b', 'segment-labeling', 1e6, 2e5, 12, 0.97, 600 "
            "FROM generate_series(:s, :s + interval '5 hour', interval '1 hour') h"), {"s": SINCE})


def clone_database(admin_url: str, template_url: str, name: str) -> str:
    """Create database `name` from the migrated template; returns its URL (for module-scoped fixtures)."""
    from sqlalchemy.engine import make_url

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template_url).database}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    """Drop a database made by `clone_database`."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_cli(args: list[str], env: dict[str, str]):
    """Run the hybridcost CLI in-process with `env` set; returns the Click result (stderr kept apart)."""
    import os

    from typer.testing import CliRunner

    from app.cli import context
    from app.cli.main import app

    # `--as-of` writes the pin into the environment for the whole run: put it back, or later tests inherit it
    saved = {k: os.environ.get(k) for k in (*env, "HYBRIDCOST_AS_OF")}
    os.environ.update(env)
    context.reset()
    try:
        return CliRunner().invoke(app, args)
    finally:
        context.reset()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
