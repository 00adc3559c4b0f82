"""Edits made from the dashboard: budgets, attribution rules, prices, saved scenarios.

Each function validates its input and raises EditError with a message a person can act on;
nothing is written unless every check passes.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from ingest.loader import load
from ingest.records import Price
from models import clock, discipline_rollup
from models.audit import record, row_dict
from models.bounds import problem
from models.prices import mark_retroactive

MATCH_FIELDS = ("provider", "account_id", "project_id", "api_key_id", "user_id", "model", "tag")
SCOPES = ("team", "workload")


class EditError(ValueError):
    """An edit was refused; the message says why and what to change."""


def _decimal(label: str, value: Any, *, required: bool = True, bound: str | None = None,
             accept: tuple[str, ...] = ()) -> Decimal | None:
    """A non-negative Decimal from a number or text, inside its plausibility bound; None when optional and blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise EditError(f"{label} is required")
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise EditError(f"{label} must be a number, not {value!r}") from exc
    if not number.is_finite() or number < 0:
        raise EditError(f"{label} must be a non-negative number, not {value!r}")
    why = problem(bound, number) if bound and bound not in accept else None
    if why:
        raise EditError(f"{label}: {why}")
    return number


def check_price_field(label: str, value: Any, *, required: bool = False) -> Decimal | None:
    """One price field (USD per 1M tokens) as the dashboard's form checks it: EditError says why it is refused."""
    return _decimal(label, value, required=required, bound="usd_per_mtok")


def check_budget_target(conn, scope: str, name: str) -> None:
    """Refuse a budget for a team or workload that does not exist (a typo would never match any spend)."""
    if scope == "workload":
        found = conn.execute(sa.text("SELECT 1 FROM workloads WHERE name = :n"), {"n": name}).first()
        known = conn.execute(sa.text("SELECT name FROM workloads ORDER BY name")).scalars().all()
    else:
        found = conn.execute(sa.text("SELECT 1 FROM workloads WHERE team = :n"), {"n": name}).first()
        known = conn.execute(sa.text("SELECT DISTINCT team FROM workloads WHERE team <> '' ORDER BY team")
                             ).scalars().all()
    if found is None and name != "unallocated":
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "") if known else "none yet"
        raise EditError(f"there is no {scope} named {name!r} (known: {shown}); add it with an attribution rule first")


def _text(label: str, value: Any) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if not text:
        raise EditError(f"{label} is required")
    return text


def set_budget(engine: Engine, *, scope: str, name: str, monthly_usd: Any, actor: str | None = None) -> None:
    """Create or replace the monthly budget (USD) of a team or workload (audited)."""
    if scope not in SCOPES:
        raise EditError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    name = _text("name", name)
    amount = _decimal("monthly budget (USD)", monthly_usd, bound="monthly_budget_usd")
    where, key = "scope = :s AND name = :n", {"s": scope, "n": name}
    with engine.begin() as conn:
        check_budget_target(conn, scope, name)
        before = row_dict(conn, "budgets", where, key)
        conn.execute(sa.text(
            "INSERT INTO budgets (scope, name, monthly_usd) VALUES (:s, :n, :u) "
            "ON CONFLICT (scope, name) DO UPDATE SET monthly_usd = EXCLUDED.monthly_usd"),
            {"s": scope, "n": name, "u": amount})
        record(conn, actor, "budget", f"{scope}:{name}", "update" if before else "create", before,
               row_dict(conn, "budgets", where, key))


def delete_budget(engine: Engine, *, scope: str, name: str, actor: str | None = None) -> bool:
    """Remove a budget (audited); False when there was none."""
    key = {"s": scope, "n": name}
    with engine.begin() as conn:
        before = row_dict(conn, "budgets", "scope = :s AND name = :n", key)
        if before is None:
            return False
        conn.execute(sa.text("DELETE FROM budgets WHERE scope = :s AND name = :n"), key)
        record(conn, actor, "budget", f"{scope}:{name}", "delete", before, None)
        return True


def add_rule(engine: Engine, *, workload: str, match_field: str, pattern: str, priority: int | None = None,
             tag_key: str = "", team: str = "", actor: str | None = None) -> int:
    """Add an attribution rule (glob pattern on one field, audited); creates the workload if new. Returns its id."""
    workload = _text("workload", workload)
    pattern = _text("pattern", pattern)
    if match_field not in MATCH_FIELDS:
        raise EditError(f"match field must be one of {', '.join(MATCH_FIELDS)}, not {match_field!r}")
    if match_field == "tag" and not (tag_key or "").strip():
        raise EditError("a tag rule needs the tag key (for example 'workload')")
    if priority is not None and (not isinstance(priority, int) or priority < 0):
        raise EditError("priority must be a whole number of 0 or more (lower applies first)")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO workloads (name, team) VALUES (:n, :t) ON CONFLICT (name) DO NOTHING"),
                     {"n": workload, "t": (team or "").strip()})
        if priority is None:
            priority = conn.execute(sa.text("SELECT coalesce(max(priority), 0) + 10 FROM attribution_rules")).scalar_one()
        rule_id = conn.execute(sa.text(
            "INSERT INTO attribution_rules (priority, workload_id, match_field, tag_key, pattern) "
            "SELECT :p, id, :f, :k, :pat FROM workloads WHERE name = :w RETURNING id"),
            {"p": priority, "f": match_field, "k": (tag_key or "").strip(), "pat": pattern, "w": workload}).scalar_one()
        record(conn, actor, "attribution_rule", str(rule_id), "create", None,
               row_dict(conn, "attribution_rules", "id = :i", {"i": rule_id}))
        # Re-flag discipline within the new workloads (and keep a new tag key in the rollup), in this transaction.
        discipline_rollup.after_rule_change(conn)
        return rule_id


def add_price(engine: Engine, *, provider: str, model: str, effective_from: date, input_usd_per_mtok: Any,
              output_usd_per_mtok: Any, cached_input_usd_per_mtok: Any = None, batch_input_usd_per_mtok: Any = None,
              batch_output_usd_per_mtok: Any = None, note: str = "", today: date | None = None,
              actor: str | None = None, accept: tuple[str, ...] = ()) -> bool:
    """Add a price in USD per 1,000,000 tokens from a UTC date; True when it waits as a pending retroactive change.

    Written through the loader like `hybridcost prices set`: a change to a price already in
    effect before today stays pending until `hybridcost prices reprice` applies it. Each price is
    checked against its plausibility bound (models.bounds) unless `accept` names it ("usd_per_mtok");
    a price accepted that way is recorded as such in the audit note.
    """


    provider, model = _text("provider", provider), _text("model", model)
    if not isinstance(effective_from, date):
        raise EditError("effective from must be a date")
    def money(label: str, value: Any, required: bool = True) -> Decimal | None:
        return _decimal(f"{label} price (USD per 1M tokens)", value, required=required, bound="usd_per_mtok",
                        accept=accept)

    price = Price(
        provider=provider, model=model, effective_from=effective_from,
        input_usd_per_mtok=money("input", input_usd_per_mtok),
        output_usd_per_mtok=money("output", output_usd_per_mtok),
        cached_input_usd_per_mtok=money("cached input", cached_input_usd_per_mtok, required=False),
        batch_input_usd_per_mtok=money("batch input", batch_input_usd_per_mtok, required=False),
        batch_output_usd_per_mtok=money("batch output", batch_output_usd_per_mtok, required=False),
        source="dashboard" + (f": {note}" if note else ""))
    with engine.connect() as conn:
        staged = mark_retroactive(conn, [price], today=today or clock.today())
    load(engine, staged, source="prices", target=f"dashboard price {provider} {model}")
    with engine.begin() as conn:
        record(conn, actor, "price", f"{provider}/{model}@{effective_from}", "pending" if staged[0].pending else "set",
               None, asdict(staged[0]), note="accepted as real though outside the plausible range"
               if "usd_per_mtok" in accept else None)
    return staged[0].pending


def save_scenario(engine: Engine, *, name: str, body: dict[str, Any], actor: str | None = None) -> None:
    """Save (or overwrite) a named what-if scenario; the body is its inputs as plain JSON."""
    name = _text("scenario name", name)
    if len(name) > 80:
        raise EditError("scenario name must be 80 characters or fewer")
    try:
        payload = json.dumps(body)
    except (TypeError, ValueError) as exc:
        raise EditError(f"scenario inputs are not plain values: {exc}") from exc
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO scenarios (name, body) VALUES (:n, CAST(:b AS jsonb)) "
            "ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body, updated_at = now()"), {"n": name, "b": payload})
        record(conn, actor, "scenario", name, "save", None, body)
