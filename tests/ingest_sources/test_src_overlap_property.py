"""Property: loading the samples through random overlapping windows, in any order, counts nothing twice."""

from __future__ import annotations

import json

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.loader import load
from ingest.sources.anthropic_usage import cost_records as anthropic_costs
from ingest.sources.openai_usage import usage_records

windows = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=6)


def _totals(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT (SELECT coalesce(sum(input_tokens), 0) FROM usage_hourly), "
            "(SELECT coalesce(sum(output_tokens), 0) FROM usage_hourly), (SELECT count(*) FROM usage_hourly), "
            "(SELECT coalesce(sum(billed_cost), 0) FROM cost_lines)")).one()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(windows)
def test_overlapping_windows_equal_one_full_load(engine, samples, spans):
    buckets = json.loads((samples / "openai/openai_usage_completions_cookbook_output.json").read_text())
    cost_doc = json.loads((samples / "anthropic/anthropic_cost_report_docs_example.json").read_text())
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE usage_hourly, cost_lines, ingest_runs CASCADE"))
    # Every window re-reads some buckets (as an API pull with an overlap does), then the full range once.
    covered = set()
    for a, b in spans:
        lo, hi = min(a, b), min(max(a, b) + 1, len(buckets))
        covered.update(range(lo, hi))
        load(engine, list(usage_records(buckets[lo:hi], "window", "org-1"))
             + list(anthropic_costs(cost_doc["data"], "window", "ws-1")), source="t", target=f"{lo}..{hi}")
    partial = _totals(engine)
    expected_rows = sum(len(buckets[i]["results"]) for i in covered)
    assert partial[2] == expected_rows
    load(engine, list(usage_records(buckets, "all", "org-1")) + list(anthropic_costs(cost_doc["data"], "all", "ws-1")),
         source="t", target="all")
    full = _totals(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE usage_hourly, cost_lines, ingest_runs CASCADE"))
    load(engine, list(usage_records(buckets, "once", "org-1")) + list(anthropic_costs(cost_doc["data"], "once", "ws-1")),
         source="t", target="once")
    assert full == _totals(engine)
