"""The request rollups equal a fresh aggregation of usage_requests after any sequence of writes.

The expected token rollup is computed here in Python from the raw rows (UTC hour, served rule,
tag projection, sums), independently of the SQL that maintains it; the stored discipline flags
must give the scorecard that flagging the raw rows afresh gives.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.demo import unload_demo
from ingest.frames import RecordFrame, records_frame
from ingest.loader import load
from ingest.records import UsageRequest
from models import discipline_rollup, request_rollups
from models.discipline import DisciplineConfig
from models.edits import add_rule
from models.queries.discipline import discipline_rows

T0 = datetime(2026, 3, 2, tzinfo=UTC)
KEY = request_rollups.KEY
MEASURES = request_rollups.MEASURES


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def expected_rollup(conn) -> dict[tuple, tuple]:
    """The rollup as it must be: usage_requests grouped in Python (tag keys as the rollup keeps them)."""
    keys = request_rollups.stored_tag_keys(conn) or []
    out: dict[tuple, list] = defaultdict(lambda: [0] * 5 + [None] + [0] * 5)
    for q in conn.execute(sa.text("SELECT * FROM usage_requests")).mappings():
        tags = q["tags"] or {}
        served = (q["status_code"] is None and tags.get("error") is None) or (
            q["status_code"] is not None and q["status_code"] < 400)
        projected = json.dumps({k: tags.get(k) for k in keys}, sort_keys=True)
        key = (_hour(q["started_at"]), q["provider"], q["account_id"], q["model"], q["endpoint_kind"], q["project_id"],
               q["api_key_id"], q["user_id"], q["team"], q["workload_tag"], q["is_batch"], served, projected,
               q["is_demo"])
        m = out[key]
        m[0] += 1
        for i, col in enumerate(("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens"), 1):
            m[i] += q[col]
        if q["reported_cost_usd"] is None:
            m[6] += 1
            m[7] += q["input_tokens"] + q["output_tokens"]
        else:
            m[5] = (m[5] or Decimal(0)) + q["reported_cost_usd"]
        m[8] += q["fingerprint"] != ""
        m[9] += q["reasoning_tokens"] > 0
        m[10] += q["status_code"] == 429
    return {k: tuple(v) for k, v in out.items()}


def stored_rollup(conn) -> dict[tuple, tuple]:
    """What request_hourly holds, in the same shape."""
    rows = conn.execute(sa.text(f"SELECT {', '.join(KEY + MEASURES)} FROM request_hourly")).all()
    out = {}
    for row in rows:
        key = list(row[:len(KEY)])
        key[KEY.index("hour_at")] = key[KEY.index("hour_at")].astimezone(UTC)
        key[KEY.index("tags")] = json.dumps(key[KEY.index("tags")], sort_keys=True)
        assert tuple(key) not in out
        out[tuple(key)] = tuple(row[len(KEY):])
    return out


def assert_rollup_exact(engine) -> None:
    """request_hourly as the raw rows say, and the stored discipline flags as flagging the raw rows again."""
    with engine.connect() as conn:
        assert stored_rollup(conn) == expected_rollup(conn)
        params = DisciplineConfig().params()
        for by in ("team", "workload", None):
            args = dict(since=T0 - timedelta(days=1), until=T0 + timedelta(days=2), by=by, params=params)
            stored = discipline_rows(conn, stored=True, **args)
            fresh = discipline_rows(conn, stored=False, **args)
            assert stored.equals(fresh), (by, stored, fresh)


requests = st.builds(
    dict,
    source=st.sampled_from(["litellm", "client"]),
    request_id=st.sampled_from([f"r{i}" for i in range(12)]),
    minute=st.integers(0, 5 * 60 - 1),  # five hours, so re-loads move requests between hours
    provider=st.sampled_from(["openai", "anthropic"]),
    model=st.sampled_from(["gpt-4.1", "o3"]),
    project_id=st.sampled_from(["", "p1", "p2"]),
    user_id=st.sampled_from(["", "u1"]),
    team=st.sampled_from(["", "t1"]),
    workload_tag=st.sampled_from(["", "w1"]),
    endpoint_kind=st.sampled_from(["api", "api", "local"]),
    is_batch=st.booleans(),
    status_code=st.sampled_from([None, 200, 429, 500]),
    tags=st.dictionaries(st.sampled_from(["env", "trace_id", "error", "job"]),
                         st.one_of(st.sampled_from(["prod", "dev", "x"]), st.integers(0, 3), st.none()), max_size=3),
    fingerprint=st.sampled_from(["", "f1", "f2"]),
    input_tokens=st.integers(0, 5000),
    output_tokens=st.integers(0, 2000),
    reasoning=st.integers(0, 2),
    reported=st.one_of(st.none(), st.decimals(min_value=0, max_value=5, places=6)),
    latency=st.one_of(st.none(), st.floats(1, 5000)),
)


def _record(d: dict) -> UsageRequest:
    return UsageRequest(
        source=d["source"], request_id=d["request_id"], started_at=T0 + timedelta(minutes=d["minute"], seconds=7),
        provider=d["provider"], model=d["model"], project_id=d["project_id"], user_id=d["user_id"], team=d["team"],
        workload_tag=d["workload_tag"], endpoint_kind=d["endpoint_kind"], is_batch=d["is_batch"],
        status_code=d["status_code"], tags=d["tags"], fingerprint=d["fingerprint"], input_tokens=d["input_tokens"],
        cached_input_tokens=d["input_tokens"] // 3, output_tokens=d["output_tokens"],
        reasoning_tokens=d["output_tokens"] // 4 * d["reasoning"], reported_cost_usd=d["reported"],
        latency_ms=d.get("latency"))


operations = st.one_of(
    st.tuples(st.just("load"), st.lists(requests, min_size=1, max_size=8), st.booleans()),
    # The column-wise path: the same records as frames (straight into the table, or staged when a key exists).
    st.tuples(st.just("frames"), st.lists(requests, min_size=1, max_size=8), st.booleans(), st.integers(1, 4)),
    st.tuples(st.just("delete"), st.sampled_from([f"r{i}" for i in range(12)])),
    st.tuples(st.just("unload_demo")),
    st.tuples(st.just("tag_rule"), st.sampled_from(["env", "job", "error"])),
)


def _clean(engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM usage_requests; DELETE FROM request_hourly; DELETE FROM attribution_rules; "
                             "DELETE FROM workloads; DELETE FROM ingest_runs")
        request_rollups.rebuild(conn)
        discipline_rollup.rebuild(conn)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(steps=st.lists(operations, min_size=1, max_size=6))
def test_rollup_equals_raw_aggregation_after_any_writes(engine, steps):
    _clean(engine)
    for step in steps:
        if step[0] == "load":
            load(engine, [_record(d) for d in step[1]], source="test", target="requests", is_demo=step[2])
        elif step[0] == "frames":
            recs = [_record(d) for d in step[1]]
            frames = [RecordFrame(UsageRequest, records_frame(UsageRequest, recs[i:i + step[3]]))
                      for i in range(0, len(recs), step[3])]
            load(engine, frames, source="test", target="frames", is_demo=step[2])
        elif step[0] == "delete":
            with engine.begin() as conn:
                discipline_rollup.delete_requests(conn, "q.request_id = :r", {"r": step[1]})
        elif step[0] == "unload_demo":
            unload_demo(engine)
        else:
            add_rule(engine, workload=f"w-{step[1]}", match_field="tag", tag_key=step[1], pattern="prod")
        assert_rollup_exact(engine)


def test_rule_on_new_tag_key_rebuilds_and_attributes(engine):
    """A tag rule added after the load still attributes the loaded requests (the rollup keeps its key)."""
    load(engine, [_record({**_base(), "request_id": "a", "tags": {"job": "nightly", "trace_id": "t1"}}),
                  _record({**_base(), "request_id": "b", "tags": {"job": "nightly", "trace_id": "t2"}})],
         source="test", target="requests")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*), max(requests) FROM request_hourly")).one() == (1, 2)
    add_rule(engine, workload="batch-jobs", match_field="tag", tag_key="job", pattern="night*")
    from models.queries.spend import spend_by

    with engine.connect() as conn:
        assert request_rollups.stored_tag_keys(conn) == ["job"]
        by = spend_by(conn, since=T0, until=T0 + timedelta(days=1), by="workload")
    assert by["group"].to_list() == ["batch-jobs"]
    assert_rollup_exact(engine)


def _base() -> dict:
    return dict(source="s", request_id="r", minute=10, provider="openai", model="gpt-4.1", project_id="", user_id="",
                team="", workload_tag="", endpoint_kind="api", is_batch=False, status_code=200, tags={},
                fingerprint="", input_tokens=100, output_tokens=10, reasoning=0, reported=None)


@pytest.mark.parametrize("rounds", [3])
def test_concurrent_loads_of_one_hour_keep_the_rollup_exact(engine, rounds):
    """Two loaders writing the same hour at once: the advisory lock makes each aggregate see the other's rows."""
    def worker(tag: str) -> None:
        for n in range(rounds):
            load(engine, [_record({**_base(), "source": tag, "request_id": f"{tag}{n}-{i}", "minute": i})
                          for i in range(50)], source=tag, target="requests")

    threads = [threading.Thread(target=worker, args=(t,)) for t in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert_rollup_exact(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT sum(requests) FROM request_hourly")).scalar() == 2 * rounds * 50
