"""Bench: what a person waits for, in a real Chromium: each page's first render and one interaction.

    python bench/bench_browser.py [--scale 0] [--runs 5] [--sessions 10] [--baseline REF]

--scale 0 loads the demo; --scale 1.0 fills 10M request rows and 10M GPU samples through the
loader (bench_dashboard.fill, ~10 minutes or more). Two dashboards serve the same database: this
checkout (rollups, caches keyed to the data) and the baseline, the code before the request rollups
(`git archive` of REF; by default the parent of the commit that added them), which aggregates raw
requests on every read. Each is measured the same way, in the same run:
- cold: a fresh server per page (empty caches, no warming): the page's first render, then its
  main interaction (a filter, a workload, a radio, a slider, generating a report);
- warm: the same page opened again and the same interaction again, --runs times;
- after a load (this checkout only): a server with background warming, a one-row load, then
  the first visit of each page;
- --sessions concurrent browser sessions opening every page --runs times (warm servers);
- this checkout with Streamlit's post-run garbage collection back on (warm renders only).
Times run from the navigation (or the click) to the script run's end in the browser
(`data-test-script-state`), so they include the server's work and the transfer, not Plotly's
drawing. Prints min / median / max per page and the ratio baseline median / this median.
Not run by pytest or CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import warnings
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
warnings.filterwarnings("ignore")

from playwright.async_api import async_playwright  # noqa: E402

from _common import make_engine, scratch_database  # noqa: E402

AS_OF = datetime(2026, 11, 20, 12, tzinfo=UTC)
CHROMIUM = "/usr/bin/chromium"
RECORDER = """
window.__hc = [];
new MutationObserver(ms => { for (const m of ms) { window.__hc.push(
    [m.target.getAttribute('data-test-script-state'), performance.now()]); } })
  .observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
"""


async def _pick_option(page, widget: str, label: str, nth: int) -> None:
    await page.locator(f'[data-testid="{widget}"]').filter(has_text=label).first.click()
    await page.get_by_role("option").nth(nth).click()
    await page.keyboard.press("Escape")


async def _radio(page, label: str, choice: str) -> None:
    await page.locator('[data-testid="stRadio"]').filter(has_text=label).get_by_text(choice, exact=True).click()


async def _slider(page) -> None:
    await page.get_by_role("slider").first.focus()
    await page.keyboard.press("ArrowRight")


PAGES = [  # (url path, heading, interaction in words, interaction)
    ("", "Overview", "pick a team", lambda p: _pick_option(p, "stMultiSelect", "Teams", 0)),
    ("spend", "Spend", "pick a workload", lambda p: _pick_option(p, "stMultiSelect", "Workloads", 0)),
    ("workloads", "Workloads", "another workload", lambda p: _pick_option(p, "stSelectbox", "Workload", 1)),
    ("breakeven", "Breakeven", "another workload", lambda p: _pick_option(p, "stSelectbox", "Workload", 1)),
    ("fleet", "GPU fleet", "breakeven slider +1", _slider),
    ("whatif", "What-if", "another demand shape", lambda p: _pick_option(p, "stSelectbox", "Demand shape", 1)),
    ("workflow", "Workflow", "group by workload", lambda p: _radio(p, "Group by", "workload")),
    ("reports", "Reports", "generate the report", lambda p: p.get_by_role("button", name="Generate report").click()),
    ("data", "Data", "", None),  # only forms that write: no interaction is timed
]


async def _finished(page, since: float, timeout: float = 900.0) -> float:
    """Milliseconds from `since` (browser clock) to the end of the last script run that started after it."""
    deadline = time.monotonic() + timeout
    started_by = time.monotonic() + 60
    while time.monotonic() < deadline:
        states, now = await page.evaluate("[window.__hc || [], performance.now()]")
        after = [(s, t) for s, t in states if t >= since]
        if not any(s == "running" for s, _ in after) and time.monotonic() > started_by:
            raise TimeoutError("no script run started")
        if any(s == "running" for s, _ in after) and after[-1][0] == "notRunning" and now - after[-1][1] > 700:
            return after[-1][1] - since
        await page.wait_for_timeout(100)
    raise TimeoutError("the page did not finish")


async def open_page(page, base: str, path: str, heading: str) -> float:
    """Seconds for a first render of the page."""
    await page.goto(f"{base}/{path}", wait_until="commit")
    took = await _finished(page, 0.0)
    await page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=60_000)
    errors = await page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count()
    if errors:
        raise RuntimeError(f"/{path} shows an error")
    return took / 1000


async def interact(page, action) -> float:
    """Seconds from the interaction to the end of the rerun it causes."""
    since = await page.evaluate("performance.now()")
    await action(page)
    return await _finished(page, since) / 1000


class Server:
    """A `streamlit run` of one code tree against the bench database."""

    def __init__(self, tree: Path, url: str, log_dir: Path, *, warm_s: float = 0, extra: tuple[str, ...] = ()):
        self.tree, self.url, self.log_dir, self.warm_s, self.extra = tree, url, log_dir, warm_s, extra

    def __enter__(self) -> Server:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        command = subprocess.run(
            [sys.executable, "-c", "import json, sys; from app.cli.serve import streamlit_command; "
             f"print(json.dumps(streamlit_command('127.0.0.1', {self.port})))"],
            cwd=self.tree, env=self._env(), capture_output=True, text=True, check=True).stdout
        self.log_path = self.log_dir / f"streamlit-{self.tree.name}-{self.port}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(json.loads(command) + list(self.extra), cwd=self.tree, env=self._env(),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/_stcore/health", timeout=2):
                    return self
            except OSError:
                time.sleep(0.3)
        raise TimeoutError("streamlit did not start")

    def _env(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.url, "HYBRIDCOST_AS_OF": AS_OF.isoformat(),
                "HYBRIDCOST_DATA_DIR": str(self.log_dir / "data"), "PYTHONPATH": str(self.tree),
                "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "HYBRIDCOST_CACHE_WARM_SECONDS": str(self.warm_s),
                "XDG_RUNTIME_DIR": os.environ.get("XDG_RUNTIME_DIR", "/tmp")}

    def warmings(self) -> int:
        """How many times the server log says the default views were warmed (unbuffered, so read as it is written)."""
        return self.log_path.read_text(errors="replace").count("warmed the default views")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def baseline_tree(ref: str | None, into: Path) -> tuple[Path, str]:
    """The code before the request rollups (or `ref`), unpacked with `git archive`; (folder, commit)."""
    if ref is None:
        added = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--reverse", "--",
                                "migrations/versions/*_0007_request_rollups.py"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.split()
        ref = f"{added[0]}^" if added else "HEAD"
    commit = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    folder = into / "baseline"
    folder.mkdir()
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder, commit


def fill(url: str, scale: float) -> str:
    """Load the demo (scale 0) or 10M x scale requests and GPU samples; a description."""
    engine = make_engine(url)
    started = time.perf_counter()
    if scale <= 0:
        from ingest.demo import load_demo

        load_demo(engine, now=AS_OF)
        what = "the demo"
    else:
        from bench_dashboard import fill as fill_rows

        fill_rows(engine, scale)
        what = f"{int(10_000_000 * scale):,} requests and {int(10_000_000 * scale):,} GPU samples"
    engine.dispose()
    return f"{what} loaded in {time.perf_counter() - started:.0f} s"


async def measure_tree(pw, tree: Path, url: str, log_dir: Path, runs: int) -> dict:
    """Cold and warm first render and interaction per page, one fresh server per page."""
    out: dict = {}
    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
    try:
        for path, heading, _, action in PAGES:
            with Server(tree, url, log_dir) as server:
                page = await _new_page(browser)
                cold = await open_page(page, server.base, path, heading)
                cold_i = [await interact(page, action)] if action else []
                warm, warm_i = [], []
                for _ in range(runs):
                    warm.append(await open_page(page, server.base, path, heading))
                    if action:
                        warm_i.append(await interact(page, action))
                await page.close()
            out[path] = {"cold": [cold], "warm": warm}
            if action:
                out[path] |= {"cold interaction": cold_i, "warm interaction": warm_i}
            print(f"  {tree.name} /{path}: cold {cold:.2f} s, interaction {cold_i[0] if cold_i else 0:.2f} s, "
                  f"warm median {statistics.median(warm):.2f} s", flush=True)
    finally:
        await browser.close()
    return out


async def _new_page(browser):
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    await context.add_init_script(RECORDER)
    return await context.new_page()


async def after_load(pw, url: str, log_dir: Path) -> dict:
    """This checkout with warming on: a one-row load, then each page's first visit."""
    from ingest.loader import load
    from ingest.records import UsageRequest

    with Server(ROOT, url, log_dir, warm_s=2) as server:
        await _wait_warmings(server, 1)
        engine = make_engine(url)
        load(engine, [UsageRequest(source="bench", request_id=f"late-{time.time()}", started_at=AS_OF - timedelta(hours=2),
                                   provider="openai", model="gpt-4.1", input_tokens=1000, output_tokens=100)],
             source="bench", target="one late request")
        engine.dispose()
        await _wait_warmings(server, 2)
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            out = {}
            for path, heading, _, _ in PAGES:
                page = await _new_page(browser)
                out[path] = {"first visit after a load": [await open_page(page, server.base, path, heading)]}
                await page.close()
        finally:
            await browser.close()
    return out


async def _wait_warmings(server: Server, n: int, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while server.warmings() < n:
        if time.monotonic() > deadline:
            raise TimeoutError("the server never warmed its default views")
        await asyncio.sleep(0.5)


async def concurrent(pw, tree: Path, url: str, log_dir: Path, sessions: int, runs: int, extra=()) -> dict:
    """`sessions` browsers at once, each opening every page `runs` times in its own order (server warmed first)."""
    times: dict[str, list[float]] = {path: [] for path, *_ in PAGES}
    with Server(tree, url, log_dir, extra=extra) as server:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            page = await _new_page(browser)
            for path, heading, _, _ in PAGES:  # warm every page once
                await open_page(page, server.base, path, heading)

            async def session(seed: int) -> None:
                tab = await _new_page(browser)
                order = [p for p in PAGES for _ in range(runs)]
                random.Random(seed).shuffle(order)
                for path, heading, _, _ in order:
                    times[path].append(await open_page(tab, server.base, path, heading))

            await asyncio.gather(*(session(i) for i in range(sessions)))
        finally:
            await browser.close()
    return {path: {f"{sessions} sessions": values} for path, values in times.items()}


def _cell(values: list[float] | None) -> str:
    if not values:
        return ""
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def report(ours: dict, base: dict, headline: str) -> None:
    """One Markdown table: page, measure, this checkout, baseline, ratio of medians."""
    print(f"\n{headline}\n")
    print("| page | measure | this checkout: min / median / max (s) | baseline (s) | baseline / this |")
    print("| --- | --- | ---: | ---: | ---: |")
    for path, heading, words, _ in PAGES:
        kinds = list(dict.fromkeys([*ours.get(path, {}), *base.get(path, {})]))
        for kind in kinds:
            mine, theirs = ours.get(path, {}).get(kind), base.get(path, {}).get(kind)
            label = f"{kind} ({words})" if "interaction" in kind else kind
            ratio = (f"{statistics.median(theirs) / statistics.median(mine):.1f}x"
                     if mine and theirs and statistics.median(mine) > 0 else "")
            print(f"| {heading} | {label} | {_cell(mine)} | {_cell(theirs)} | {ratio} |")


def _merge(*parts: dict) -> dict:
    out: dict = {}
    for part in parts:
        for path, kinds in part.items():
            out.setdefault(path, {}).update(kinds)
    return out


async def run(args) -> None:
    """Fill, then measure both trees and print the tables."""
    with tempfile.TemporaryDirectory(prefix="hybridcost-browser-") as tmp, scratch_database() as url:
        tmp = Path(tmp)
        base_tree, commit = baseline_tree(args.baseline, tmp)
        print(fill(url, args.scale), flush=True)
        async with async_playwright() as pw:
            ours = await measure_tree(pw, ROOT, url, tmp, args.runs)
            theirs = await measure_tree(pw, base_tree, url, tmp, args.runs) if not args.no_baseline else {}
            ours = _merge(ours, await after_load(pw, url, tmp))
            if args.sessions:
                ours = _merge(ours, await concurrent(pw, ROOT, url, tmp, args.sessions, args.runs))
                if not args.no_baseline:
                    theirs = _merge(theirs, await concurrent(pw, base_tree, url, tmp, args.sessions, args.runs))
            gc_on = await concurrent(pw, ROOT, url, tmp, 1, args.runs, extra=("--runner.postScriptGC", "true"))
        scale = "demo" if args.scale <= 0 else f"scale {args.scale}"
        report(ours, theirs, f"{scale}; baseline {commit} (raw requests on every read); load average "
                             f"{os.getloadavg()[0]:.1f} at the end")
        print("\nStreamlit's post-run garbage collection (this checkout, warm first renders, one session)\n")
        print("| page | postScriptGC false: median (s) | postScriptGC true: median (s) | true / false |")
        print("| --- | ---: | ---: | ---: |")
        for path, heading, _, _ in PAGES:
            off, on = statistics.median(ours[path]["warm"]), statistics.median(gc_on[path]["1 sessions"])
            print(f"| {heading} | {off:.2f} | {on:.2f} | {on / off:.2f} |")


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.0, help="0 = the demo; else 10M x scale rows per table")
    parser.add_argument("--runs", type=int, default=5, help="warm repetitions per page (default 5)")
    parser.add_argument("--sessions", type=int, default=10, help="concurrent sessions (0 to skip; default 10)")
    parser.add_argument("--baseline", default=None, help="git ref of the baseline (default: before the rollups)")
    parser.add_argument("--no-baseline", action="store_true", help="measure this checkout only")
    parser.add_argument("--pages", default="", help="comma-separated URL paths to measure ('' = Overview; default all)")
    args = parser.parse_args()
    if args.pages:
        wanted = {"" if p in ("overview", "/") else p.strip("/") for p in args.pages.split(",")}
        PAGES[:] = [p for p in PAGES if p[0] in wanted]
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
