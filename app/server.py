"""The dashboard's server process: heavy modules imported once, in the main thread, before any session runs.

Streamlit runs each session's script in a thread of its own. On a fresh server the first
sessions would import pandas, plotly and polars at the same time, and Python hands a thread
that finds a module half-imported by another the partial module ("partially initialized module
'pandas' has no attribute 'Series'"). Importing them here first, before the server accepts a
connection, leaves every session a finished module. `hybridcost serve` runs `python -m app.server run ...`.
"""

from __future__ import annotations

import sys

from app.preload import THIRD_PARTY, preload


def main() -> None:
    """Import the heavy modules, then run Streamlit's own command line with our arguments."""
    preload(THIRD_PARTY)
    from streamlit.web import cli  # after preload: Streamlit's own imports pull in the same modules

    sys.exit(cli.main())


if __name__ == "__main__":
    main()
