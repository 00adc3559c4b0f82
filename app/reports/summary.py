"""Plain sentences for the top of a report: what changed and what to do, generated from the numbers."""

from __future__ import annotations

from app.ui.format import pct, tokens, usd
from models.reports.data import WeeklyReport


def _change(frac: float | None) -> str:
    if frac is None:
        return ""
    word = "rose" if frac > 0 else "fell" if frac < 0 else "held"
    return f"{word} {abs(frac) * 100:.0f}%" if frac else "held steady"


def _plan_line(r: dict) -> str | None:
    """A workload's headline from its recommendation row, or None when it has nothing to say this week."""
    if r.get("crossed"):
        return f"{r['workload']} crossed its breakeven: {r['action']}."
    if (r.get("action") or "").startswith("keep"):
        return (f"{r['workload']}: {r['action']} on {r['option']}; the same traffic on tokens alone "
                f"would cost {usd(r['api_usd_month'], cents=False)} a month "
                f"({usd(r['api_billed_usd_month'], cents=False)} API bill + "
                f"{usd(r['local_priced_usd_month'], cents=False)} for the tokens served locally) "
                f"instead of {usd(r['hybrid_usd_month'], cents=False)}.")
    if r.get("hybrid_usd_month") is not None and r.get("replicas"):
        saving = usd(r["api_usd_month"] - r["hybrid_usd_month"], cents=False)
        return f"{r['workload']}: {r['action']} on {r['option']} (saves {saving} per month against tokens only)."
    if (r.get("move_date") or "")[:1].isdigit():
        return (f"{r['workload']}: stay on tokens for now; against {r['option']} the first replica "
                f"pays from {r['move_date']}.")
    return None


def headlines(rep: WeeklyReport) -> list[str]:
    """Sentences, most important first: total and change, biggest mover, actions, data problems."""
    lines: list[str] = []
    change = rep.change_pct
    period = (f"the first {rep.hours:.0f} hours of {rep.week.label}, a partial week," if rep.partial
              else rep.week.label)
    before = f"the same {rep.hours:.0f} hours of {rep.week.previous.label}" if rep.partial else "the week before"
    if change is None:
        lines.append(f"Token spend was {usd(rep.total_usd)} in {period} "
                     f"(no spend {'in ' + before if rep.partial else before}).")
    else:
        lines.append(f"Token spend {_change(change)} to {usd(rep.total_usd)} in {period} "
                     f"(from {usd(rep.previous_total_usd)} in {before}).")
    if rep.movers.height:
        top = rep.movers.row(0, named=True)
        arrow = "up" if top["change_usd"] > 0 else "down"
        lines.append(f"Biggest mover: {top['dimension']} {top['group']}, {arrow} {usd(abs(top['change_usd']))} "
                     f"to {usd(top['cost_usd'])}.")
    if rep.recommendations is not None:
        for r in rep.recommendations.iter_rows(named=True):
            line = _plan_line(r)
            if line:
                lines.append(line + (f" {r['flip_sentence']}" if r.get("flip_sentence") else ""))
            if r.get("measured") and "Use the measured figure" in r["measured"]:
                lines.append(f"{r['workload']}: {r['measured']}")
    fleet = rep.fleet
    if fleet.gpu_hours:
        idle = f", idle cost {usd(fleet.idle_cost_usd)}" if fleet.idle_cost_usd is not None else ""
        lines.append(f"GPU fleet was busy {pct(fleet.utilization, 0)} of {fleet.gpu_hours:,.0f} GPU-hours{idle}.")
        signals = fleet.by_host["signals"].fill_null("").to_list()
        hot, cold = sum("add_capacity" in s for s in signals), sum("below_breakeven" in s for s in signals)
        if hot:
            lines.append(f"{hot} GPU(s) signal add capacity (sustained high utilization or a queue on their host).")
        if cold:
            lines.append(f"{cold} GPU(s) run below breakeven utilization: consolidate work onto fewer GPUs "
                         "or give them back.")
        saturated = fleet.saturation.filter(fleet.saturation["saturated_hours"] > 0)
        if saturated.height:
            names = ", ".join(saturated["endpoint"].to_list()[:3])
            lines.append(f"Saturation: {saturated.height} endpoint(s) hit capacity ({names}); "
                         "queue building up means add capacity or burst to the API.")
        lines.extend(fleet.sm_lines)
    if rep.anomalies.height:
        top = rep.anomalies.row(0, named=True)
        sign = "+" if top["impact_usd"] > 0 else ""
        lines.append(f"{rep.anomalies.height} spend anomal{'y' if rep.anomalies.height == 1 else 'ies'} against "
                     f"the weekday baseline; the largest: {top['scope']} {top['name']} on {top['day']}, "
                     f"{usd(top['spend_usd'])} vs {usd(top['baseline_usd'])} ({sign}{usd(top['impact_usd'])}).")
    if rep.levers is not None and rep.levers.height:
        total = sum(v for v in rep.levers["saving_usd_month"].to_list() if v)
        if total:
            lines.append(f"Levers could save about {usd(total, cents=False)} per month; see Savings.")
    q = rep.quality
    problems = []
    if q["unpriced_tokens"]:
        problems.append(f"{tokens(q['unpriced_tokens'])} unpriced ({', '.join(q['unpriced_models'][:3])})")
    if q["unallocated_usd"]:
        problems.append(f"{usd(q['unallocated_usd'])} unallocated to a workload")
    if rep.failed_runs.height:
        problems.append(f"{rep.failed_runs.height} failed ingest run(s)")
    if rep.restatements.height:
        problems.append(f"{rep.restatements.height} restatement(s) of closed months (closed totals unchanged)")
    if problems:
        lines.append("Data to fix: " + "; ".join(problems) + ".")
    return lines
