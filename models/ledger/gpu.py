"""Owned and rented GPU pools in the ledger: daily cost per profile, shared out by measured GPU-hours.

What no workload used is its own 'idle' line; the lines of a pool-day sum exactly to its cost.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

from models.queries.spend import allocated_daily
from models.queries.sql_fragments import attribution_join
from models.rollups import physical_gpu_hours

E10 = Decimal("1e-10")
HOURS_PER_MONTH = Decimal(730)
IDLE = "idle"
HOST_LIKE = ("replace(replace(replace(replace(p.host_pattern, '%', '\\%'), '_', '\\_'), '*', '%'), '?', '_')")


def _dec(value) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))


def _measured(conn: Connection, since: date, until: datetime) -> list[tuple]:
    """Per profile, day and workload: physical GPU-hours, busy GPU-hours and summed measured watts.

    A MIG GPU is one physical GPU: its instances share its busy time by their slices and its
    power is counted once (models.rollups.physical_gpu_hours).
    """
    return conn.execute(sa.text(f"""
        SELECT p.id, CAST((g.hour_at AT TIME ZONE 'UTC') AS date) AS day,
               coalesce(wl.workload, inf.workload, 'unallocated') AS workload,
               coalesce(wl.team, w2.team, 'unallocated') AS team,
               sum(g.gpu_hours) AS gpu_rows, sum(coalesce(g.busy_fraction * g.weight, 0)) AS busy_hours,
               count(g.gpu_power_watts) AS power_rows, sum(g.gpu_power_watts) AS watts
        FROM ({physical_gpu_hours("g.hour_at >= :s AND g.hour_at < :u")}) g
        JOIN LATERAL (SELECT p.id, p.started_on FROM gpu_cost_profiles p WHERE g.host LIKE {HOST_LIKE}
                      ORDER BY p.id LIMIT 1) p ON TRUE
        {attribution_join('g', gpu=True)}
        LEFT JOIN LATERAL (SELECT i.workload FROM inference_hourly i
                           WHERE i.hour_at = g.hour_at AND i.workload <> ''
                             AND (i.endpoint = g.pod OR (g.host <> '' AND i.endpoint LIKE '%' || g.host || '%'))
                           ORDER BY i.endpoint LIMIT 1) inf ON TRUE
        LEFT JOIN workloads w2 ON w2.name = inf.workload
        WHERE g.hour_at >= :s AND g.hour_at < :u
          AND (p.started_on IS NULL OR g.hour_at >= CAST(p.started_on AS timestamp) AT TIME ZONE 'UTC')
        GROUP BY 1, 2, 3, 4"""), {"s": _utc(since), "u": until}).all()


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


POOL_SCHEMA = {"profile": pl.String, "pricing": pl.String, "day": pl.Date, "workload": pl.String, "team": pl.String,
               "gpu_hours": pl.Float64, "cost_usd": pl.Decimal(38, 18)}


def comparison_profiles(conn: Connection) -> list[str]:
    """Cost profiles no reporting host has ever matched: options to compare against, never billed."""
    return conn.execute(sa.text(f"""
        WITH assigned AS (
            SELECT DISTINCT (SELECT q.id FROM gpu_cost_profiles q WHERE h.host LIKE {HOST_LIKE.replace("p.", "q.")}
                             ORDER BY q.id LIMIT 1) AS id
            FROM (SELECT DISTINCT host FROM gpu_hourly) h)
        SELECT p.name FROM gpu_cost_profiles p
        WHERE NOT EXISTS (SELECT 1 FROM assigned a WHERE a.id = p.id) ORDER BY p.id""")).scalars().all()


def pool_lines(conn: Connection, *, since: date, until: date, until_at: datetime | None = None) -> pl.DataFrame:
    """Daily cost lines of every GPU pool in [since, until), one per workload plus one 'idle' line.

    Hourly cost per GPU: buy = purchase / (amortization_months * 730) + measured watts / 1000 * pue
    * electricity (nameplate power_watts for hours without telemetry) + ops / 730; rent =
    hourly_rate + ops / 730. Capacity is gpu_count * 24 GPU-hours a day from started_on. A profile
    whose host pattern matches no host that ever reported is a comparison option: it bills nothing.
    `until_at` (the clock's now, for a day in progress) ends the last day early: hours after it
    are neither capacity nor cost yet.
    """
    stop = _utc(until) if until_at is None else min(_utc(until), until_at)
    comparison = set(comparison_profiles(conn))
    profiles = [p for p in conn.execute(sa.text(
        "SELECT id, name, pricing, gpu_count, hourly_rate_usd, purchase_price_usd, amortization_months, "
        "power_watts, pue, electricity_usd_per_kwh, ops_usd_per_gpu_month, started_on "
        "FROM gpu_cost_profiles ORDER BY id")).mappings().all() if p["name"] not in comparison]
    measured: dict[tuple[int, date], list[tuple]] = {}
    for pid, day, workload, team, rows, busy, power_rows, watts in _measured(conn, since, stop):
        measured.setdefault((pid, day), []).append((workload, team, rows, busy, power_rows, watts))
    out = []
    for p in profiles:
        first = max(since, p["started_on"] or since)
        for offset in range((until - first).days):
            day = first + timedelta(days=offset)
            hours = min(Decimal(24), Decimal(int((stop - _utc(day)).total_seconds())) / 3600)
            if hours <= 0:
                break
            parts = measured.get((p["id"], day), [])
            cost = day_cost(p, parts, hours=hours)
            out.extend((p["name"], p["pricing"], day, *line) for line in share_out(cost, p["gpu_count"] * hours, parts))
    return pl.DataFrame(out, schema=POOL_SCHEMA, orient="row")


def day_cost(p, parts: list[tuple], *, hours: Decimal = Decimal(24)) -> Decimal:
    """One pool-day's cost in USD (1e-10 steps) from its profile and the measured rows of its first `hours`."""
    capacity = Decimal(p["gpu_count"]) * hours
    ops = _dec(p["ops_usd_per_gpu_month"]) / HOURS_PER_MONTH
    if p["pricing"] == "rent":
        total = capacity * (_dec(p["hourly_rate_usd"]) + ops)
    else:
        capital = _dec(p["purchase_price_usd"]) / (Decimal(p["amortization_months"] or 36) * HOURS_PER_MONTH)
        power_rows = sum(part[4] for part in parts)
        watts = sum((_dec(part[5]) for part in parts), Decimal(0))
        unmeasured = max(capacity - power_rows, Decimal(0))
        kwh = (watts + unmeasured * _dec(p["power_watts"])) / 1000
        total = capacity * (capital + ops) + kwh * _dec(p["pue"] or 1) * _dec(p["electricity_usd_per_kwh"])
    return total.quantize(E10, rounding=ROUND_HALF_EVEN)


def share_out(cost: Decimal, capacity_hours: int | Decimal, parts: list[tuple]) -> list[tuple]:
    """(workload, team, gpu_hours, cost) per workload by busy GPU-hours; 'idle' takes the remainder exactly."""
    busy = {(w, t): _dec(b) for w, t, _rows, b, _pr, _watts in parts if b}
    used = sum(busy.values(), Decimal(0))
    base = max(Decimal(capacity_hours), used)
    lines, spent = [], Decimal(0)
    for (workload, team), hours in sorted(busy.items()):
        share = (cost * hours / base).quantize(E10, rounding=ROUND_HALF_EVEN)
        spent += share
        lines.append((workload, team, float(hours), share))
    lines.append((IDLE, IDLE, float(max(Decimal(capacity_hours) - used, Decimal(0))), cost - spent))
    return lines


SELF_HOSTED_SCHEMA = {"workload": pl.String, "gpu_cost_usd": pl.Decimal(38, 18), "self_hosted_tokens": pl.Int64,
                      "self_hosted_usd_per_mtok": pl.Float64, "api_cost_usd": pl.Decimal(38, 18),
                      "api_tokens": pl.Int64, "api_usd_per_mtok": pl.Float64}


def self_hosted_vs_api(conn: Connection, *, since: date, until: date) -> pl.DataFrame:
    """Per workload: GPU cost / tokens its inference servers served, beside its average API USD per Mtok.

    Tokens are prompt + generation tokens (input + output on the API side); the idle line is
    not charged to any workload here (it is the pool's, shown on its own).
    """
    pool = pool_lines(conn, since=since, until=until).filter(pl.col("workload") != IDLE)
    gpu = {r["workload"]: r["cost_usd"] for r in pool.group_by("workload").agg(pl.col("cost_usd").sum()).iter_rows(named=True)}
    tokens = dict(conn.execute(sa.text(
        "SELECT workload, CAST(sum(prompt_tokens + generation_tokens) AS bigint) FROM inference_hourly "
        "WHERE hour_at >= :s AND hour_at < :u AND workload <> '' GROUP BY 1"), {"s": _utc(since), "u": _utc(until)}).all())
    api = allocated_daily(conn, since=_utc(since), until=_utc(until))
    api_rows = {r["workload"]: r for r in api.group_by("workload").agg(
        pl.col("cost_usd").sum(), (pl.col("input_tokens") + pl.col("output_tokens")).sum().alias("tokens")
    ).iter_rows(named=True)}
    out = []
    for workload in sorted(set(gpu) | set(tokens)):
        cost, served = gpu.get(workload, Decimal(0)), int(tokens.get(workload) or 0)
        a = api_rows.get(workload)
        api_cost, api_tokens = (a["cost_usd"], int(a["tokens"])) if a else (None, 0)
        out.append((workload, cost, served, float(cost) / served * 1e6 if served else None,
                    api_cost, api_tokens, float(api_cost) / api_tokens * 1e6 if api_cost is not None and api_tokens else None))
    return pl.DataFrame(out, schema=SELF_HOSTED_SCHEMA, orient="row")


def write_pool_lines(conn: Connection, *, since: date, until: date) -> int:
    """Store the pool lines as cost_lines (basis 'gpu_profile', ai_class 'gpu'), replacing the window's."""
    frame = pool_lines(conn, since=since, until=until)
    conn.execute(sa.text("DELETE FROM cost_lines WHERE basis = 'gpu_profile' AND charge_period_start_at >= :s "
                         "AND charge_period_start_at < :u"), {"s": _utc(since), "u": _utc(until)})
    for r in frame.iter_rows(named=True):
        start = _utc(r["day"])
        conn.execute(sa.text(
            "INSERT INTO cost_lines (basis, provider, account_id, source_line_key, charge_period_start_at, "
            "charge_period_end_at, billed_cost, effective_cost, currency, charge_category, ai_class, line_item, "
            "consumed_quantity, consumed_unit, tags) VALUES ('gpu_profile', 'gpu_pool', :acct, :key, :s, :e, :c, :c, "
            "'USD', 'usage', 'gpu', :item, :q, 'GPU-hours', CAST(:tags AS jsonb))"),
            {"acct": r["profile"], "key": f"{r['day']}:{r['workload']}", "s": start, "e": start + timedelta(days=1),
             "c": r["cost_usd"], "item": f"{r['pricing']} pool {r['profile']}: {r['workload']}",
             "q": Decimal(str(r["gpu_hours"])),
             "tags": json.dumps({"workload": r["workload"], "team": r["team"]})})
    return frame.height
