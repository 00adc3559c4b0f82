"""The candidate a workload is compared with: its saved plan, else the default pairing of its API model.

GPU prices come from the GPU types in the database (edits on the Data page count), falling back
to the reference catalog; a plan's own figures win over both. Throughput comes from the plan
(measured or entered) or from the throughput catalog row of the pairing (published).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy import Connection

from models.economics import catalog
from models.economics.contract import GpuOption
from models.planning.pairing import DEFAULT_PAIRING, model_class
from models.planning.plans import NO_LOCAL, Plan

CHOSEN = "chosen plan"


@dataclass(frozen=True)
class Candidate:
    """What a workload is compared with, in words and as the engine's GpuOption (None: stays on tokens)."""

    workload: str
    chosen: bool  # False: the default pairing (or no pairing), not a saved plan
    replaces: tuple[str, str] | None  # (provider, model) whose tokens it would take over
    api_class: str | None
    model: str | None
    gpu_type: str | None
    tensor_parallel: int | None
    pricing: str | None
    throughput_source: str | None  # published | measured | entered
    throughput_note: str
    gpu: GpuOption | None
    reason: str  # why there is no GpuOption (no local equivalent, an unpriced GPU type, ...)
    other_pricing: GpuOption | None = None  # the same candidate bought instead of rented, or the reverse

    @property
    def marker(self) -> str:
        """'chosen plan' or 'default pairing, not chosen'."""
        return CHOSEN if self.chosen else DEFAULT_PAIRING

    @property
    def label(self) -> str:
        """The candidate in a few words: 'Llama 3.3 70B FP8 on 2x H100, rented' or 'no local equivalent'."""
        if self.model is None:
            return "no local equivalent"
        how = {"rent": "rented", "buy": "bought"}.get(self.pricing or "", self.pricing or "")
        where = f" on {self.tensor_parallel}x {self.gpu_type}" if self.gpu_type else ""
        return f"{self.model}{where}" + (f", {how}" if how else "")

    def describe(self) -> str:
        """The candidate, its marker and, for a GPU option, the price per GPU-hour and throughput."""
        if self.gpu is None:
            return f"{self.label} ({self.marker}): {self.reason}"
        g = self.gpu
        price = (f"${g.hourly_rate:,.2f}/GPU-hour" if g.pricing == "rent" else
                 f"${g.purchase_price:,.0f} per GPU over {g.amortization_months:g} months")
        return (f"{self.label} at {price}, {g.output_tokens_per_s:,.0f} output / {g.input_tokens_per_s:,.0f} "
                f"input tok/s per replica ({self.throughput_source}) ({self.marker})")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description (the GpuOption's fields included)."""
        return {"label": self.label, "marker": self.marker, "chosen": self.chosen,
                "replaces": "/".join(self.replaces) if self.replaces else None, "api_class": self.api_class,
                "model": self.model, "gpu_type": self.gpu_type, "tensor_parallel": self.tensor_parallel,
                "pricing": self.pricing, "throughput_source": self.throughput_source,
                "throughput_note": self.throughput_note, "reason": self.reason or None,
                "gpu": None if self.gpu is None else self.gpu.model_dump()}


def gpu_type_prices(conn: Connection, name: str) -> dict[str, float | None]:
    """Purchase (USD), rent (USD per GPU-hour) and power (W) of a GPU type: the database row, else the catalog."""
    row = conn.execute(sa.text("SELECT purchase_usd, rent_usd_per_gpu_hour, power_watts FROM gpu_types "
                               "WHERE lower(name) = lower(:n)"), {"n": name}).one_or_none()
    try:
        ref = catalog.gpu_type(name)
    except KeyError:
        ref = {"purchase_usd": None, "rent_usd_per_gpu_hour": None, "tdp_watts": None}
    pick = (lambda db, key: float(db) if db is not None else ref[key])
    if row is None:
        return {"purchase_usd": ref["purchase_usd"], "rent_usd_per_gpu_hour": ref["rent_usd_per_gpu_hour"],
                "power_watts": ref["tdp_watts"]}
    return {"purchase_usd": pick(row[0], "purchase_usd"), "rent_usd_per_gpu_hour": pick(row[1], "rent_usd_per_gpu_hour"),
            "power_watts": pick(row[2], "tdp_watts")}


def _gpu_option(conn: Connection, plan: Plan, tput: dict | None) -> tuple[GpuOption | None, str]:
    """The engine's GpuOption for a self-hosted plan, or None with the reason it cannot be priced."""
    prices = gpu_type_prices(conn, plan.gpu_type)
    given = (lambda value, fallback: fallback if value is None else value)
    fields: dict[str, Any] = {
        "pricing": plan.pricing, "replica_gpus": plan.tensor_parallel,
        "ops_per_gpu_month": given(plan.ops_usd_per_gpu_month, catalog.DEFAULT_OPS_PER_GPU_MONTH),
        "max_utilization": given(plan.max_utilization, catalog.DEFAULT_MAX_UTILIZATION),
        "input_tokens_per_s": given(plan.input_tokens_per_s, tput["input_tokens_per_s"] if tput else None),
        "output_tokens_per_s": given(plan.output_tokens_per_s, tput["output_tokens_per_s"] if tput else None),
    }
    if plan.pricing == "rent":
        fields["hourly_rate"] = given(plan.hourly_rate_usd, prices["rent_usd_per_gpu_hour"])
        missing = "a rent price" if fields["hourly_rate"] is None else ""
    else:
        fields.update(purchase_price=given(plan.purchase_price_usd, prices["purchase_usd"]),
                      amortization_months=given(plan.amortization_months, catalog.DEFAULT_AMORTIZATION_MONTHS),
                      power_watts=given(plan.power_watts, prices["power_watts"]),
                      pue=given(plan.pue, catalog.DEFAULT_PUE),
                      electricity_per_kwh=given(plan.electricity_usd_per_kwh, catalog.DEFAULT_ELECTRICITY_PER_KWH))
        missing = ("a purchase price" if fields["purchase_price"] is None else
                   "its power draw" if fields["power_watts"] is None else "")
    if missing:
        return None, (f"the GPU type {plan.gpu_type} has no {missing[2:] if missing.startswith('a ') else missing}: "
                      "add it on the Data page or in the plan (hybridcost plan set)")
    if fields["input_tokens_per_s"] is None or fields["output_tokens_per_s"] is None:
        return None, f"no throughput for {plan.model} on {plan.tensor_parallel}x {plan.gpu_type}: enter it in the plan"
    try:
        return GpuOption(**fields), ""
    except ValidationError as exc:
        return None, f"the plan's GPU figures are not usable: {exc.errors()[0]['msg']}"


def _catalog_throughput(model: str, gpu_type: str, tp: int) -> dict | None:
    try:
        return catalog.throughput(model, gpu_type, tp)
    except KeyError:
        return None


def resolve(conn: Connection, workload: str, plan: Plan | None, main_model: tuple[str, str] | None) -> Candidate:
    """The candidate for a workload from its plan (None: the default pairing of `main_model`'s class)."""
    saved = plan is not None
    replaces = main_model
    if plan is not None and plan.replaces_model:
        replaces = (plan.replaces_provider, plan.replaces_model)
    cls = model_class(replaces[1]) if replaces else None
    base = {"workload": workload, "chosen": saved, "replaces": replaces, "api_class": cls.name if cls else None}
    none = {"model": None, "gpu_type": None, "tensor_parallel": None, "pricing": None, "throughput_source": None,
            "throughput_note": "", "gpu": None}
    if plan is not None and plan.choice == NO_LOCAL:
        return Candidate(reason=plan.reason, **base, **none)
    if plan is None:
        if replaces is None:
            return Candidate(reason="the workload has no API usage to compare a GPU with", **base, **none)
        if cls is None or cls.open_model is None:
            why = (cls.why if cls else f"{replaces[1]} is in no class of the pairing catalog; choose a candidate "
                   "with hybridcost plan set (or on the Workloads page)")
            return Candidate(reason=why, **base, **none)
        plan = Plan(workload=workload, choice="self_host", model=cls.open_model, gpu_type=cls.gpu_type,
                    tensor_parallel=cls.tensor_parallel, pricing="rent", throughput_source="published")
    tput = _catalog_throughput(plan.model, plan.gpu_type, plan.tensor_parallel or 1)
    source = plan.throughput_source or "published"
    note = (f"{tput['source']}; {tput['conversion_note']}" if source == "published" and tput else
            "measured by the workload's own vLLM servers" if source == "measured" else "entered in the plan")
    gpu, reason = _gpu_option(conn, plan, tput)
    other, _ = _gpu_option(conn, Plan(**{**plan.as_dict(), "pricing": "buy" if plan.pricing == "rent" else "rent"}),
                           tput)
    return Candidate(model=plan.model, gpu_type=plan.gpu_type, tensor_parallel=plan.tensor_parallel,
                     pricing=plan.pricing, throughput_source=source, throughput_note=note, gpu=gpu, reason=reason,
                     other_pricing=other, **base)
