"""Every dashboard page in a real headless Chromium against a running `streamlit run`, on demo data.

Saves a full-page screenshot per page to test-artifacts/screenshots/<page>.png.
"""

from __future__ import annotations

import ast
import contextlib
import os
import socket
import subprocess
import time
import urllib.request

import pytest

from app.cli.serve import streamlit_command
from app.ui.filters import UNSCOPED_PAGES
from tests_support import DEMO_NOW, REPO_ROOT, require_program


def _pages() -> list[tuple[str, str]]:
    """(url path, heading) of every page in the entry point's menu; URLs are named after the files, "/" the default."""
    tree = ast.parse((REPO_ROOT / "app" / "streamlit_app.py").read_text())
    listed = next(ast.literal_eval(node.value) for node in tree.body
                  if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES")
    pages_dir = REPO_ROOT / "app" / "app_pages"
    return [("" if file == "overview.py" else file.removesuffix(".py"), title)
            for file, title, _ in listed if (pages_dir / file).exists()]


PAGES = _pages()
SHOTS = REPO_ROOT / "test-artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy")


@contextlib.contextmanager
def _serving(db_url: str, tmp_path, **env: str):
    """A `streamlit run` of the dashboard on a free loopback port over a demo-loaded database; its URL."""
    from ingest.demo import load_demo
    from models.infra.database import make_engine

    engine = make_engine(db_url)
    load_demo(engine, now=DEMO_NOW)  # the server's clock is pinned there, so the default range shows data
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "HYBRIDCOST_DATA_DIR": str(tmp_path / "data"),
           "HYBRIDCOST_AS_OF": DEMO_NOW.isoformat(),
           "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1", **env}  # the log is read while the server runs
    log = open(tmp_path / "streamlit.log", "w")
    proc = subprocess.Popen(streamlit_command("127.0.0.1", port), cwd=REPO_ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def served_demo(db_url, tmp_path):
    """The dashboard served over the demo, warming off (as in every test)."""
    with _serving(db_url, tmp_path) as url:
        yield url


def test_a_fresh_server_warms_the_default_views_before_anyone_visits(db_url, tmp_path):
    """After `hybridcost serve` (re)starts, the default views are computed with no session open (app/server.py)."""
    log = tmp_path / "streamlit.log"
    with _serving(db_url, tmp_path, HYBRIDCOST_CACHE_WARM_SECONDS="30"):
        deadline = time.monotonic() + 120  # about 15 s on the demo, on 2 cores
        while "warmed the default views" not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
            time.sleep(0.5)
    assert "could not warm" not in log.read_text(errors="replace")


def _wait_finished(page, heading: str) -> None:
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=60_000)
    # Streamlit shows the status widget while the script runs; wait until it has been gone a moment.
    quiet_since = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.5:
            break
        page.wait_for_timeout(200)
    page.wait_for_timeout(800)  # let Plotly finish drawing before the screenshot


def _full_height(page) -> None:
    """Streamlit scrolls inside its main container: grow the viewport to the content so the shot has it all."""
    height = page.evaluate("""() => Math.max(1000, ...Array.from(document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stMainBlockContainer"], [data-testid="stAppViewContainer"]'))
        .map(e => e.scrollHeight))""")
    page.set_viewport_size({"width": 1440, "height": min(int(height) + 80, 16_000)})
    page.wait_for_timeout(1000)


def test_every_page_loads_in_chromium(served_demo):
    chromium = require_program("chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            for path, heading in PAGES:
                page.goto(f"{served_demo}/{path}", wait_until="domcontentloaded")
                _wait_finished(page, heading)
                exceptions = page.locator('[data-testid="stException"]').count()
                errors = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
                if exceptions or errors:
                    problems.append(f"/{path}: {exceptions} exception(s), errors {errors}")
                _full_height(page)
                page.screenshot(path=str(SHOTS / f"{path or 'overview'}.png"), full_page=True)
                page.set_viewport_size({"width": 1440, "height": 1000})
        finally:
            browser.close()
    assert not problems, problems
    assert all((SHOTS / f"{p or 'overview'}.png").stat().st_size > 10_000 for p, _ in PAGES)


def _sidebar_tags(page, label: str) -> list[str]:
    """The values shown in a sidebar multiselect."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text=label)
    return [t.get_attribute("aria-label") for t in box.locator('[data-tag]').all()]


def _wait_tags(page, label: str, wanted: list[str], url: str, timeout: float = 30) -> None:
    """Wait until a sidebar multiselect shows `wanted` (a cold session on a loaded machine draws late)."""
    deadline = time.monotonic() + timeout
    while (shown := _sidebar_tags(page, label)) != wanted and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert shown == wanted, f"{label} shows {shown} after opening {url}; sidebar: {sidebar!r}"


def _range_box(page):
    return page.locator('[data-testid="stSidebar"] [data-testid="stDateInput"]').first


def _range_text(page) -> str:
    """The sidebar's date range as 'YYYY-MM-DD – YYYY-MM-DD' (read from the date fields' segments)."""
    sides = []
    for side in ("start", "end"):
        segments = _range_box(page).locator(f'[data-range-field="{side}"] [role="spinbutton"]').all()
        sides.append("-".join(s.inner_text().strip() for s in segments))
    return " – ".join(sides)


def _set_range(page, first: str, last: str, heading: str) -> None:
    """Type both dates into the sidebar's range fields; leaving the field commits them."""
    box = _range_box(page)
    box.locator('[data-range-field="start"] [data-type="year"]').click()
    page.keyboard.type(first.replace("-", ""))
    box.locator('[data-range-field="end"] [data-type="year"]').click()
    page.keyboard.type(last.replace("-", ""))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=heading, exact=True).first.click()
    _wait_finished(page, heading)


def _metric(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True)).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_filters_hold_on_every_page_and_in_a_copied_url(served_demo):
    """Pick a team and a date range on Overview; every page and a copied link (a new session) keep both."""
    chromium = require_program("chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(90_000)  # a loaded shared machine can take a while to draw the sidebar
            page.goto(served_demo, wait_until="domcontentloaded")
            _wait_finished(page, "Overview")
            _set_range(page, "2026-11-02", "2026-11-15", "Overview")
            teams = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Teams")
            teams.locator("input").click()
            page.get_by_role("option", name="engineering", exact=True).click()
            page.keyboard.press("Escape")
            _wait_finished(page, "Overview")
            assert _sidebar_tags(page, "Teams") == ["engineering"]
            assert _range_text(page) == "2026-11-02 – 2026-11-15"
            spend = _metric(page, "Token spend")
            for path, heading in PAGES[1:]:
                page.locator('[data-testid="stSidebarNav"] a').filter(has_text=heading).first.click()
                _wait_finished(page, heading)
                # where the filter does not apply it is not drawn, but kept: the address and later pages have it
                if path in UNSCOPED_PAGES:
                    assert page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').count() == 0, heading
                else:
                    assert _sidebar_tags(page, "Teams") == ["engineering"], heading
                assert _range_text(page) == "2026-11-02 – 2026-11-15", heading
                assert "team=engineering" in page.url and "from=2026-11-02" in page.url and "to=2026-11-15" in page.url
                assert page.locator('[data-testid="stException"]').count() == 0, heading
            page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Overview").first.click()
            _wait_finished(page, "Overview")
            # the run writes the view into the address as it goes; copy the link once the address has it
            page.wait_for_function("() => location.search.includes('team=engineering')"
                                   " && location.search.includes('from=2026-11-02')", timeout=30_000)
            copied = page.url
            assert _metric(page, "Token spend") == spend
            fresh = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()  # another session
            fresh.set_default_timeout(90_000)
            fresh.goto(copied, wait_until="domcontentloaded")
            _wait_finished(fresh, "Overview")
            _wait_tags(fresh, "Teams", ["engineering"], copied)
            assert _range_text(fresh) == "2026-11-02 – 2026-11-15"
            assert _metric(fresh, "Token spend") == spend
        finally:
            browser.close()
