"""The dashboard's server process: heavy modules imported once, in the main thread, before any session runs.

Streamlit runs each session's script in a thread of its own. On a fresh server the first
sessions would import pandas, plotly and polars at the same time, and Python hands a thread
that finds a module half-imported by another the partial module ("partially initialized module
'pandas' has no attribute 'Series'"). Importing them here first, before the server accepts a
connection, leaves every session a finished module. `hybridcost serve` runs `python -m app.server run ...`.

The warming thread (app/ui/warm.py) starts here too, as soon as Streamlit's runtime exists: the
default views are computed after a restart before anyone opens a page, not during the first visit.
"""

from __future__ import annotations

import sys
import threading
import time

from app.preload import THIRD_PARTY, preload

RUNTIME_WAIT_S = 120  # a server that has no runtime by then failed to start; the script starts warming then


def _warm_once_served(warm_start) -> None:
    """Start the warming thread once Streamlit's runtime exists (its caches live there)."""
    from streamlit import runtime

    deadline = time.monotonic() + RUNTIME_WAIT_S
    while not runtime.exists():
        if time.monotonic() > deadline:
            return
        time.sleep(0.1)
    warm_start()


def main() -> None:
    """Import the heavy modules, start warming once the server runs, then run Streamlit's own command line."""
    preload(THIRD_PARTY)
    from streamlit.web import cli  # after preload: Streamlit's own imports pull in the same modules

    from app.ui import warm  # in this thread, like the heavy modules: sessions find it fully imported

    threading.Thread(target=_warm_once_served, args=(warm.start,), name="hybridcost-warm-start", daemon=True).start()
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
