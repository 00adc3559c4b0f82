"""Tables for people: every column gets a human name with its unit and a format (money never cut to fewer cents).

`show` names each column from LABELS, else from its own name with the unit its suffix carries
(`_usd` -> USD, `_pct` -> %, `_at` -> UTC, `_tokens` -> tokens), so no page shows `cost_usd`. It draws
through `app.ui.tables.show_table`: names shown escaped and the formula-safe CSV download.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl
import streamlit as st

from app.ui.tables import show_table

# name -> (label, kind); kinds: usd, usd_rate, share (0..1), pct (already 0..100), int, tokens, float, date,
# datetime, text, list
LABELS: dict[str, tuple[str, str]] = {
    "provider": ("Provider", "text"), "model": ("Model", "text"), "workload": ("Workload", "text"),
    "team": ("Team", "text"), "account_id": ("Account", "text"), "day": ("Day (UTC)", "date"),
    "month": ("Month (UTC)", "month"), "basis": ("Cost basis", "text"), "cost_basis": ("Cost bases", "text"),
    "cost_usd": ("Spend (USD)", "usd"), "gross_usd": ("Gross (USD)", "usd"), "credits_usd": ("Credits (USD)", "usd"),
    "tax_usd": ("Tax (USD)", "usd"), "token_usd": ("Token spend (USD)", "usd"), "gpu_usd": ("GPU cost (USD)", "usd"),
    "total_usd": ("Tokens + GPUs (USD)", "usd"), "gpu_hours": ("GPU-hours", "float"),
    "share": ("Share of total", "share"), "profile": ("GPU pool (cost profile)", "text"),
    "pricing": ("Buy or rent", "text"), "input_tokens": ("Input tokens", "int"),
    "cached_input_tokens": ("Cached input tokens", "int"), "output_tokens": ("Output tokens", "int"),
    "reasoning_tokens": ("Reasoning tokens", "int"), "unpriced_tokens": ("Unpriced tokens", "int"),
    "unpriced_rows": ("Unpriced rows", "int"), "unconverted_rows": ("Unconverted lines", "int"),
    "rows": ("Rows", "int"), "tokens": ("Tokens", "int"), "requests": ("Requests", "int"),
    "hours": ("Hours", "int"), "week_start": ("Week starting (UTC)", "date"),
    "growth_pct": ("Growth vs week before (%)", "pct"), "name": ("Name", "text"), "scope": ("Scope", "text"),
    "status": ("Status", "text"), "note": ("Note", "text"), "why": ("Why", "text"),
    "monthly_usd": ("Budget (USD/month)", "usd"), "month_to_date_usd": ("Month to date (USD)", "usd"),
    "forecast_month_end_usd": ("Forecast month end (USD)", "usd"),
    "forecast_low_usd": ("Range low (USD)", "usd"), "forecast_high_usd": ("Range high (USD)", "usd"),
    "forecast_vs_budget": ("Forecast / budget", "share"), "hours_elapsed": ("Hours of the month elapsed", "float"),
    "spend_usd": ("Spend that day (USD)", "usd"), "baseline_usd": ("Baseline (USD)", "usd"),
    "impact_usd": ("Impact vs baseline (USD)", "usd"), "score": ("Score (robust z)", "float"),
    "amount_usd": ("Basis total (USD)", "usd"), "chosen_usd": ("System of record (USD)", "usd"),
    "variance_usd": ("Variance (USD)", "usd"), "variance_pct": ("Variance (%)", "pct"),
    "flagged": ("Past threshold", "bool"), "days_chosen": ("Days used", "int"),
    "host": ("Host", "text"), "gpu": ("GPU (host:index)", "text"), "gpu_uuid": ("GPU UUID", "text"),
    "mig_instance": ("MIG instance", "text"), "utilization_p50": ("Utilization p50 (%)", "pct"),
    "utilization_p95": ("Utilization p95 (%)", "pct"), "utilization_mean": ("Mean utilization (%)", "pct"),
    "power_mean_watts": ("Mean power (W)", "float"), "busy_hours": ("Busy GPU-hours", "float"),
    "idle_hours": ("Idle GPU-hours", "float"), "gpu_hour_cost_usd": ("USD per GPU-hour", "usd_rate"),
    "idle_cost_usd": ("Idle cost (USD)", "usd"), "cost_profile": ("Cost profile", "text"),
    "signals": ("Signals", "list"), "signal": ("Signal", "text"), "subject": ("Subject", "text"),
    "endpoint": ("Endpoint", "text"), "model_name": ("Model", "text"),
    "usd_per_gpu_hour": ("USD per GPU-hour", "usd_rate"), "gpu_type": ("GPU type", "text"),
    "gpu_count": ("GPUs", "int"), "host_pattern": ("Host pattern", "text"),
    "hourly_rate_usd": ("Rent (USD per GPU-hour)", "usd_rate"), "purchase_price_usd": ("Purchase (USD per GPU)", "usd"),
    "amortization_months": ("Amortization (months)", "int"), "power_watts": ("Power (W per GPU)", "float"),
    "pue": ("PUE", "float"), "electricity_usd_per_kwh": ("Electricity (USD per kWh)", "usd_rate"),
    "ops_usd_per_gpu_month": ("Ops (USD per GPU-month)", "usd"), "started_on": ("In service from (UTC)", "date"),
    "reasoning_usd": ("Reasoning tokens (USD)", "usd"), "reasoning_share": ("Reasoning share of spend", "share"),
    "coverage": ("Request-log coverage of spend", "share"), "logged_usd": ("In request logs (USD)", "usd"),
    "user": ("User", "text"), "repeats": ("Repeats", "int"), "repeat_usd": ("Cost of repeats (USD)", "usd"),
    "fingerprint": ("Fingerprint", "text"), "prompt": ("Prompt (captured)", "text"),
    "first_at": ("First seen (UTC)", "datetime"), "last_at": ("Last seen (UTC)", "datetime"),
    "gpus": ("GPUs", "int"), "sm_active_mean_frac": ("Mean SM activity", "share"),
    "not_delivered_gpu_hours": ("SM-active GPU-hours not delivered", "float"), "advice": ("Advice", "text"),
    "assumption": ("Assumption", "text"), "source": ("Source", "text"),
}

UNIT_SUFFIXES = (("_usd_per_mtok", "USD per 1M tokens", "usd_rate"), ("_usd", "USD", "usd"), ("_pct", "%", "pct"),
                 ("_at", "UTC", "datetime"), ("_tokens", "tokens", "int"), ("_watts", "W", "float"),
                 ("_ms", "ms", "float"), ("_s", "s", "float"))


def label_for(name: str) -> tuple[str, str]:
    """(label, kind) of a column: from LABELS, else its name made readable with the unit of its suffix."""
    if name in LABELS:
        return LABELS[name]
    for suffix, unit, kind in UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            words = name[: -len(suffix)].replace("_", " ").strip()
            return f"{words[:1].upper()}{words[1:]} ({unit})", kind
    words = name.replace("_", " ").strip()
    return ("ID" if words == "id" else f"{words[:1].upper()}{words[1:]}"), "text"


def _column(label: str, kind: str, help_text: str | None):
    cc = st.column_config
    if kind == "usd":
        return cc.NumberColumn(label, format="dollar", help=help_text)
    if kind == "usd_rate":
        return cc.NumberColumn(label, format="$%.4f", help=help_text)
    if kind == "share":
        return cc.NumberColumn(label, format="percent", help=help_text)
    if kind == "pct":
        return cc.NumberColumn(label, format="%.1f %%", help=help_text)
    if kind == "int":
        return cc.NumberColumn(label, format="localized", help=help_text)
    if kind == "float":
        return cc.NumberColumn(label, format="%.1f", help=help_text)
    if kind == "date":
        return cc.DateColumn(label, format="YYYY-MM-DD", help=help_text)
    if kind == "month":
        return cc.DateColumn(label, format="YYYY-MM", help=help_text)
    if kind == "datetime":
        return cc.DatetimeColumn(label, format="YYYY-MM-DD HH:mm", help=help_text)
    if kind == "bool":
        return cc.CheckboxColumn(label, help=help_text)
    if kind == "list":
        return cc.ListColumn(label, help=help_text)
    return cc.TextColumn(label, help=help_text)


def _kind_of(dtype: pl.DataType) -> str:
    """The display kind of a column known by its type only."""
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or isinstance(dtype, pl.Decimal):
        return "float"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Boolean:
        return "bool"
    if isinstance(dtype, pl.List):
        return "list"
    return "text"


def config(frame: pl.DataFrame, labels: Mapping[str, str] | None = None, helps: Mapping[str, str] | None = None,
           kinds: Mapping[str, str] | None = None) -> dict:
    """column_config for every column of the frame (labels, kinds and help texts may be overridden)."""
    labels, helps, kinds = labels or {}, helps or {}, kinds or {}
    out = {}
    for name in frame.columns:
        label, kind = label_for(name)
        if name not in LABELS and kind == "text":
            kind = _kind_of(frame.schema[name])
            if kind == "datetime" and "UTC" not in label:
                label += " (UTC)"
        out[name] = _column(labels.get(name, label), kinds.get(name, kind), helps.get(name))
    return out


def show(frame: pl.DataFrame, *, key: str, labels: Mapping[str, str] | None = None,
         helps: Mapping[str, str] | None = None, kinds: Mapping[str, str] | None = None,
         hide: Iterable[str] = (), height: int | str = "auto") -> None:
    """A table (app.ui.tables.show_table) with human column names, units and formats for every column."""
    kept = frame.drop([c for c in hide if c in frame.columns])
    shown = kept.with_columns(pl.col(pl.Decimal).cast(pl.Float64))  # display only; the download keeps every digit
    show_table(shown, key=key, hide_index=True, column_config=config(shown, labels, helps, kinds), height=height,
               width="stretch", csv=kept)


def renamed(frame: pl.DataFrame, labels: Mapping[str, str] | None = None) -> pl.DataFrame:
    """The frame with human column names (for CSV downloads and reports)."""
    labels = labels or {}
    return frame.rename({c: labels.get(c, label_for(c)[0]) for c in frame.columns})
