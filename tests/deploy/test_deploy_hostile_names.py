"""SQL is parameterised: hostile names go in through the loader, workloads and rules, and come out unchanged."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa

from ingest import records as r
from ingest.loader import load
from models.queries.spend import allocated_daily

D0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
HOSTILE = [
    "o'brien's \"model\"",
    "x'; DROP TABLE usage_hourly; --",
    "100% _off_ \\ back\\slash",
    "ünïcødé 模型 🚀",
    "=cmd|' /C calc'!A0",
    "$1 :name %(x)s {x} $$",
]


def _project(i: int) -> str:
    return f"proj {HOSTILE[i]}"


def test_deploy_hostile_names_round_trip_through_allocated_daily(engine):
    with engine.begin() as conn:
        for i, name in enumerate(HOSTILE):
            workload_id = conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES (:n, :t) RETURNING id"),
                                       {"n": f"wl {name}", "t": f"team {name}"}).scalar()
            # project rules must match literally: LIKE's % and _ in a hostile name are escaped
            conn.execute(sa.text("INSERT INTO attribution_rules (priority, workload_id, match_field, pattern) "
                                 "VALUES (:p, :w, 'project_id', :pat)"),
                         {"p": i, "w": workload_id, "pat": _project(i)})
    records: list = []
    for i, name in enumerate(HOSTILE):
        start = D0 + timedelta(hours=i)
        records += [
            r.Price(provider="openai", model=name, effective_from=date(2026, 1, 1),
                    input_usd_per_mtok=Decimal("1"), output_usd_per_mtok=Decimal("2")),
            r.UsageHourly(provider="openai", account_id="acct", bucket_start_at=start,
                          bucket_end_at=start + timedelta(hours=1), model=name, project_id=_project(i),
                          input_tokens=1_000_000 * (i + 1), cached_input_tokens=0, output_tokens=0),
            # request logs of another provider: the workload tag itself is hostile
            r.UsageRequest(source="test", request_id=f"req-{i}", started_at=start, provider="selfhosted",
                           model=name, account_id="acct", workload_tag=f"tag {name}", team=f"tagteam {name}",
                           tags={"k": name}, input_tokens=10, output_tokens=5,
                           reported_cost_usd=Decimal("0.01")),
        ]
    load(engine, records, source="test", target=HOSTILE[1])
    with engine.connect() as conn:
        frame = allocated_daily(conn, since=D0, until=D0 + timedelta(days=1))
        assert conn.execute(sa.text("SELECT count(*) FROM usage_hourly")).scalar() == len(HOSTILE)
        assert conn.execute(sa.text("SELECT target FROM ingest_runs ORDER BY id DESC LIMIT 1")).scalar() == HOSTILE[1]
    rows = frame.to_dicts()
    api = {row["model"]: row for row in rows if row["provider"] == "openai"}
    requests = {row["model"]: row for row in rows if row["provider"] == "selfhosted"}
    assert set(api) == set(HOSTILE) and set(requests) == set(HOSTILE)
    for i, name in enumerate(HOSTILE):
        assert api[name]["workload"] == f"wl {name}", name
        assert api[name]["team"] == f"team {name}", name
        assert api[name]["cost_usd"] == Decimal(i + 1), name
        assert requests[name]["workload"] == f"tag {name}", name
        assert requests[name]["team"] == f"tagteam {name}", name


def test_deploy_like_wildcards_in_names_do_not_match_other_rows(engine):
    """A rule for '100% _off_' must not catch '100X aoffb' (LIKE wildcards are escaped)."""
    with engine.begin() as conn:
        wid = conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES ('w', 't') RETURNING id")).scalar()
        conn.execute(sa.text("INSERT INTO attribution_rules (priority, workload_id, match_field, pattern) "
                             "VALUES (1, :w, 'model', '100% _off_')"), {"w": wid})
    load(engine, [
        r.UsageHourly(provider="openai", account_id="a", bucket_start_at=D0 + timedelta(hours=h),
                      bucket_end_at=D0 + timedelta(hours=h + 1), model=model, input_tokens=1, output_tokens=1)
        for h, model in enumerate(["100% _off_", "100X aoffb"])
    ], source="test", target="t")
    with engine.connect() as conn:
        frame = allocated_daily(conn, since=D0, until=D0 + timedelta(days=1))
    workloads = {row["model"]: row["workload"] for row in frame.to_dicts()}
    assert workloads == {"100% _off_": "w", "100X aoffb": "unallocated"}
