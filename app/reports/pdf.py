"""PDF by printing the report's HTML in headless Chromium (Playwright, Debian's /usr/bin/chromium).

The printing runs in a child Python process (`python -m app.reports.pdf HTML PDF`), so
Playwright's own event loop never shares a process with the caller's (the Streamlit server's,
a notebook's): a browser that hangs or crashes takes only the child with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

DEFAULT_BROWSER = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class BrowserMissing(RuntimeError):
    """No Chromium where the settings say; the message says where it looked."""


def browser_path() -> str:
    """The Chromium to print with: HYBRIDCOST_BROWSER_PATH, else /usr/bin/chromium."""
    return os.environ.get("HYBRIDCOST_BROWSER_PATH") or DEFAULT_BROWSER


def browser_available() -> bool:
    """True when the configured Chromium exists and is executable."""
    path = browser_path()
    return os.path.isfile(path) and os.access(path, os.X_OK)


def html_to_pdf(html_file: Path, pdf_file: Path, *, timeout_s: float = 120) -> None:
    """Print the HTML file to an A4 PDF in a child process; raises BrowserMissing or RuntimeError with one line."""
    if not browser_available():
        raise BrowserMissing(f"no Chromium at {browser_path()} (install chromium or set HYBRIDCOST_BROWSER_PATH)")
    try:
        done = subprocess.run([sys.executable, "-m", "app.reports.pdf", str(html_file), str(pdf_file)],
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"Chromium did not print the PDF within {timeout_s:.0f} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise RuntimeError(lines[-1] if lines else f"PDF printing exited with {done.returncode}")


def print_pdf(html_file: Path, pdf_file: Path, *, timeout_s: float = 60) -> None:
    """In this process: load the HTML, wait until every Plotly chart has drawn, print it to an A4 PDF."""
    if not browser_available():
        raise BrowserMissing(f"no Chromium at {browser_path()} (install chromium or set HYBRIDCOST_BROWSER_PATH)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path(), args=BROWSER_ARGS, headless=True)
        try:
            # A fixed screen width, so charts are laid out the same way on every run; scaled down to A4.
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.goto(html_file.resolve().as_uri(), wait_until="load", timeout=timeout_s * 1000)
            page.wait_for_function(
                "Array.from(document.querySelectorAll('.js-plotly-plot'))"
                ".every(el => el.querySelector('.main-svg'))", timeout=timeout_s * 1000)
            page.emulate_media(media="print")
            page.pdf(path=str(pdf_file), format="A4", print_background=True, scale=0.72,
                     margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
        finally:
            browser.close()


def main(argv: list[str]) -> int:
    """`python -m app.reports.pdf HTML PDF`: print one file; the last stderr line says why on failure."""
    try:
        print_pdf(Path(argv[0]), Path(argv[1]))
    except Exception as exc:  # the parent shows this one line
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"{type(exc).__name__}: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
