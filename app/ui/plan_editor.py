"""The Workloads page's plan editor: choose the candidate (or no local equivalent), editors only, audited."""

from __future__ import annotations

import streamlit as st

from app.ui import auth, economics
from app.ui.flash import flash_and_rerun
from models.economics.catalog import GPU_TYPES, MODEL_THROUGHPUT
from models.edits import EditError
from models.planning import PlanFigures
from models.planning.plans import NO_LOCAL, SELF_HOST, Plan

SOURCES = {"published": "published (throughput catalog)", "measured": "measured (this workload's vLLM servers)",
           "entered": "entered here"}


def _candidates() -> list[tuple[str, str, int]]:
    return [(r["model"], r["gpu_type"], r["tensor_parallel"]) for r in MODEL_THROUGHPUT]


def plan_editor(workload: str, figures: PlanFigures) -> None:
    """Show the workload's plan and, for editors, a form that saves a new one through the writer engine."""
    c = figures.candidate
    st.write(f"**{c.label}** ({c.marker})" + (f": {c.reason}" if c.reason else ""))
    if c.replaces:
        st.caption(f"Replaces {'/'.join(c.replaces)} ({c.api_class or 'no class in the pairing catalog'}); "
                   "its prices price the tokens served locally.")
    if not auth.can_edit():
        st.caption("Only editors can change a plan (HYBRIDCOST_EDITOR_EMAILS, or a dashboard on loopback).")
        return
    m = figures.measured
    if m is not None and m.suggested_output_tokens_per_s is not None and c.gpu is not None and m.flagged:
        if st.button(f"Use the measured throughput in the plan ({m.suggested_output_tokens_per_s:,.0f} output / "
                     f"{m.suggested_input_tokens_per_s:,.0f} input tok/s per replica)", key="workloads_use_measured"):
            _save(Plan(workload=workload, choice=SELF_HOST, model=c.model, gpu_type=c.gpu_type,
                       tensor_parallel=c.tensor_parallel, pricing=c.pricing, throughput_source="measured",
                       input_tokens_per_s=m.suggested_input_tokens_per_s,
                       output_tokens_per_s=m.suggested_output_tokens_per_s,
                       replaces_provider=c.replaces[0] if c.replaces else "",
                       replaces_model=c.replaces[1] if c.replaces else ""))
    options = _candidates()
    current = (c.model, c.gpu_type, c.tensor_parallel)
    with st.form("workloads_plan_form"):
        choice = st.radio("Plan", ["self-host", "no local equivalent"], horizontal=True, key="workloads_plan_choice",
                          index=0 if c.gpu is not None or c.model else 1)
        cols = st.columns(3)
        picked = cols[0].selectbox("Open model on GPUs (throughput catalog)", options,
                                   index=options.index(current) if current in options else 0,
                                   format_func=lambda o: f"{o[0]} on {o[2]}x {o[1]}", key="workloads_plan_model")
        pricing = cols[1].radio("GPU pricing", ["rent", "buy"], horizontal=True, key="workloads_plan_pricing",
                                index=1 if c.pricing == "buy" else 0)
        source = cols[2].selectbox("Throughput", list(SOURCES), format_func=SOURCES.get, key="workloads_plan_source")
        cols = st.columns(2)
        entered_in = cols[0].number_input("Input tok/s per replica (entered)", 0.0, 1e9, 0.0, 1000.0,
                                          key="workloads_plan_in")
        entered_out = cols[1].number_input("Output tok/s per replica (entered)", 0.0, 1e8, 0.0, 100.0,
                                           key="workloads_plan_out")
        reason = st.text_input("Why there is no local equivalent", key="workloads_plan_reason")
        if st.form_submit_button("Save plan"):
            if choice == "no local equivalent":
                _save(Plan(workload=workload, choice=NO_LOCAL, reason=reason))
                return
            tput_in, tput_out = (entered_in or None, entered_out or None)
            if source == "measured":
                if m is None or m.suggested_output_tokens_per_s is None:
                    st.error("Plan not saved: this workload has no saturated vLLM measurement in the range.")
                    return
                tput_in, tput_out = m.suggested_input_tokens_per_s, m.suggested_output_tokens_per_s
            _save(Plan(workload=workload, choice=SELF_HOST, model=picked[0], gpu_type=picked[1],
                       tensor_parallel=picked[2], pricing=pricing, throughput_source=source,
                       input_tokens_per_s=tput_in, output_tokens_per_s=tput_out,
                       replaces_provider=c.replaces[0] if c.replaces else "",
                       replaces_model=c.replaces[1] if c.replaces else ""))
    if c.chosen and st.button("Remove the plan (back to the default pairing)", key="workloads_plan_clear"):
        economics.remove_plan(workload, auth.actor())
        flash_and_rerun(f"Plan for {workload} removed: the default pairing applies.")
    st.caption("GPU prices come from the GPU types (" + ", ".join(g["gpu_type"] for g in GPU_TYPES)
               + ") on the Data page; `hybridcost plan set` takes every field (rates, purchase, power, ops).")


def _save(plan: Plan) -> None:
    try:
        stored = economics.save_plan(plan, auth.actor())
    except (EditError, PermissionError) as exc:
        st.error(f"Plan not saved: {exc}")
        return
    flash_and_rerun(f"Plan for {stored.workload} saved: " + (
        f"no local equivalent ({stored.reason})" if stored.choice == NO_LOCAL else
        f"{stored.model} on {stored.tensor_parallel}x {stored.gpu_type}, {stored.pricing}, "
        f"{stored.throughput_source} throughput"))
