"""The report's tables, defined once: the HTML and the XLSX both render these."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl

from models.reports.data import WeeklyReport

# Column kinds: text, usd, pct, int, float, datetime, date
Column = tuple[str, str, str]  # (header, key, kind)


@dataclass
class Table:
    """A titled table with typed columns and rows of dicts."""

    title: str
    sheet: str
    section: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


SPEND_COLUMNS: list[Column] = [
    ("Spend (USD)", "cost_usd", "usd"), ("Last week (USD)", "previous_usd", "usd"),
    ("Change (USD)", "change_usd", "usd"), ("Change", "change_pct", "pct"),
    ("Input tokens", "input_tokens", "int"), ("Output tokens", "output_tokens", "int"),
    ("Unpriced tokens", "unpriced_tokens", "int"),
]


def _rows(frame: pl.DataFrame | None) -> list[dict[str, Any]]:
    return [] if frame is None else list(frame.iter_rows(named=True))


def money_table(rep: WeeklyReport) -> Table:
    """Gross, credits and refunds, tax and net for the week, in USD, with the bases behind them."""
    daily = rep.daily

    def total(column: str) -> Decimal:
        return Decimal(daily[column].sum()) if daily.height and column in daily.columns else Decimal(0)

    facts = [
        {"item": "Gross: usage and purchases (USD)", "value": total("gross_usd"), "kind": "usd"},
        {"item": "Credits and refunds (USD)", "value": total("credits_usd"), "kind": "usd"},
        {"item": "Tax (USD)", "value": total("tax_usd"), "kind": "usd"},
        {"item": "Net token spend (USD): every other figure in this report", "value": total("cost_usd"), "kind": "usd"},
        {"item": "Cost lines without an exchange rate (unconverted, not counted)",
         "value": int(daily["unconverted_rows"].sum()) if daily.height and "unconverted_rows" in daily.columns else 0,
         "kind": "int"},
        {"item": "Cost bases used", "value": ", ".join(rep.quality["bases"]) or "none", "kind": "text"},
    ]
    return Table("Gross and net", "Gross and net", "Spend", [("Item", "item", "text"), ("Value", "value", "mixed")],
                 facts)


def spend_tables(rep: WeeklyReport) -> list[Table]:
    """Gross and net, spend by provider, workload and team, anomalies, and the top movers."""
    out = [money_table(rep)] + [Table(f"Spend by {dim}", f"By {dim}", "Spend", [(dim.capitalize(), "group", "text"), *SPEND_COLUMNS],
                 _rows(frame))
           for dim, frame in (("provider", rep.by_provider), ("workload", rep.by_workload), ("team", rep.by_team))]
    out.append(anomaly_table(rep))
    out.append(Table("Top movers", "Top movers", "Spend", [
        ("Dimension", "dimension", "text"), ("Name", "group", "text"), ("Last week (USD)", "previous_usd", "usd"),
        ("This week (USD)", "cost_usd", "usd"), ("Change (USD)", "change_usd", "usd"),
        ("Change", "change_pct", "pct")], _rows(rep.movers)))
    return out


def anomaly_table(rep: WeeklyReport) -> Table:
    """Days whose spend left its workload's or team's weekday baseline (models.anomalies)."""
    return Table("Spend anomalies", "Anomalies", "Spend", [
        ("Scope", "scope", "text"), ("Name", "name", "text"), ("Day (UTC)", "day", "date"),
        ("Spend (USD)", "spend_usd", "usd"), ("Baseline (USD)", "baseline_usd", "usd"),
        ("Impact (USD)", "impact_usd", "usd"), ("Score (robust z)", "score", "float")], _rows(rep.anomalies),
        note="Baseline: the median of the 7 days before x the weekday's factor over the 8 weeks before; "
             "score = (spend - baseline) / (1.4826 x MAD of the residuals). Complete days only.")


def detail_table(rep: WeeklyReport) -> Table:
    """Every allocated row of the week (XLSX only: too long for the page)."""
    daily = rep.daily.sort(["day", "provider", "account_id", "model", "workload", "team"])
    return Table("Daily detail", "Daily detail", "Spend", [
        ("Day (UTC)", "day", "date"), ("Provider", "provider", "text"), ("Account", "account_id", "text"),
        ("Model", "model", "text"), ("Workload", "workload", "text"), ("Team", "team", "text"),
        ("Cost basis", "cost_basis", "text"), ("Spend (USD)", "cost_usd", "usd"),
        ("Input tokens", "input_tokens", "int"), ("Cached input tokens", "cached_input_tokens", "int"),
        ("Output tokens", "output_tokens", "int"), ("Unpriced tokens", "unpriced_tokens", "int")], _rows(daily))


def economics_tables(rep: WeeklyReport) -> list[Table]:
    """Recommendations per workload and lever savings, where the economics produced them."""
    out = []
    if rep.recommendations is not None:
        out.append(Table("Recommendation per workload (the four weeks to the report's end)", "Recommendations",
                         "Recommendations", [
            ("Workload", "workload", "text"), ("Action", "action", "text"), ("Candidate", "option", "text"),
            ("Tokens per month", "monthly_tokens", "int"), ("Served on own GPUs", "local_share", "pct"),
            ("Breakeven tokens per month", "breakeven_monthly_tokens", "int"),
            ("On tokens alone per month (USD)", "api_usd_month", "usd"),
            ("of which API bill (USD)", "api_billed_usd_month", "usd"),
            ("of which local tokens priced as the API model (USD)", "local_priced_usd_month", "usd"),
            ("Best plan per month (USD)", "hybrid_usd_month", "usd"),
            ("Replicas to own", "replicas", "int"), ("First replica pays", "move_date", "text"),
            ("Why", "reason", "text"), ("Measured beside assumed throughput", "measured", "text")],
            _rows(rep.recommendations)))
        out.append(flips_table(rep))
    if rep.levers is not None:
        out.append(Table("Savings available per lever", "Savings", "Savings", [
            ("Workload", "workload", "text"), ("Lever", "lever", "text"), ("Status", "status", "text"),
            ("Saving per month (USD)", "saving_usd_month", "usd"),
            ("Left per month (USD)", "remaining_usd_month", "usd"),
            ("Detail", "detail", "text")], _rows(rep.levers)))
    return out


def flips_table(rep: WeeklyReport) -> Table:
    """Per workload planned under contract v2: its answer and the sentence saying what would flip it."""
    rows = [r for r in _rows(rep.recommendations) if r.get("flip_sentence")]
    return Table("What flips each answer", "What flips it", "Recommendations", [
        ("Workload", "workload", "text"), ("Answer (plan class)", "plan_class", "text"),
        ("What flips it", "flip_sentence", "text")], rows,
        note="Each input moved alone, the others as planned: the nearest multiplier (on a grid of 2^(j/24) from "
             "1/16x to 16x) at which the cheapest plan's class changes (tokens, hybrid, move). The same sentence "
             "as the Workloads and Breakeven pages and hybridcost simulate --workload.")


def fleet_tables(rep: WeeklyReport) -> list[Table]:
    """GPU use and cost per GPU, and saturation signals per inference endpoint."""
    return [
        Table("GPU use and idle cost per GPU", "GPU fleet", "GPU fleet", [
            ("Host", "host", "text"), ("GPU", "gpu_uuid", "text"), ("GPU-hours", "gpu_hours", "float"),
            ("Busy share", "busy_share", "pct"), ("p95 utilization (%)", "util_p95_pct", "float"),
            ("Cost (USD)", "cost_usd", "usd"), ("Idle cost (USD)", "idle_cost_usd", "usd"),
            ("Signals", "signals", "text")],
            _rows(rep.fleet.by_host), note="Cost from the GPU cost profile whose host pattern matches; "
            f"blank where no profile prices the host. Figures from the {rep.fleet.source}."),
        Table("Saturation signals per endpoint", "Saturation", "GPU fleet", [
            ("Endpoint", "endpoint", "text"), ("Model", "model", "text"), ("Workload", "workload", "text"),
            ("Tokens served", "tokens", "int"), ("Hours at capacity", "saturated_hours", "int"),
            ("Peak queue (requests)", "queue_max", "float"), ("Peak KV cache", "kv_cache_max", "pct")],
            _rows(rep.fleet.saturation)),
        Table("SM activity against tokens served", "SM activity", "GPU fleet", [
            ("GPUs (pod or host)", "target", "text"), ("Mapping", "mapping", "text"), ("Endpoints", "endpoints", "text"),
            ("Workload", "workload", "text"), ("Hours", "hours", "int"),
            ("Mean utilization (%)", "utilization_mean_pct", "float"), ("SM activity", "sm_active_mean_frac", "pct"),
            ("Output tok/s per SM-active GPU", "tokens_per_s_per_sm_gpu", "float"),
            ("Model's curve, tok/s per GPU", "curve_output_tokens_per_s_per_gpu", "float"),
            ("Share of the curve", "delivered_frac", "pct"),
            ("Busy capacity not delivered (USD)", "capacity_not_delivered_usd", "usd"), ("Note", "note", "text")],
            _rows(rep.fleet.sm_delivery), note="An endpoint maps to the GPUs whose pod label is its name or host, "
            "else to every GPU on its host (docs/gpu.md); capacity not delivered is SM-active GPU-hours the tokens do "
            "not account for at the model's curve (docs/economics.md)."),
    ]


def quality_tables(rep: WeeklyReport) -> list[Table]:
    """Unpriced usage, unallocated money, failed ingest runs."""
    q = rep.quality
    facts = [
        {"item": "Unpriced tokens (no price in effect; not counted as $0)", "value": q["unpriced_tokens"],
         "kind": "int"},
        {"item": "Unpriced usage rows", "value": q["unpriced_rows"], "kind": "int"},
        {"item": "Unpriced models", "value": ", ".join(q["unpriced_models"]) or "none", "kind": "text"},
        {"item": "Spend not allocated to a workload (USD)", "value": q["unallocated_usd"], "kind": "usd"},
        {"item": "Cost bases used", "value": ", ".join(q["bases"]) or "none", "kind": "text"},
        {"item": "Failed ingest runs in the week", "value": rep.failed_runs.height, "kind": "int"},
        {"item": "GPU-hours without a cost profile", "value": rep.fleet.unpriced_gpu_hours, "kind": "float"},
        {"item": "Restatements of closed months recorded this week", "value": rep.restatements.height, "kind": "int"},
    ]
    return [
        Table("Data quality", "Data quality", "Data quality", [("Item", "item", "text"), ("Value", "value", "mixed")],
              facts),
        Table("Failed ingest runs", "Failed runs", "Data quality", [
            ("Run", "id", "int"), ("Source", "source", "text"), ("Target", "target", "text"),
            ("Started (UTC)", "started_at", "datetime"), ("Error", "error", "text")], _rows(rep.failed_runs)),
        Table("Restatements of closed months", "Restatements", "Data quality", [
            ("Month", "period", "text"), ("Dimension", "dimension", "text"), ("Group", "group", "text"),
            ("Frozen (USD)", "before", "usd"), ("Now (USD)", "after", "usd"), ("Difference (USD)", "difference", "usd"),
            ("Reason", "reason", "text")], _rows(rep.restatements) if rep.restatements.height else []),
    ]


def report_tables(rep: WeeklyReport, *, detail: bool = False) -> list[Table]:
    """Every table in report order; `detail` adds the long daily table (for the workbook)."""
    tables = spend_tables(rep) + economics_tables(rep) + fleet_tables(rep) + quality_tables(rep)
    return tables + [detail_table(rep)] if detail else tables
