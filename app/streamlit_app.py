"""hybridcost dashboard entry point: navigation over the pages in app_pages/."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import streamlit as st

from app.preload import preload
from app.ui import data, warm
from app.ui.auth import require_login
from app.ui.filters import UNSCOPED_PAGES, shared_sidebar
from app.ui.tables import HIDE_BUILTIN_DOWNLOAD
from models import clock

preload()  # every page's modules, in one order, before any page runs (app/server.py says why)

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
PAGES_DIR = Path(__file__).resolve().parent / "app_pages"

# (file, title, icon); a page file that is not there yet is left out of the menu.
PAGES = [
    ("overview.py", "Overview", ":material/dashboard:"),
    ("spend.py", "Spend", ":material/payments:"),
    ("workloads.py", "Workloads", ":material/work:"),
    ("breakeven.py", "Breakeven", ":material/query_stats:"),
    ("fleet.py", "GPU fleet", ":material/memory:"),
    ("whatif.py", "What-if", ":material/tune:"),
    ("workflow.py", "Workflow", ":material/psychology:"),
    ("reports.py", "Reports", ":material/description:"),
    ("data.py", "Data", ":material/database:"),
]


AS_OF_KEY = "as_of"


def as_of_from_url():
    """The moment `?as_of=2026-10-31T23:00Z` in the address pins for this session, or None.

    Read when the session starts and kept in session state, because switching pages clears the
    address; it is written back so a copied link keeps it.
    """
    if "as_of_url" not in st.session_state:
        st.session_state["as_of_url"] = st.query_params.get(AS_OF_KEY) or ""
    text = st.session_state["as_of_url"]
    if not text:
        return None
    if st.query_params.get(AS_OF_KEY) != text:
        st.query_params[AS_OF_KEY] = text
    try:
        return clock.parse_as_of(text, name="as_of in the address")
    except clock.AsOfError as exc:
        st.error(str(exc))
        return None


def main() -> None:
    """Configure the page and run the selected one."""
    st.set_page_config(page_title="hybridcost", page_icon=":material/balance:", layout="wide")
    st.html(HIDE_BUILTIN_DOWNLOAD)  # tables download through the formula-safe writer instead

    require_login()  # stops here unless login is off or the user is allowed
    warm.start()  # once per process: keeps the default views computed as the data changes
    pages = [st.Page(str(PAGES_DIR / f), title=t, icon=i, default=(f == "overview.py"))
             for f, t, i in PAGES if (PAGES_DIR / f).exists()]
    selected = st.navigation(pages)
    st.sidebar.caption("hybridcost · tokens or GPUs, decided with numbers")
    url_as_of = as_of_from_url()
    try:
        with clock.pinned(url_as_of):
            pinned_at = clock.as_of()
            if pinned_at is not None:
                st.sidebar.info(f"As of {pinned_at:%Y-%m-%d %H:%M} UTC: later data is left out.")
            # before the page, so the view survives page switches
            shared_sidebar(data.workloads(), scoped=selected.url_path not in UNSCOPED_PAGES)
            selected.run()
    except Exception as exc:  # no traceback ever reaches the page
        logging.getLogger("hybridcost.app").exception("page %s failed", selected.title)
        st.error(f"This page could not be shown: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}. "
                 "The details are in the server log.")


main()
