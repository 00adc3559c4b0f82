"""Reports: pick an ISO week, generate the weekly report, download HTML, PDF and XLSX."""

import streamlit as st

from app.reports.pdf import browser_available, browser_path
from app.reports.weekly import available_weeks, file_stem, generate_files
from app.ui import data
from models.reports.data import ReportInputError, parse_week

MIME = {"html": "text/html", "pdf": "application/pdf",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

st.title("Reports")
st.caption("The weekly report: Monday 00:00 UTC to Monday 00:00 UTC. The same files as "
           "`hybridcost report weekly`; schedule that command to get them every week (docs/reports.md).")

partial = st.toggle("Include the week in progress (partial)", key="reports_partial",
                    help="A week in progress covers only its hours so far, compared with the same hours of the week "
                         "before; its title says partial and nothing is scaled to a whole week or month.")
weeks = available_weeks(data.engine(), include_partial=partial)
if not weeks:
    st.info("No complete week of data yet. Load the demo with `hybridcost demo load`, ingest your own data, "
            "or include the week in progress.")
    st.stop()

last_full = parse_week(None).label
week = st.selectbox("ISO week", weeks, index=weeks.index(last_full) if last_full in weeks else 0,
                    format_func=lambda w: f"{w} (in progress: partial)" if w > last_full else w,
                    help="Complete weeks with data, newest first; the default is the last complete week.")
formats = ["html", "xlsx"] + (["pdf"] if browser_available() else [])
if not browser_available():
    st.warning(f"PDF is not available: no Chromium at {browser_path()} (install chromium or set "
               "HYBRIDCOST_BROWSER_PATH). HTML and XLSX still work.")

if st.button("Generate report", type="primary"):
    with st.spinner(f"Building the report for {week}..."):
        try:
            outcome, files = generate_files(data.engine(), week, formats, partial=partial)
        except ReportInputError as exc:
            st.error(str(exc))
            st.stop()
    st.session_state["report_files"] = (outcome.report.title, files, outcome.failed, file_stem(outcome.report))

if "report_files" in st.session_state:
    made_week, files, failed, stem = st.session_state["report_files"]
    st.subheader(f"Report {made_week}")
    cols = st.columns(3)
    for col, fmt in zip(cols, ("html", "pdf", "xlsx")):
        if fmt in files:
            col.download_button(f"Download {fmt.upper()}", files[fmt], file_name=f"{stem}.{fmt}", mime=MIME[fmt],
                                key=f"download_{fmt}")
        elif fmt in failed:
            col.error(f"{fmt.upper()} not written: {failed[fmt]}")
