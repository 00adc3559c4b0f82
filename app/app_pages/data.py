"""Data: ingest runs and freshness, attribution rules, price catalog, unpriced usage; forms that edit them."""


import streamlit as st

from app.ui import auth, columns, data, ledger_data
from app.ui.filters import current
from app.ui.flash import flash_and_rerun, show_flashes
from app.ui.format import name
from models import clock
from models.edits import MATCH_FIELDS, EditError, add_price, add_rule
from models.gpu_profiles import FIELDS, ProfileError, set_profile

st.title("Data")
show_flashes()
view = current()  # the entry point keeps the workload/team filter for other pages (keep_scope)
since, until = view.since, view.until

st.subheader("Ingest runs")
runs = data.ingest_runs()
if runs.is_empty():
    st.info("No ingest runs yet. Load the demo with `hybridcost demo load`, or ingest files with "
            "`hybridcost ingest openai|anthropic|focus FILE`.")
else:
    failed = runs.filter(runs["status"] == "failed").height
    cols = st.columns(3)
    cols[0].metric("Runs", f"{runs.height:,}", help="Latest ingest runs recorded (up to 200).")
    cols[1].metric("Failed runs", f"{failed:,}", help="Runs whose status is 'failed': nothing of them was written.")
    cols[2].metric("Rows written", f"{int(runs['rows_written'].sum()):,}", help="Σ rows written by these runs.")
    columns.show(runs, key="data_runs_table")
for group in data.lookalike_names():
    st.warning(f"Lookalike {group['kind']} names: {' / '.join(group['shown'])} display alike but are different "
               "names (one holds an invisible or direction-changing character, shown as <U+…>).")
st.markdown("**Freshness**")
columns.show(data.data_freshness(clock.as_of()), key="data_freshness_table")

st.subheader("Attribution rules")
st.caption("Rules apply in priority order (lowest first); the first whose glob pattern (* and ?) matches assigns "
           "the row to a workload. Rows that match none are 'unallocated'.")
rules = data.attribution_rules()
if rules.is_empty():
    st.info("No attribution rules: all spend is unallocated. Add one below, or load the demo (`hybridcost demo load`).")
else:
    columns.show(rules, key="data_rules_table")
with st.form("data_rule_form"):
    st.markdown("**Add a rule**")
    c = st.columns(5)
    workload = c[0].text_input("Workload", key="data_rule_workload", help="Created if it does not exist yet.")
    team = c[1].text_input("Team (for a new workload)", key="data_rule_team")
    field = c[2].selectbox("Match field", MATCH_FIELDS, key="data_rule_field")
    pattern = c[3].text_input("Pattern (glob)", key="data_rule_pattern", placeholder="proj_labeling*")
    tag_key = c[4].text_input("Tag key (tag rules only)", key="data_rule_tag_key")
    if st.form_submit_button("Add rule"):
        try:
            rule_id = add_rule(data.writer_engine(), actor=auth.actor(), workload=workload, match_field=field, pattern=pattern,
                               tag_key=tag_key, team=team)
        except (EditError, PermissionError) as exc:
            st.error(f"Rule not added: {exc}")
        else:
            data.clear()
            flash_and_rerun(f"Added rule {rule_id}: {field} matching {pattern.strip()!r} → {workload.strip()}.")

st.subheader("Price catalog")
st.caption("All prices are **USD per 1,000,000 tokens** (per Mtok), effective from a UTC date until the next "
           "price of the same model. A LiteLLM price of 2.5e-06 per token is 2.50 here.")
catalog = data.prices()
if catalog.is_empty():
    st.info("No prices yet: usage is shown as unpriced. Add prices below, or import LiteLLM's price map "
            "(see docs/ingest.md).")
else:
    columns.show(catalog, key="data_prices_table")
with st.form("data_price_form"):
    st.markdown("**Add a price** (USD per 1M tokens)")
    c = st.columns(3)
    provider = c[0].text_input("Provider", key="data_price_provider", placeholder="openai")
    model = c[1].text_input("Model", key="data_price_model", placeholder="gpt-4.1")
    effective = c[2].date_input("Effective from (UTC)", value=clock.today(),
                                key="data_price_from")
    c = st.columns(5)
    inp = c[0].text_input("Input, USD per 1M tokens", key="data_price_input", placeholder="2.00")
    out = c[1].text_input("Output, USD per 1M tokens", key="data_price_output", placeholder="8.00")
    cached = c[2].text_input("Cached input, USD per 1M tokens", key="data_price_cached", placeholder="optional")
    b_in = c[3].text_input("Batch input, USD per 1M tokens", key="data_price_batch_in", placeholder="optional")
    b_out = c[4].text_input("Batch output, USD per 1M tokens", key="data_price_batch_out", placeholder="optional")
    accept = st.checkbox("The value is real (accept a price outside the plausible range; recorded in the audit log)",
                         key="data_price_accept",
                         help="Prices are checked per 1,000,000 tokens: 0 < value < 0.001 is a per-token price and "
                              "above 1,000 a per-1K price or a typo (models/bounds.py).")
    if st.form_submit_button("Add price"):
        try:
            pending = add_price(data.writer_engine(), actor=auth.actor(), provider=provider, model=model,
                                effective_from=effective, input_usd_per_mtok=inp, output_usd_per_mtok=out,
                                cached_input_usd_per_mtok=cached, batch_input_usd_per_mtok=b_in,
                                batch_output_usd_per_mtok=b_out,
                                accept=("usd_per_mtok",) if accept else ())
        except (EditError, PermissionError) as exc:
            st.error(f"Price not added: {exc}")
        else:
            data.clear()
            flash_and_rerun(f"Added the price of {provider.strip()}/{model.strip()} from {effective}"
                            + (": it changes money already shown, so it is pending until "
                               "`hybridcost prices reprice --since DATE` applies it." if pending else "."))

st.subheader("Unpriced usage")
unpriced = data.unpriced_usage(since, until)
if unpriced.is_empty():
    st.success("Every usage row in this period has a price.")
else:
    st.warning(f"{unpriced['rows'].sum():,} usage rows have no price in effect; they are counted as unpriced, "
               "never as $0. Add their prices above.")
    columns.show(unpriced, key="data_unpriced_table")

st.subheader("GPU cost profiles")
st.caption("What a pool of GPUs costs per GPU-hour. Buy: purchase USD per GPU / (amortization months × 730) + "
           "W / 1000 × PUE × USD per kWh + ops / 730; rent: USD per GPU-hour + ops / 730. A pool's GPUs × 24 "
           "GPU-hours a day are its capacity; the GPU cost by team shares it by measured use, the rest is idle. "
           "The same edit from the command line: `hybridcost gpu-profile set NAME --gpu-type ... --pricing ...`.")
profiles = data.cost_profiles()
if profiles.is_empty():
    st.info("No GPU cost profiles: GPU-hours are unpriced (never $0). Add one below.")
else:
    columns.show(profiles, key="data_profiles_table")
if auth.can_edit():
    NEW = "(a new profile)"
    existing = {r["name"]: r for r in profiles.iter_rows(named=True)}
    picked = st.selectbox("Profile to edit", [NEW, *existing], key="data_gpu_profile", format_func=name)
    current_row = existing.get(picked, {})
    with st.form("data_gpu_form"):
        suffix = "new" if picked == NEW else picked
        profile_name = st.text_input("Profile name", value="" if picked == NEW else picked,
                                     key=f"data_gpu_name_{suffix}",
                                     disabled=picked != NEW, placeholder="gpu-node-2 (owned 8x H100)")
        entered = {}
        cells = st.columns(4)
        for i, field in enumerate(FIELDS.values()):
            shown = current_row.get(field.name)
            cell = cells[i % 4]
            if field.kind == "pricing":
                entered[field.name] = cell.selectbox(field.label, ["buy", "rent"], help=field.help,
                                                     index=1 if shown == "rent" else 0,
                                                     key=f"data_gpu_{field.name}_{suffix}")
            else:
                entered[field.name] = cell.text_input(field.label, value="" if shown is None else str(shown),
                                                      help=field.help, key=f"data_gpu_{field.name}_{suffix}")
        if st.form_submit_button("Save GPU profile"):
            try:
                _, created = set_profile(data.writer_engine(), profile_name if picked == NEW else picked, entered,
                                         actor=auth.actor())
            except (ProfileError, PermissionError) as exc:
                st.error(f"GPU profile not saved: {exc}")
            else:
                data.clear()
                flash_and_rerun(f"{'Created' if created else 'Updated'} the GPU profile "
                                f"{(profile_name or picked).strip()}.")
else:
    st.caption("Only editors can create or edit GPU cost profiles.")

st.subheader("Ledger: closed months, restatements, exchange rates, audit log")
closed = ledger_data.periods()
if closed.is_empty():
    st.caption("No month is closed yet. `hybridcost period close 2026-10` freezes a month's figures; later loads "
               "that would change it are kept as restatements (docs/ledger.md).")
else:
    columns.show(closed, key="data_periods_table")
restated = ledger_data.restatements()
if restated.is_empty():
    st.caption("No restatements: no load has changed a closed month.")
else:
    st.warning(f"{restated.height:,} restatement(s): later loads changed closed months. The closed totals did not "
               "change; the differences are listed here and in the next weekly report.")
    columns.show(restated, key="data_restatements_table")

rates = ledger_data.fx_rates()
st.markdown(f"**Exchange rates** (to the reporting currency; lines without a rate for their day are "
            f"*unconverted*: counted, never summed at 1:1). {rates.height:,} stored.")
if not rates.is_empty():
    columns.show(rates, key="data_fx_table")
if auth.can_edit():
    with st.form("data_fx_form", clear_on_submit=True):
        c = st.columns(3)
        fx_day = c[0].date_input("Day (UTC)", value=clock.today(), key="data_fx_day")
        fx_currency = c[1].text_input("Currency (ISO 4217)", placeholder="EUR", key="data_fx_currency")
        fx_rate = c[2].text_input("Rate: 1 unit = ? reporting currency", placeholder="1.0832", key="data_fx_rate")
        if st.form_submit_button("Save rate"):
            try:
                ledger_data.save_rate(fx_day, fx_currency, fx_rate, auth.actor())
            except (ValueError, PermissionError) as exc:
                st.error(f"Rate not saved: {str(exc).splitlines()[0]}")
            else:
                flash_and_rerun(f"Saved the {fx_currency.strip().upper()} rate for {fx_day}.")

audit = ledger_data.audit_entries()
st.markdown("**Audit log** (newest 500, whatever the date range): every edit to prices, rules, budgets, GPU "
            "profiles, exchange rates and periods, with who, when, and the row before and after "
            "(`hybridcost audit --json` exports it).")
if audit.is_empty():
    st.caption("No edits yet.")
else:
    columns.show(audit, key="data_audit_table")
