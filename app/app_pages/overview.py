"""Overview: token and GPU cost, by team (showback), anomalies, this month vs last, month-end forecasts, budgets."""

import polars as pl
import streamlit as st

from app.charts.spend import cost_by_team, month_comparison, spend_by_group, spend_over_time, token_vs_gpu
from app.ui import auth, columns, cost_views, data
from app.reports.csv_writer import frame_csv
from app.ui.filters import apply_scope, current
from app.ui.flash import flash_and_rerun, show_flashes
from app.ui.format import tokens, usd
from models import anomalies, clock
from models.edits import EditError, set_budget
from models.ledger.gpu import IDLE
from models.queries import gpu_showback, month_end
from models.queries.overview import budget_status, month_over_month, token_vs_gpu_daily, two_month_window, within
from models.queries.spend import summarise

st.title("Overview")
show_flashes()
view = current()
now = clock.now()
today = now.date()
# One query covers the period and the two calendar months the comparison and forecasts need.
wide_since, wide_until = two_month_window(today)
wide = data.spend_daily(min(view.since, wide_since), clock.clamp(max(view.until, wide_until)))
all_daily = within(wide, view.since, view.until)
daily = apply_scope(all_daily, view.workloads, view.teams)
all_lines = cost_views.gpu_lines(view.since, view.until, clock.current_hour())
lines = gpu_showback.scoped(all_lines, view.workloads, view.teams)
filtered = bool(view.workloads or view.teams)
gpu_daily = data.gpu_spend_daily(view.since, view.until)

if all_daily.is_empty() and all_lines.is_empty():
    st.info("No token usage, cost or GPU data yet. Load the demo with `hybridcost demo load`, "
            "or bring your own with `hybridcost ingest openai|anthropic|focus ...` (see docs/ingest.md).")
    st.stop()

total = float(daily["cost_usd"].sum()) if not daily.is_empty() else 0.0
gpu_total = float(gpu_showback.total_usd(lines))
idle_total = float(gpu_showback.total_usd(all_lines.filter(pl.col("workload") == IDLE)))
cols = st.columns(4)
cols[0].metric("Token spend", usd(total), help="Sum over the period of the best cost basis per provider, "
               "account and UTC day: invoice/FOCUS > cost API > usage × price (USD per 1M tokens) > request-log estimate.")
cols[1].metric("GPU cost" + (" (their share)" if filtered else ""), usd(gpu_total),
               help="Each GPU pool's cost per day (its cost profile × its GPUs × the hours so far), shared to "
                    "workloads by their measured busy GPU-hours; what no workload used is the idle line. "
                    + ("Filtered: the picked teams' and workloads' shares only, idle excluded."
                       if filtered else f"Idle included ({usd(idle_total)}).")
                    + " Buy: purchase / (amortization months × 730) + W / 1000 × PUE × USD/kWh + ops / 730; "
                      "rent: hourly rate + ops / 730.")
cols[2].metric("Tokens", tokens(int(daily["input_tokens"].sum() + daily["output_tokens"].sum()) if not daily.is_empty() else 0),
               help="Input (cached included) + output (reasoning included) tokens.")
cols[3].metric("Tokens + GPUs", usd(total + gpu_total), help="Token spend + GPU cost over the period.")

cols = st.columns(3)
unpriced = int(daily["unpriced_tokens"].sum()) if not daily.is_empty() else 0
cols[0].metric("Unpriced tokens", tokens(unpriced), help="Usage whose model has no price in effect: "
               "counted here, never added up as $0. Add a price on the Data page.")
unallocated = float(daily.filter(pl.col("workload") == "unallocated")["cost_usd"].sum()) if not daily.is_empty() else 0.0
cols[1].metric("Unallocated spend", usd(unallocated), help="Σ spend whose rows match no attribution rule "
               "(workload 'unallocated'). Add a rule on the Data page.")
unpriced_gpu = int(gpu_daily["unpriced_gpu_hours"].sum()) if not gpu_daily.is_empty() else 0
cols[2].metric("Unpriced GPU-hours", f"{unpriced_gpu:,}", help="GPU-hours on hosts that match no GPU cost profile; "
               "not counted as $0 in GPU cost. Add a profile on the Data page.")

left, right = st.columns(2)
left.plotly_chart(spend_over_time(daily, color="provider"), key="overview_daily")
right.plotly_chart(spend_by_group(summarise(daily, "workload"), title="Token spend by workload"),
                   key="overview_by_workload")

st.subheader("Cost by team: tokens and GPUs")
by_team = gpu_showback.team_costs(daily, lines, "team")
left, right = st.columns([2, 3])
left.plotly_chart(cost_by_team(by_team), key="overview_team_chart")
with right:
    totals = pl.DataFrame({"team": ["Total"], "token_usd": [by_team["token_usd"].sum()],
                           "gpu_usd": [by_team["gpu_usd"].sum()], "gpu_hours": [by_team["gpu_hours"].sum()],
                           "total_usd": [by_team["total_usd"].sum()]}, schema=by_team.schema)
    columns.show(pl.concat([by_team, totals]), key="overview_team_table",
                 labels={"gpu_hours": "GPU-hours used"},
                 helps={"gpu_usd": "The team's measured share of each GPU pool's daily cost; 'idle' is capacity "
                                   "no workload used (its own line, no team's).",
                        "token_usd": "The system of record's token spend (best basis per account and day)."})
    st.download_button("Download GPU cost lines (CSV)", frame_csv(lines), file_name="gpu-cost-by-team.csv",
                       mime="text/csv", key="overview_gpu_csv",
                       help="Per UTC day, GPU pool, workload and team: GPU-hours used and USD (idle its own line).")
st.caption("GPU cost is shared by measured use: each pool-day's cost × (a workload's busy GPU-hours / the pool's "
           "GPU-hours), the rest is idle; the lines sum exactly to the fleet's GPU cost. "
           + ("With a team or workload filter only their shares are shown (no idle)." if filtered else ""))

st.subheader("Spend anomalies")
rule = cost_views.anomaly_rule()
workload_frame = data.workloads()
team_of = dict(zip(workload_frame["name"].to_list(), workload_frame["team"].to_list()))
found = anomalies.scoped(cost_views.anomalies(view.since, view.until, today, rule.threshold, rule.min_usd),
                         view.workloads, view.teams, team_of)
if found.is_empty():
    st.success("No spend anomalies in this period: every complete day is within its weekday baseline.")
else:
    worst = found.row(0, named=True)
    st.warning(f"{found.height} anomalous day(s); the largest: {worst['scope']} **{worst['name']}** on "
               f"{worst['day']}: {usd(worst['spend_usd'])} against a baseline of {usd(worst['baseline_usd'])} "
               f"({'+' if worst['impact_usd'] > 0 else ''}{usd(worst['impact_usd'])}).")
    columns.show(found, key="overview_anomalies_table", height=min(38 * (found.height + 1), 300),
                 helps={"baseline_usd": "level (median of the 7 days before) × the weekday's factor (median of "
                                        "spend / level on that weekday over the 8 weeks before)",
                        "score": "(spend − baseline) / (1.4826 × MAD of the residuals, at least 10 % of the baseline "
                                 "and $1)"})
st.caption(f"Daily spend per workload and team against its own weekday-seasonal baseline (median and MAD of "
           f"residuals); listed when |score| ≥ {rule.threshold:g} and |impact| ≥ {usd(rule.min_usd)} "
           "(HYBRIDCOST_ANOMALY_THRESHOLD, HYBRIDCOST_ANOMALY_MIN_USD). Today is not judged until it is over.")

st.subheader("This month vs last month")
month_daily = apply_scope(within(wide, wide_since, wide_until), view.workloads, view.teams)
months = month_over_month(month_daily, today)
left, right = st.columns(2)
left.plotly_chart(month_comparison(months), key="overview_months")
with right:
    columns.show(months, key="overview_months_table", labels={
        "this_month_usd": "This month to date (USD)", "last_month_usd": "Last month (USD)",
        "last_month_to_date_usd": "Last month, same days (USD)", "change_vs_same_days": "Change vs same days"},
        kinds={"change_vs_same_days": "share"})

st.subheader("Month-end forecast (token spend)")
forecast = month_end.forecast_frame(month_daily, now, "team")
total_row = forecast.filter(pl.col("team") == month_end.TOTAL).row(0, named=True)
if total_row["forecast_month_end_usd"] is None:
    st.info(f"Not enough of the month to forecast: {total_row['note']}. Month to date "
            f"{usd(total_row['month_to_date_usd'])}.")
else:
    st.caption(f"Month to date / hours elapsed × hours in the month ({total_row['note']}); the range adds the "
               "remaining days at the 10th and 90th percentile of this month's complete days.")
columns.show(forecast, key="overview_forecast_table", hide=("hours_elapsed", "note"),
             helps={"forecast_month_end_usd": "Month to date / hours elapsed × hours in the month; none under "
                                              "24 hours of the month.",
                    "forecast_low_usd": "Month to date + remaining days × the 10th percentile of complete days.",
                    "forecast_high_usd": "Month to date + remaining days × the 90th percentile of complete days."})

st.subheader("Token spend vs GPU cost")
st.plotly_chart(token_vs_gpu(token_vs_gpu_daily(daily, gpu_showback.daily_totals(lines))), key="overview_token_vs_gpu")

st.subheader("Budgets")
status = budget_status(month_daily, data.budgets(), now)
over = status.filter(pl.col("status").is_in(["exceeded", "forecast over"]))
for row in over.iter_rows(named=True):
    forecast_text = "—" if row["forecast_month_end_usd"] is None else usd(row["forecast_month_end_usd"])
    st.warning(f"{row['scope'].title()} **{row['name']}**: {row['status']}: forecast month-end "
               f"{forecast_text} vs budget {usd(row['monthly_usd'])} (month to date {usd(row['month_to_date_usd'])}).")
if status.is_empty():
    st.caption("No budgets yet: add one below.")
else:
    columns.show(status, key="overview_budgets_table", hide=("hours_elapsed", "note"),
                 helps={"forecast_month_end_usd": "Month to date / hours elapsed × hours in the month "
                                                  "(none under 24 hours of the month)."})
with st.form("overview_budget_form", clear_on_submit=False):
    st.markdown("**Set a monthly budget** (USD per month; replaces an existing one for the same team or workload)")
    c1, c2, c3 = st.columns(3)
    scope = c1.selectbox("Scope", ["team", "workload"], key="overview_budget_scope")
    choices = sorted({t for t in workload_frame["team"].to_list() if t}) + sorted(workload_frame["name"].to_list())
    name = c2.selectbox("Team or workload", choices, key="overview_budget_name", accept_new_options=True,
                        help="An existing team or workload (a budget for a name that has no spend would never warn).")
    amount = c3.text_input("Budget (USD per month)", key="overview_budget_amount", placeholder="5000")
    if st.form_submit_button("Save budget"):
        try:
            set_budget(data.writer_engine(), actor=auth.actor(), scope=scope, name=name or "", monthly_usd=amount)
        except (EditError, PermissionError) as exc:
            st.error(f"Budget not saved: {exc}")
        else:
            data.clear()
            flash_and_rerun(f"Saved the {scope} budget for {(name or '').strip()}.")

st.subheader("Data freshness")
columns.show(data.data_freshness(clock.as_of()), key="overview_freshness")
