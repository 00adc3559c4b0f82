"""Overview: this month and last month by provider, data freshness."""

import polars as pl
import streamlit as st

from app.charts.spend import spend_by_group, spend_over_time
from app.ui import data
from app.ui.filters import date_range_sidebar
from app.ui.format import tokens, usd
from models.queries.spend import summarise

st.title("Overview")
since, until = date_range_sidebar()
daily = data.spend_daily(since, until)

if daily.is_empty():
    st.info("No token usage or cost data yet. Load the demo with `hybridcost demo load`, "
            "or bring your own with `hybridcost ingest openai|anthropic|focus FILE` (see docs/ingest.md).")
    st.stop()

total = daily["cost_usd"].sum()
cols = st.columns(4)
cols[0].metric("Token spend", usd(total), help="Sum over the period of the best cost basis per provider, "
               "account and UTC day: invoice/FOCUS > cost API > usage × price > request-log estimate.")
cols[1].metric("Tokens", tokens(int(daily["input_tokens"].sum() + daily["output_tokens"].sum())),
               help="Input (cached included) + output (reasoning included) tokens.")
unpriced = int(daily["unpriced_tokens"].sum())
cols[2].metric("Unpriced tokens", tokens(unpriced), help="Usage whose model has no price in effect: "
               "counted here, never added up as $0. Add a price on the Data page.")
unallocated = daily.filter(pl.col("workload") == "unallocated")["cost_usd"].sum()
cols[3].metric("Unallocated spend", usd(unallocated), help="Spend that matches no attribution rule.")

left, right = st.columns(2)
left.plotly_chart(spend_over_time(daily, color="provider"), key="overview_daily")
right.plotly_chart(spend_by_group(summarise(daily, "workload"), title="Spend by workload"),
                   key="overview_by_workload")

st.subheader("Data freshness")
st.dataframe(data.data_freshness(), hide_index=True)
