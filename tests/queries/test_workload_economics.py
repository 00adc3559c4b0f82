"""Breakeven status per workload (the exporter's signal) agrees with simulate on the demo story."""

from datetime import datetime, timezone

from ingest.demo import load_demo
from models.queries.workload_economics import workload_breakeven

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def test_demo_workloads_breakeven_status(engine):
    load_demo(engine, now=NOW)
    with engine.connect() as conn:
        status = {name: (above, move) for name, above, move in workload_breakeven(conn, NOW)}
    # segment-labeling moved onto GPUs because its volume is far past the breakeven.
    assert status["segment-labeling"][0] is True
    assert status["segment-labeling"][1] == NOW.date()
    # The nightly doc-summaries and the steady support assistant stay on tokens today.
    assert status["support-assistant"][0] is False
    assert set(status) <= {"segment-labeling", "support-assistant", "code-review", "doc-summaries"}
