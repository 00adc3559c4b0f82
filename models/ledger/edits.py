"""Audited edits the dashboard and CLI call: attribution rules, budgets, GPU cost profiles."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from models import audit, discipline_rollup
from models.bounds import problem
from models.ledger import LedgerError

MATCH_FIELDS = ("provider", "account_id", "project_id", "api_key_id", "user_id", "model", "tag", "namespace", "pod")
PROFILE_FIELDS = ("gpu_type", "gpu_count", "pricing", "host_pattern", "hourly_rate_usd", "purchase_price_usd",
                  "amortization_months", "power_watts", "pue", "electricity_usd_per_kwh", "ops_usd_per_gpu_month",
                  "started_on")


# GPU profile fields and the bound each is checked against (models/bounds.py).
PROFILE_BOUNDS = {"hourly_rate_usd": "usd_per_gpu_hour", "purchase_price_usd": "amount", "power_watts": "power_watts",
                  "pue": "pue", "electricity_usd_per_kwh": "usd_per_kwh", "ops_usd_per_gpu_month": "amount",
                  "amortization_months": "months", "gpu_count": "gpu_count"}


def _money(value: Any, what: str, bound: str | None = None) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise LedgerError(f"{what} {value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise LedgerError(f"{what} must be zero or more, not {value}")
    why = problem(bound, number) if bound else None
    if why:
        raise LedgerError(f"{what}: {why}")
    return number


def save_rule(conn: Connection, *, workload: str, match_field: str, pattern: str, priority: int = 100,
              tag_key: str = "", enabled: bool = True, rule_id: int | None = None, actor: str | None = None) -> int:
    """Create or update an attribution rule (audited); the workload is created if new."""
    if match_field not in MATCH_FIELDS:
        raise LedgerError(f"match field must be one of {', '.join(MATCH_FIELDS)}, not {match_field!r}")
    workload_id = conn.execute(sa.text(
        "INSERT INTO workloads (name) VALUES (:n) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id"),
        {"n": workload}).scalar_one()
    values = {"priority": priority, "workload_id": workload_id, "match_field": match_field, "tag_key": tag_key,
              "pattern": pattern, "enabled": enabled}
    before = None if rule_id is None else audit.row_dict(conn, "attribution_rules", "id = :i", {"i": rule_id})
    if rule_id is not None and before is None:
        raise LedgerError(f"no attribution rule {rule_id}")
    if before is None:
        rule_id = conn.execute(sa.text(
            "INSERT INTO attribution_rules (priority, workload_id, match_field, tag_key, pattern, enabled) "
            "VALUES (:priority, :workload_id, :match_field, :tag_key, :pattern, :enabled) RETURNING id"),
            values).scalar_one()
    else:
        conn.execute(sa.text(
            "UPDATE attribution_rules SET priority = :priority, workload_id = :workload_id, match_field = :match_field, "
            "tag_key = :tag_key, pattern = :pattern, enabled = :enabled WHERE id = :id"), {**values, "id": rule_id})
    audit.record(conn, actor, "attribution_rule", str(rule_id), "create" if before is None else "update",
                 None if before is None else {k: before[k] for k in values}, {**values, "workload": workload})
    # Re-flag discipline within the new workloads (and keep a new tag key in the rollup), in this transaction.
    discipline_rollup.after_rule_change(conn)
    return rule_id


def delete_rule(conn: Connection, rule_id: int, *, actor: str | None = None) -> None:
    """Delete an attribution rule (audited)."""
    before = audit.row_dict(conn, "attribution_rules", "id = :i", {"i": rule_id})
    if before is None:
        raise LedgerError(f"no attribution rule {rule_id}")
    conn.execute(sa.text("DELETE FROM attribution_rules WHERE id = :i"), {"i": rule_id})
    audit.record(conn, actor, "attribution_rule", str(rule_id), "delete", before, None)
    discipline_rollup.after_rule_change(conn)


def set_budget(conn: Connection, *, scope: str, name: str, monthly_usd: Any, actor: str | None = None) -> None:
    """Create or change a monthly budget for a team or workload (audited)."""
    if scope not in ("team", "workload"):
        raise LedgerError(f"budget scope must be team or workload, not {scope!r}")
    amount = _money(monthly_usd, "monthly budget", "monthly_budget_usd")
    before = audit.row_dict(conn, "budgets", "scope = :s AND name = :n", {"s": scope, "n": name})
    conn.execute(sa.text(
        "INSERT INTO budgets (scope, name, monthly_usd) VALUES (:s, :n, :m) "
        "ON CONFLICT (scope, name) DO UPDATE SET monthly_usd = EXCLUDED.monthly_usd"),
        {"s": scope, "n": name, "m": amount})
    audit.record(conn, actor, "budget", f"{scope}/{name}", "create" if before is None else "update",
                 None if before is None else {"monthly_usd": before["monthly_usd"]}, {"monthly_usd": amount})


def delete_budget(conn: Connection, *, scope: str, name: str, actor: str | None = None) -> None:
    """Delete a budget (audited)."""
    before = audit.row_dict(conn, "budgets", "scope = :s AND name = :n", {"s": scope, "n": name})
    if before is None:
        raise LedgerError(f"no {scope} budget {name!r}")
    conn.execute(sa.text("DELETE FROM budgets WHERE scope = :s AND name = :n"), {"s": scope, "n": name})
    audit.record(conn, actor, "budget", f"{scope}/{name}", "delete", {"monthly_usd": before["monthly_usd"]}, None)


def save_gpu_profile(conn: Connection, name: str, fields: dict[str, Any], *, actor: str | None = None) -> int:
    """Create or update a GPU cost profile by name (audited); unknown fields are refused."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise LedgerError(f"unknown GPU profile field(s): {', '.join(sorted(unknown))}")
    if fields.get("pricing", "buy") not in ("buy", "rent"):
        raise LedgerError(f"pricing must be buy or rent, not {fields['pricing']!r}")
    for key, bound in PROFILE_BOUNDS.items():
        if fields.get(key) is not None:
            _money(fields[key], key.replace("_", " "), bound)
    before = audit.row_dict(conn, "gpu_cost_profiles", "name = :n", {"n": name})
    if before is None:
        missing = {"gpu_type", "gpu_count", "pricing"} - set(fields)
        if missing:
            raise LedgerError(f"new GPU profile {name!r} needs {', '.join(sorted(missing))}")
        cols = ["name", *fields]
        profile_id = conn.execute(sa.text(
            f"INSERT INTO gpu_cost_profiles ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)}) "
            "RETURNING id"), {"name": name, **fields}).scalar_one()
    else:
        profile_id = before["id"]
        if fields:
            conn.execute(sa.text(f"UPDATE gpu_cost_profiles SET {', '.join(f'{c} = :{c}' for c in fields)} "
                                 "WHERE id = :id"), {**fields, "id": profile_id})
    after = audit.row_dict(conn, "gpu_cost_profiles", "id = :i", {"i": profile_id})
    audit.record(conn, actor, "gpu_profile", name, "create" if before is None else "update", before, after)
    return profile_id


def delete_gpu_profile(conn: Connection, name: str, *, actor: str | None = None) -> None:
    """Delete a GPU cost profile (audited)."""
    before = audit.row_dict(conn, "gpu_cost_profiles", "name = :n", {"n": name})
    if before is None:
        raise LedgerError(f"no GPU profile {name!r}")
    conn.execute(sa.text("DELETE FROM gpu_cost_profiles WHERE name = :n"), {"n": name})
    audit.record(conn, actor, "gpu_profile", name, "delete", before, None)
