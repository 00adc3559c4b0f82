"""What a lead waits for in a real Chromium at demo scale: each page, and each widget change, warm, one session.

Run by hand: `python bench/bench_views.py [--repeats 5] [--compare-with /work/main] [--only Overview]` (needs
/usr/bin/chromium and Playwright). Starts a throwaway embedded PostgreSQL with the demo loaded, the dashboard
by the command line the checkout's own `hybridcost serve` runs, with the clock pinned at the demo anchor,
and one browser session. A timing runs from
the page sending the commit on its websocket (a click, the Enter or the option picked; typing a
date or opening a list is the user's own time, not counted) to the page receiving the server's
"script finished" message, which arrives after the page has taken in every element of the run:
what the user waits for. Each page is visited once cold (not counted),
then `repeats` times; each widget change alternates between two values after a first visit of
each. Goals (issue 18): every page's median under 1.5 s, every widget change's under 1 s.
Baseline, measured in the same run: `--compare-with` another checkout (main, say) served over the
same database and timed the same way, so the ratios say what this branch costs on a machine whose
absolute times depend on its load.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from google.protobuf.message import DecodeError
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import make_engine, scratch_database  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
ANCHOR = "2026-11-20T12:00:00+00:00"
PAGES = [("", "Overview"), ("spend", "Spend"), ("workloads", "Workloads"), ("breakeven", "Breakeven"),
         ("fleet", "GPU fleet"), ("whatif", "What-if"), ("workflow", "Workflow"), ("reports", "Reports"),
         ("data", "Data")]
PAGE_GOAL_S, WIDGET_GOAL_S = 1.5, 1.0


class Finished:
    """Counts the 'script finished' messages the server sends, so a timing can wait for the next one."""

    def __init__(self, page):
        self.count = 0
        self.finished_at = 0.0
        self.sent: list[float] = []  # when the page sent each message (a widget value, a page switch)
        self.cond = threading.Condition()
        page.on("websocket", self._attach)

    def _attach(self, ws) -> None:
        ws.on("framereceived", self._frame)
        ws.on("framesent", lambda _payload: self.sent.append(time.perf_counter()))

    def _frame(self, payload) -> None:
        if not isinstance(payload, bytes):
            return
        msg = ForwardMsg()
        try:
            msg.ParseFromString(payload)
        except DecodeError:  # a frame that is not a ForwardMsg is not ours to time
            return
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished in (
                ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
            with self.cond:
                self.count += 1
                self.finished_at = time.perf_counter()
                self.cond.notify_all()

    def time(self, page, action, timeout_s: float = 120.0) -> float:
        """Seconds from the page sending the action's commit to the next finished run.

        An action is a callable (all of it is the commit: a click) or a (prepare, commit) pair:
        what the user does before the value is sent (opening a field, typing a date) is their own
        time, not waiting. The clock starts when the page sends the committed value (or the page
        switch) on its websocket, as it does the moment a person clicks; Playwright's own work
        before that (scrolling the option into view, waiting for it to be still) is not the user's
        wait. Without a sent message (a full page load) it starts at the action.
        """
        if isinstance(action, tuple):
            prepare, action = action
            prepare()
            self.settle(page)
        start_count = self.count
        started = time.perf_counter()
        self.sent.clear()
        action()
        deadline = started + timeout_s
        while self.count == start_count:
            page.wait_for_timeout(5)  # lets Playwright deliver websocket events
            if time.perf_counter() > deadline:
                raise TimeoutError("the script did not finish")
        sent = [t for t in self.sent if started <= t <= self.finished_at]
        return self.finished_at - (sent[0] if sent else started)


    def settle(self, page, quiet_s: float = 0.3) -> None:
        """Wait until no run has finished for `quiet_s` (a preparing step must not be timed as ours)."""
        seen, since = self.count, time.perf_counter()
        while time.perf_counter() - since < quiet_s:
            page.wait_for_timeout(20)
            if self.count != seen:
                seen, since = self.count, time.perf_counter()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str, data_dir: str, repo: Path) -> tuple[subprocess.Popen, str]:
    """`repo`'s dashboard on a free port, started by the command line its own `hybridcost serve` execs."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "HYBRIDCOST_DATA_DIR": data_dir, "HYBRIDCOST_AS_OF": ANCHOR,
           "PYTHONPATH": str(repo)}
    # Each checkout's own options (an older one may lack some, e.g. runner.postScriptGC): what its users run.
    command = json.loads(subprocess.check_output(
        [sys.executable, "-c", "import json; from app.cli.serve import streamlit_command; "
                               f"print(json.dumps(streamlit_command('127.0.0.1', {port})))"],
        cwd=repo, env=env, text=True))
    proc = subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2):
                return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def _nav(page, heading: str):
    return lambda: page.locator('[data-testid="stSidebarNav"] a').filter(has_text=heading).first.click()


def _set_range(page, first: str, last: str):
    def type_dates():
        box = page.locator('[data-testid="stSidebar"] [data-testid="stDateInput"]').first
        box.locator('[data-range-field="start"] [data-type="year"]').click()
        page.keyboard.type(first.replace("-", ""))
        box.locator('[data-range-field="end"] [data-type="year"]').click()
        page.keyboard.type(last.replace("-", ""))

    def commit():
        page.keyboard.press("Enter")
        page.locator('[data-testid="stMain"] h1').first.click()  # leaving the field commits the range
    return type_dates, commit


def _toggle_team(page, team: str):
    chosen = {}

    def prepare():
        box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Teams")
        tag = box.locator(f'[data-tag][aria-label="{team}"]')
        if tag.count():  # removing it is one click: the commit
            chosen["commit"] = lambda: tag.locator("button").click()
        else:  # opening the list is the user's own time; picking the option commits
            box.locator("input").click()
            option = page.get_by_role("option", name=team, exact=True)
            option.wait_for()
            chosen["commit"] = lambda: (option.click(), page.keyboard.press("Escape"))
    return prepare, lambda: chosen.pop("commit")()


def _segment(page, label: str):
    return lambda: page.locator('[data-testid="stButtonGroup"] button').filter(has_text=label).first.click()


def _select(page, label: str, option: str):
    def open_list():
        page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
        page.get_by_role("option", name=option, exact=True).wait_for()
    return open_list, lambda: page.get_by_role("option", name=option, exact=True).click()


def _report(title: str, timings: dict[str, list[float]]) -> None:
    """Print the medians as they are measured (a later failure keeps what was measured)."""
    for name, values in timings.items():
        print(f"{title}: {name}: median {_median(values):.3f} s", flush=True)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


WIDGETS = [  # (name, page heading, the two values' actions)
    ("Overview: date range", "Overview", lambda p: [_set_range(p, "2026-11-02", "2026-11-15"),
                                                    _set_range(p, "2026-10-22", "2026-11-20")]),
    ("Overview: team filter", "Overview", lambda p: [_toggle_team(p, "engineering"), _toggle_team(p, "engineering")]),
    ("Spend: break down by", "Spend", lambda p: [_segment(p, "workload"), _segment(p, "provider")]),
    ("Workloads: workload", "Workloads", lambda p: [_select(p, "Workload", "doc-summaries"),
                                                    _select(p, "Workload", "code-review")]),
    ("Workflow: drill-down team", "Workflow", lambda p: [_select(p, "Team", "customer-success"),
                                                         _select(p, "Team", "engineering")]),
]


def measure(base: str, repeats: int, only: str = "") -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Median-ready timings of every page and widget change (or those whose name holds `only`) at `base`."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(60_000)
        done = Finished(page)
        done.time(page, lambda: page.goto(base, wait_until="domcontentloaded"))
        pages: dict[str, list[float]] = {}
        order = PAGES[1:] + PAGES[:1]
        for _, heading in order:  # cold pass, not counted
            done.time(page, _nav(page, heading))
        for _ in range(repeats):
            for _, heading in order:
                if only.lower() not in heading.lower():
                    continue
                pages.setdefault(heading, []).append(done.time(page, _nav(page, heading)))
        _report("page", pages)
        widgets: dict[str, list[float]] = {}
        for name, heading, make in WIDGETS:
            if only.lower() not in name.lower():
                continue
            try:
                done.time(page, _nav(page, heading))
                actions = make(page)
                for act in actions:  # the first visit of each value is cold: not counted
                    done.time(page, act)
                for _ in range(repeats):
                    for act in actions:
                        widgets.setdefault(name, []).append(done.time(page, act))
            except PlaywrightError as exc:  # a checkout without this widget (an older one compared with)
                print(f"widget {name}: not measured ({str(exc).splitlines()[0]})", flush=True)
        _report("widget", widgets)
        browser.close()
    return pages, widgets


def run(repeats: int, compare_with: Path | None, only: str = "") -> int:
    """Load the demo, serve this checkout (and the one compared with), time both; non-zero when a goal is missed."""
    from ingest.demo import load_demo
    from models import clock

    results = {}
    with scratch_database("bench_views") as url, tempfile.TemporaryDirectory() as data_dir:
        engine = make_engine(url)
        load_demo(engine, now=clock.parse_as_of(ANCHOR))
        engine.dispose()
        for label, repo in (("this checkout", REPO), ("compared with", compare_with)):
            if repo is None:
                continue
            proc, base = _serve(url, data_dir, repo)
            try:
                print(f"measuring {label}: {repo}", flush=True)
                results[label] = measure(base, repeats, only)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    pages, widgets = results["this checkout"]
    other_pages, other_widgets = results.get("compared with", ({}, {}))
    missed = 0
    for title, mine, theirs, goal in (("page", pages, other_pages, PAGE_GOAL_S),
                                      ("widget change", widgets, other_widgets, WIDGET_GOAL_S)):
        print(f"\n{title:<30} {'median s':>9} {'max s':>7} {'compared':>9} {'ratio':>6}  goal < {goal} s")
        for name, values in mine.items():
            med = _median(values)
            base = _median(theirs[name]) if name in theirs else None
            missed += med >= goal
            print(f"{name:<30} {med:>9.3f} {max(values):>7.3f} "
                  f"{'' if base is None else f'{base:.3f}':>9} {'' if base is None else f'{med / base:.2f}':>6}  "
                  f"{'ok' if med < goal else 'MISSED'}")
    return 1 if missed else 0


def main() -> int:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="warm timings per page and per widget value")
    parser.add_argument("--compare-with", type=Path, default=None,
                        help="another checkout (e.g. /work/main) measured in the same run, on the same database: "
                             "the baseline the ratios are against")
    parser.add_argument("--only", default="", help="measure only the pages and widget changes whose name holds this "
                                                   "text (e.g. Overview); every page is still visited cold first")
    args = parser.parse_args()
    return run(args.repeats, args.compare_with, args.only)


if __name__ == "__main__":
    sys.exit(main())
