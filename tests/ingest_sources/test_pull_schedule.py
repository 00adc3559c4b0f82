"""A scheduled pull every hour for a simulated week equals one full pull, to the cent (real SDK, loopback server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import openai
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.pull import pull
from ingest.sources import openai_usage as oa
from models import clock
from tests.ingest_sources.openai_api_sim import OpenAIOrg, hourly

DATA_START = datetime(2026, 2, 26, tzinfo=UTC)
WEEK_START = datetime(2026, 3, 2, tzinfo=UTC)
DATA_END = datetime(2026, 3, 12, tzinfo=UTC)


def _client(server):
    return openai.OpenAI(api_key="sk-unused", admin_api_key="sk-admin-test", base_url=server.url + "/v1",
                         max_retries=0, timeout=5)


def _pull(engine, client, since=None):
    def sources(a, b):
        return [oa.OpenAIUsageSource(client, "org-1", a, b), oa.OpenAICostsSource(client, "org-1", a, b)]

    return pull(engine, source="openai", account_id="org-1", make_sources=sources, since=since)


def _totals(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT (SELECT coalesce(sum(input_tokens), 0) FROM usage_hourly), "
            "(SELECT coalesce(sum(output_tokens), 0) FROM usage_hourly), "
            "(SELECT coalesce(sum(billed_cost), 0) FROM cost_lines), (SELECT count(*) FROM usage_hourly), "
            "(SELECT count(*) FROM cost_lines), "
            "(SELECT count(*) FROM usage_hourly WHERE extract(epoch FROM bucket_start_at)::bigint % 3600 <> 0 "
            "   OR bucket_end_at - bucket_start_at <> interval '1 hour'), "
            "(SELECT count(*) FROM cost_lines WHERE charge_period_start_at <> date_trunc('day', charge_period_start_at))"
        )).one()


# One example is 168 pulls (336 loads, about a minute and a half here); CI runs a fixed one.
@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 59), st.sets(st.integers(0, 167), max_size=12))
def test_hourly_pulls_for_a_week_equal_one_full_pull(engine, replay_server, minute, missed):
    org = OpenAIOrg(DATA_START, DATA_END)
    replay_server.handler = lambda seen: (200, {}, org.page(seen.path, seen.query))
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE usage_hourly, cost_lines, ingest_cursors, ingest_runs CASCADE"))
    runs = hourly(WEEK_START, 7 * 24, minute)
    client = _client(replay_server)
    for i, moment in enumerate(runs):
        if i in missed and i != len(runs) - 1:
            continue  # the puller was down for that hour
        org.now = moment
        with clock.pinned(moment):
            _pull(engine, client)
    scheduled = _totals(engine)
    last = runs[-1]
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE usage_hourly, cost_lines, ingest_cursors, ingest_runs CASCADE"))
    with clock.pinned(last):
        _pull(engine, client, since=DATA_START - timedelta(days=3))
    once = _totals(engine)
    assert scheduled == once
    inp, out, cost = org.truth(last.replace(minute=0))
    assert scheduled[:3] == (inp, out, cost)
    assert scheduled[5:] == (0, 0)  # every stored bucket is a whole hour, every cost line a whole day
