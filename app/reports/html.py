"""The weekly report as one self-contained HTML page (no network needed to open it)."""

from __future__ import annotations

import base64
import html
from datetime import date, datetime
from typing import Any

import plotly.graph_objects as go
import polars as pl

from app.charts.fleet import idle_cost_by_gpu
from app.charts.flips import flips_tornado
from app.charts.report_charts import fleet_busy, week_over_week
from app.charts.spend import spend_by_group, spend_over_time
from app.charts.whatif import levers_waterfall
from app.reports.summary import headlines
from app.reports.tables import Table, report_tables
from app.ui.format import pct, tokens, usd
from models.names import shown
from models.queries.spend import summarise
from models.reports.data import WeeklyReport
from models.reports.economics import flips_of_row

SECTIONS = [("summary", "What changed and what to do"), ("spend", "Spend"),
            ("recommendations", "Recommendations"), ("fleet", "GPU fleet"), ("savings", "Savings"),
            ("quality", "Data quality")]
CHARTS_AFTER_TABLES = {"recommendations"}  # the tornado charts follow the sentences they draw
TABLE_SECTION = {"Spend": "spend", "Recommendations": "recommendations", "GPU fleet": "fleet",
                 "Savings": "savings", "Data quality": "quality"}

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#111827;margin:24px auto;
max-width:1000px;padding:0 16px;font-size:14px}
h1{font-size:24px;margin-bottom:4px}
h2{font-size:19px;border-bottom:2px solid #2563eb;padding-bottom:4px;margin-top:28px}
h2,h3{break-after:avoid;page-break-after:avoid}h3{font-size:15px;margin:18px 0 6px}.meta{color:#4b5563;margin:0 0 12px}
.kpis{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}.kpi{border:1px solid #e5e7eb;border-radius:6px;
padding:8px 14px;min-width:150px}.kpi .label{color:#6b7280;font-size:12px}.kpi .value{font-size:20px;font-weight:600}
table{border-collapse:collapse;width:100%;margin:4px 0 10px;font-size:12.5px}th,td{border-bottom:1px solid #e5e7eb;
padding:4px 6px;text-align:left}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f3f4f6}.note{color:#6b7280;font-size:12px}.pending{background:#fef3c7;padding:8px 12px;border-radius:6px}
.chart{page-break-inside:avoid;break-inside:avoid;margin:8px 0}.chart img{max-width:100%}
section{page-break-inside:auto}tr{page-break-inside:avoid;break-inside:avoid}
@media print{body{margin:0;max-width:none}}
"""
NUMERIC = {"usd", "pct", "int", "float"}


def signed_pct(value: float | None) -> str:
    """A change as '+12.3 %' or '-4.0 %'; '—' where there is nothing to compare with."""
    return "—" if value is None else ("+" if value > 0 else "") + pct(value)


def cell_text(value: Any, kind: str) -> str:
    """One value as the report shows it (money with $, tokens with separators, UTC times)."""
    if value is None or value == "":
        return "—" if kind in NUMERIC else ""
    if kind == "usd":
        return usd(value)
    if kind == "pct":
        return pct(value)
    if kind == "int":
        return f"{int(value):,}"
    if kind == "float":
        return f"{float(value):,.1f}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    if isinstance(value, date):
        return value.isoformat()
    return shown(str(value))  # a name's invisible characters written out, never reordering the page


def _kind(table: Table, key: str, kind: str, row: dict[str, Any]) -> str:
    if kind == "mixed":
        return row.get("kind", "text")
    if key == "change_pct":
        return "signed_pct"
    return kind


def table_html(table: Table) -> str:
    """A table as HTML; every value escaped."""
    if not table.rows:
        return f"<h3>{html.escape(table.title)}</h3><p class='note'>Nothing this week.</p>"
    head = "".join(f"<th class='{'num' if k in NUMERIC else ''}'>{html.escape(h)}</th>" for h, _, k in table.columns)
    body = []
    for row in table.rows:
        cells = []
        for _, key, kind in table.columns:
            kind = _kind(table, key, kind, row)
            text = signed_pct(row.get(key)) if kind == "signed_pct" else cell_text(row.get(key), kind)
            cls = "num" if kind in NUMERIC | {"signed_pct"} else ""
            cells.append(f"<td class='{cls}'>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = f"<p class='note'>{html.escape(table.note)}</p>" if table.note else ""
    return (f"<h3>{html.escape(table.title)}</h3><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{note}")


def levers_total(levers: pl.DataFrame) -> pl.DataFrame:
    """The per-workload lever steps summed over workloads, as a waterfall frame (today, levers, after)."""
    if levers.is_empty():
        return pl.DataFrame()
    first = levers.group_by("workload", maintain_order=True).first()
    today = float((first["remaining_usd_month"] + first["saving_usd_month"].fill_null(0)).sum())
    rows = [("today", "total", None, today)]
    for lever in levers["lever"].unique(maintain_order=True).to_list():
        part = levers.filter(pl.col("lever") == lever)
        saving = None if part["saving_usd_month"].null_count() == part.height else float(part["saving_usd_month"].sum())
        rows.append((lever, "ok" if saving is not None else "not measurable", saving,
                     float(part["remaining_usd_month"].sum())))
    rows.append(("after levers", "total", None, rows[-1][3]))
    return pl.DataFrame(rows, orient="row", schema={"lever": pl.String, "status": pl.String,
                                                    "saving_usd_month": pl.Float64, "remaining_usd_month": pl.Float64})


def report_figures(rep: WeeklyReport) -> dict[str, list[go.Figure]]:
    """The charts per section, made by the same chart functions as the dashboard (where they exist)."""
    figures = {
        "spend": [spend_over_time(rep.daily, color="provider", title="Token spend per day, by provider"),
                  spend_by_group(summarise(rep.daily, "workload"), title="Spend by workload"),
                  week_over_week(rep.by_team, title="Spend by team, week over week",
                                 this_label=rep.week.label, last_label=rep.week.previous.label)],
        "fleet": [fleet_busy(rep.fleet.hourly)] if rep.fleet.gpu_hours else [],
        "recommendations": flip_figures(rep),
        "savings": [],
    }
    if rep.fleet.gpu_hours:
        figures["fleet"].append(idle_cost_by_gpu(rep.fleet.by_host))
    if rep.levers is not None and rep.levers.height:
        figures["savings"].append(levers_waterfall(levers_total(rep.levers),
                                                   title="Levers over all workloads: from today's monthly cost"))
    return figures


def flip_figures(rep: WeeklyReport) -> list[go.Figure]:
    """One small tornado chart per workload planned under contract v2 (its flip points), in table order."""
    if rep.recommendations is None:
        return []
    out = []
    for row in rep.recommendations.iter_rows(named=True):
        if row["flip_sentence"]:
            flips, flip_to = flips_of_row(row)
            out.append(flips_tornado(flips, row["plan_class"], flip_to,
                                     title=f"What flips {shown(row['workload'])}'s answer ({row['plan_class']})"))
    return out


class _ChartWriter:
    """Turns figures into HTML: interactive (plotly.js inlined once) or static PNG data URIs."""

    def __init__(self, static: bool):
        self.static, self.first = static, True

    def __call__(self, fig: go.Figure) -> str:
        if self.static:
            png = fig.to_image(format="png", width=960, height=int(fig.layout.height or 380), scale=1)
            data = base64.b64encode(png).decode("ascii")
            title = html.escape(str(fig.layout.title.text or "chart"))
            return f"<div class='chart'><img alt='{title}' src='data:image/png;base64,{data}'></div>"
        part = fig.to_html(full_html=False, include_plotlyjs=self.first, default_width="100%",
                           config={"displaylogo": False, "responsive": True})
        self.first = False
        return f"<div class='chart'>{part}</div>"


def _kpis(rep: WeeklyReport) -> str:
    before = (f"Same {rep.hours:.0f} h of {rep.week.previous.label}" if rep.partial
              else f"Last week ({rep.week.previous.label})")
    items = [("Token spend", usd(rep.total_usd)),
             (before, usd(rep.previous_total_usd)),
             ("Change", signed_pct(rep.change_pct)),
             ("Tokens", tokens(int(rep.daily["input_tokens"].sum() + rep.daily["output_tokens"].sum())
                               if rep.daily.height else 0)),
             ("GPU fleet busy", pct(rep.fleet.utilization, 0)),
             ("GPU idle cost", usd(rep.fleet.idle_cost_usd))]
    return "<div class='kpis'>" + "".join(
        f"<div class='kpi'><div class='label'>{html.escape(k)}</div><div class='value'>{html.escape(v)}</div></div>"
        for k, v in items) + "</div>"


def render_html(rep: WeeklyReport, *, static_charts: bool = False) -> str:
    """The whole report as a self-contained HTML document."""
    chart = _ChartWriter(static_charts)
    figures = report_figures(rep)
    tables = report_tables(rep)
    as_of = f"{rep.as_of:%Y-%m-%d %H:%M} UTC" if rep.as_of else "no data"
    end = rep.until if rep.partial else rep.week.until
    parts = [f"<h1>hybridcost weekly report: {html.escape(rep.title)}</h1>",
             f"<p class='meta'>Week {rep.week.since:%a %Y-%m-%d} 00:00 UTC to {end:%a %Y-%m-%d %H:%M} UTC"
             f" &middot; data as of {as_of} &middot; generated {rep.generated_at:%Y-%m-%d %H:%M} UTC</p>"]
    if rep.partial:
        parts.append(f"<p class='pending'>Partial week: {rep.hours:.0f} of 168 hours. Every figure covers only "
                     f"those hours and is compared with the same hours of {html.escape(rep.week.previous.label)}; "
                     "nothing is scaled to a whole week or month.</p>")
    for key, heading in SECTIONS:
        parts.append(f"<section id='{key}'><h2>{html.escape(heading)}</h2>")
        if key == "summary":
            parts.append(_kpis(rep) + "<ul>" + "".join(f"<li>{html.escape(shown(s))}</li>" for s in headlines(rep))
                         + "</ul>")
        section_tables = [t for t in tables if TABLE_SECTION[t.section] == key]
        charts = [chart(f) for f in figures.get(key, [])]
        if key in CHARTS_AFTER_TABLES:
            parts.extend(table_html(t) for t in section_tables)
            parts.extend(charts)
        else:
            parts.extend(charts)
            parts.extend(table_html(t) for t in section_tables)
        if key in ("recommendations", "savings") and not section_tables:
            parts.append("<p class='pending'>" + html.escape(" ".join(rep.pending) or "Not available.") + "</p>")
        parts.append("</section>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>hybridcost weekly report {html.escape(rep.title)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>")
