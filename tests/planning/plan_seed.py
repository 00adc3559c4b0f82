"""Two workloads built for the planning tests: one output-heavy on gpt-4.1, one served on its own vLLM servers."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import sqlalchemy as sa

from ingest import records as r
from ingest.loader import load

START = datetime(2026, 10, 12, tzinfo=timezone.utc)
END = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
OUTPUT_HEAVY, LOCAL = "essay-writer", "ticket-triage"
LOCAL_ENDPOINT = "triage-node:8000"


def _hours() -> list[datetime]:
    n = int((END - START).total_seconds() // 3600)
    return [START + timedelta(hours=h) for h in range(n)]


def _workload(engine, name: str, team: str, project: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES (:n, :t) ON CONFLICT (name) DO NOTHING"),
                     {"n": name, "t": team})
        conn.execute(sa.text("INSERT INTO attribution_rules (priority, workload_id, match_field, pattern) "
                             "SELECT 5, id, 'project_id', :p FROM workloads WHERE name = :n"), {"p": project, "n": name})


def add_output_heavy(engine) -> None:
    """essay-writer: gpt-4.1 ($2 in / $8 out per Mtok), ten output tokens per input token, a daytime hump."""
    _workload(engine, OUTPUT_HEAVY, "content", "proj_essays")
    hours = _hours()
    shape = 1 + 0.5 * np.sin((np.array([h.hour for h in hours]) - 8) / 24 * 2 * np.pi)
    records = [r.Price(provider="openai", model="gpt-4.1", effective_from=date(2026, 1, 1),
                       input_usd_per_mtok=Decimal("2"), cached_input_usd_per_mtok=Decimal("0.5"),
                       output_usd_per_mtok=Decimal("8"))]
    records += [r.UsageHourly(provider="openai", account_id="org-demo", bucket_start_at=h,
                              bucket_end_at=h + timedelta(hours=1), model="gpt-4.1", project_id="proj_essays",
                              input_tokens=int(2_000_000 * s), cached_input_tokens=int(200_000 * s),
                              output_tokens=int(20_000_000 * s), num_requests=int(900 * s))
                for h, s in zip(hours, shape)]
    load(engine, records, source="test", target="essay-writer")


def add_local_serving(engine) -> None:
    """ticket-triage: a trickle of claude-sonnet-4 and most of its tokens on its own vLLM server, saturated at peaks."""
    _workload(engine, LOCAL, "support-ops", "proj_triage")
    hours = _hours()
    load(engine, [r.UsageHourly(provider="anthropic", account_id="anthropic-demo", bucket_start_at=h,
                                bucket_end_at=h + timedelta(hours=1), model="claude-sonnet-4",
                                project_id="proj_triage", input_tokens=40_000, output_tokens=4_000)
                  for h in hours], source="test", target="ticket-triage api")
    with engine.begin() as conn:
        for h in hours:
            busy = 8 <= h.hour < 18
            prompt, gen = (30_000_000, 2_000_000) if busy else (6_000_000, 400_000)
            conn.execute(sa.text(
                "INSERT INTO inference_hourly (hour_at, endpoint, model_name, workload, prompt_tokens, "
                "generation_tokens, requests_running_mean, requests_waiting_mean, requests_waiting_max, "
                "kv_cache_max_frac, saturated_seconds, generation_tokens_per_s_saturated) VALUES "
                "(:h, :e, 'qwen-2.5-32b', :w, :p, :g, 40, :wm, :wx, 0.8, :s, :t)"),
                {"h": h, "e": LOCAL_ENDPOINT, "w": LOCAL, "p": prompt, "g": gen, "wm": 4.0 if busy else 0.0,
                 "wx": 9.0 if busy else 0.0, "s": 1800.0 if busy else 0.0, "t": gen / 3600 if busy else None})
