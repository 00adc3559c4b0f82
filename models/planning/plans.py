"""Workload plans in the database: read one, set one (validated, audited), clear one.

A plan names the self-hosted candidate a workload would move to: the open model, the GPU type,
the tensor-parallel size, rent or buy, and where its throughput comes from (the published
figure of the throughput catalog, the workload's own vLLM measurement, or a figure entered by
hand). Empty fields take the catalogs' values. "No local equivalent" is a plan too: the workload
stays on tokens and the plan says why. Edits go through the writer engine and the audit log.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from models import bounds
from models.audit import record, row_dict
from models.economics import catalog
from models.edits import EditError

SELF_HOST, NO_LOCAL = "self_host", "no_local_equivalent"
THROUGHPUT_SOURCES = ("published", "measured", "entered")


@dataclass(frozen=True)
class Plan:
    """One row of workload_plans, as plain values (None / '' where the catalogs decide)."""

    workload: str
    choice: str
    reason: str = ""
    model: str = ""
    gpu_type: str = ""
    tensor_parallel: int | None = None
    pricing: str = ""
    throughput_source: str = ""
    input_tokens_per_s: float | None = None
    output_tokens_per_s: float | None = None
    hourly_rate_usd: float | None = None
    purchase_price_usd: float | None = None
    amortization_months: int | None = None
    power_watts: float | None = None
    pue: float | None = None
    electricity_usd_per_kwh: float | None = None
    ops_usd_per_gpu_month: float | None = None
    max_utilization: float | None = None
    replaces_provider: str = ""
    replaces_model: str = ""
    updated_by: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The plan as a JSON-ready dict."""
        return asdict(self)


_COLUMNS = [f.name for f in fields(Plan)]
_FLOATS = ("input_tokens_per_s", "output_tokens_per_s", "hourly_rate_usd", "purchase_price_usd", "power_watts",
           "pue", "electricity_usd_per_kwh", "ops_usd_per_gpu_month", "max_utilization")


def plan_for(conn: Connection, workload: str) -> Plan | None:
    """The workload's saved plan, or None when it has none (the default pairing applies)."""
    row = conn.execute(sa.text(f"SELECT {', '.join(_COLUMNS)} FROM workload_plans WHERE workload = :w"),
                       {"w": workload}).mappings().one_or_none()
    if row is None:
        return None
    values = {k: (float(v) if k in _FLOATS and v is not None else v) for k, v in row.items()}
    return Plan(**values)


def _number(label: str, value: Any, *, kind: str | None = None, positive: bool = False,
            whole: bool = False) -> float | None:
    """A finite number from a number or text (`2e4` included), checked against its bound; None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (ValueError, OverflowError):
        raise EditError(f"{label} must be a number, not {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise EditError(f"{label} must be a finite number, not {value!r}")
    if number < 0 or (positive and number == 0):
        raise EditError(f"{label} must be {'above zero' if positive else 'zero or more'}, not {value!r}")
    if whole and number != int(number):
        raise EditError(f"{label} must be a whole number, not {value!r}")
    if kind is not None:
        try:
            bounds.check(kind, Decimal(repr(number)), field=label)
        except bounds.ImplausibleValue as exc:
            raise EditError(str(exc).split("; if it is real")[0]) from None
    return number


def validate(plan: Plan) -> Plan:
    """The plan with numbers checked and names normalised; EditError naming the field and bound otherwise."""
    if plan.choice not in (SELF_HOST, NO_LOCAL):
        raise EditError(f"choice must be {SELF_HOST} or {NO_LOCAL}, not {plan.choice!r}")
    if plan.choice == NO_LOCAL:
        if not plan.reason.strip():
            raise EditError("say why there is no local equivalent (--reason), so the workload's page can show it")
        return Plan(workload=plan.workload, choice=NO_LOCAL, reason=plan.reason.strip()[:500],
                    replaces_provider=plan.replaces_provider.strip(), replaces_model=plan.replaces_model.strip(),
                    updated_by=plan.updated_by)
    if not plan.model.strip() or not plan.gpu_type.strip():
        raise EditError("a self-hosted plan needs the open model (--model) and the GPU type (--gpu)")
    if plan.pricing not in ("rent", "buy"):
        raise EditError(f"pricing must be rent or buy, not {plan.pricing!r}")
    source = plan.throughput_source or "published"
    if source not in THROUGHPUT_SOURCES:
        raise EditError(f"throughput source must be one of {', '.join(THROUGHPUT_SOURCES)}, not {source!r}")
    tp = _number("tensor-parallel size", plan.tensor_parallel, positive=True, whole=True)
    if tp is None:
        raise EditError("a self-hosted plan needs the tensor-parallel size (--tp, GPUs per replica)")
    if tp > 64:
        raise EditError(f"tensor-parallel size {tp:g} is above 64 GPUs per replica")
    numbers = {
        "input_tokens_per_s": _number("input tokens/s per replica", plan.input_tokens_per_s, positive=True),
        "output_tokens_per_s": _number("output tokens/s per replica", plan.output_tokens_per_s, positive=True),
        "hourly_rate_usd": _number("rent (USD per GPU-hour)", plan.hourly_rate_usd, kind="usd_per_gpu_hour"),
        "purchase_price_usd": _number("purchase price (USD per GPU)", plan.purchase_price_usd, kind="amount_usd"),
        "amortization_months": _number("amortization months", plan.amortization_months, positive=True, whole=True),
        "power_watts": _number("power (W per GPU)", plan.power_watts, kind="power_watts"),
        "pue": _number("PUE", plan.pue, positive=True),
        "electricity_usd_per_kwh": _number("electricity (USD per kWh)", plan.electricity_usd_per_kwh),
        "ops_usd_per_gpu_month": _number("operations (USD per GPU-month)", plan.ops_usd_per_gpu_month,
                                         kind="amount_usd"),
        "max_utilization": _number("max utilization", plan.max_utilization, kind="fraction", positive=True),
    }
    for key, top in (("input_tokens_per_s", 1e9), ("output_tokens_per_s", 1e8)):
        if numbers[key] is not None and numbers[key] > top:
            raise EditError(f"{key.replace('_', ' ')} {numbers[key]:g} is above {top:g} per replica: "
                            "is it per cluster, or per minute?")
    if numbers["pue"] is not None and not 1 <= numbers["pue"] <= 3:
        raise EditError(f"PUE must be between 1 and 3, not {numbers['pue']:g}")
    if numbers["amortization_months"] is not None and numbers["amortization_months"] > 240:
        raise EditError("amortization months must be 240 or fewer")
    if source == "published":
        try:
            catalog.throughput(plan.model.strip(), plan.gpu_type.strip(), int(tp))
        except KeyError as exc:
            raise EditError(f"{exc.args[0]}; enter the throughput (--input-tps, --output-tps) or use "
                            "--throughput measured") from None
        numbers["input_tokens_per_s"] = numbers["output_tokens_per_s"] = None  # the catalog's figure stands
    elif numbers["input_tokens_per_s"] is None or numbers["output_tokens_per_s"] is None:
        raise EditError(f"a {source} throughput needs both --input-tps and --output-tps (tokens/s per replica)")
    for whole in ("amortization_months",):
        if numbers[whole] is not None:
            numbers[whole] = int(numbers[whole])
    return Plan(workload=plan.workload, choice=SELF_HOST, model=plan.model.strip(), gpu_type=plan.gpu_type.strip(),
                tensor_parallel=int(tp), pricing=plan.pricing, throughput_source=source,
                replaces_provider=plan.replaces_provider.strip(), replaces_model=plan.replaces_model.strip(),
                updated_by=plan.updated_by, **numbers)


def set_plan(engine: Engine, plan: Plan, *, actor: str | None = None, is_demo: bool = False) -> Plan:
    """Create or replace a workload's plan (validated, audited); returns what was stored."""
    stored = validate(plan)
    with engine.begin() as conn:
        if conn.execute(sa.text("SELECT 1 FROM workloads WHERE name = :w"), {"w": stored.workload}).first() is None:
            known = ", ".join(conn.execute(sa.text("SELECT name FROM workloads ORDER BY name")).scalars()) or "none"
            raise EditError(f"unknown workload {stored.workload!r} (known: {known})")
        before = row_dict(conn, "workload_plans", "workload = :w", {"w": stored.workload})
        values = {**stored.as_dict(), "updated_by": actor or stored.updated_by or "", "is_demo": is_demo}
        columns = [c for c in values if c != "workload"]
        conn.execute(sa.text(
            f"INSERT INTO workload_plans (workload, {', '.join(columns)}, updated_at) "
            f"VALUES (:workload, {', '.join(':' + c for c in columns)}, now()) ON CONFLICT (workload) DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in columns) + ", updated_at = now()"), values)
        record(conn, actor, "workload_plan", stored.workload, "update" if before else "create", before,
               row_dict(conn, "workload_plans", "workload = :w", {"w": stored.workload}))
    return stored


def clear_plan(engine: Engine, workload: str, *, actor: str | None = None) -> bool:
    """Remove a workload's plan (audited), so the default pairing applies again; False when it had none."""
    with engine.begin() as conn:
        before = row_dict(conn, "workload_plans", "workload = :w", {"w": workload})
        if before is None:
            return False
        conn.execute(sa.text("DELETE FROM workload_plans WHERE workload = :w"), {"w": workload})
        record(conn, actor, "workload_plan", workload, "delete", before, None)
        return True
