"""Cold start and settings: 10 sessions at once on a fresh `hybridcost serve` all render; HOST/PORT honoured."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from guard_support import refused, run_cli

from tests_support import DEMO_NOW, REPO_ROOT, require_program

# (path, heading): every page, and the overview twice: ten sessions.
SESSIONS = [("", "Overview"), ("spend", "Spend"), ("workloads", "Workloads"), ("breakeven", "Breakeven"),
            ("fleet", "GPU fleet"), ("whatif", "What-if"), ("workflow", "Workflow"), ("reports", "Reports"),
            ("data", "Data"), ("", "Overview")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hybridcost serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("the dashboard did not become healthy")


def test_serve_reads_host_from_the_settings(cli_env, monkeypatch):
    monkeypatch.setenv("HYBRIDCOST_HOST", "0.0.0.0")
    refused(run_cli("serve"), "refusing to serve on 0.0.0.0 without login")


def test_malformed_secrets_file_is_refused_with_its_line(cli_env, tmp_path, monkeypatch):
    path = tmp_path / "secrets.env"
    path.write_text("# keys\nOPENAI_ADMIN_KEY=sk-admin-secret\nHYBRIDCOST_WRITER_PASSWORD sk-oops-no-equals\n")
    path.chmod(0o600)
    monkeypatch.setenv("HYBRIDCOST_SECRETS_FILE", str(path))
    line = refused(run_cli("doctor"), str(path), "line 3", "not KEY=VALUE")
    assert "sk-oops" not in line and "sk-admin" not in line  # the line is named, never shown
    path.write_text('HYBRIDCOST_OWNER_PASSWORD="unclosed\n')
    refused(run_cli("doctor"), "line 1", "quote is never closed")
    path.write_text("export OPENAI_ADMIN_KEY=sk-x  # ok\n\nHYBRIDCOST_HOST='127.0.0.1'\n")
    assert run_cli("doctor").code in (0, 1)  # well-formed: doctor runs (its own checks decide ok or not)


@pytest.fixture
def fresh_server(demo_env, tmp_path):
    """`hybridcost serve` just started (nothing imported yet), on the port HYBRIDCOST_PORT names."""
    port = _free_port()
    env = {**os.environ, "HYBRIDCOST_HOST": "127.0.0.1", "HYBRIDCOST_PORT": str(port), "PYTHONPATH": str(REPO_ROOT),
           "HYBRIDCOST_AS_OF": DEMO_NOW.isoformat()}
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-c", "from app.cli.main import main; main()", "serve"], cwd=REPO_ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc)  # reachable at HYBRIDCOST_HOST:HYBRIDCOST_PORT
        yield f"http://127.0.0.1:{port}", tmp_path / "serve.log"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


RENDER_LIMIT_S = 600  # ten cold sessions share one server process on two cores (~2-3 min here)
QUIET_S = 1.5  # a page counts as drawn once its script has stayed finished this long
_STATE_JS = """() => { const app = document.querySelector('[data-testid="stApp"]');
  const status = document.querySelector('[data-testid="stStatusWidget"]');
  return [app && app.getAttribute('data-test-script-state'), app && app.getAttribute('data-test-connection-state'),
          status ? status.innerText : ''] }"""


def _wait_all_rendered(pages, consoles, log_path) -> None:
    """Poll every page in turn until each shows its heading and its script has stayed finished a moment.

    One deadline for all ten (they draw at the same time); when it passes, the message says, per page
    still waiting, its script and connection state, the status widget, its console and the server log.
    """
    quiet_since: dict[int, float | None] = dict.fromkeys(range(len(pages)))
    seen: dict[int, tuple] = {}
    started = time.monotonic()
    while quiet_since and time.monotonic() - started < RENDER_LIMIT_S:
        for i in list(quiet_since):
            page, (_, heading) = pages[i], SESSIONS[i]
            script, connection, status = page.evaluate(_STATE_JS)
            has_heading = page.get_by_role("heading", name=heading, exact=True).count() > 0
            seen[i] = (script, connection, status, has_heading, round(time.monotonic() - started))
            if script != "notRunning" or not has_heading:
                quiet_since[i] = None
            elif quiet_since[i] is None:
                quiet_since[i] = time.monotonic()
            elif time.monotonic() - quiet_since[i] > QUIET_S:
                del quiet_since[i]
        time.sleep(0.2)
    if quiet_since:
        waiting = [f"/{SESSIONS[i][0]} ({SESSIONS[i][1]}): script {seen[i][0]}, connection {seen[i][1]}, "
                   f"status {seen[i][2]!r}, heading shown {seen[i][3]}, at {seen[i][4]} s; "
                   f"console {consoles[i][-5:]}" for i in quiet_since]
        raise TimeoutError(f"{len(waiting)} of {len(pages)} pages not drawn after {RENDER_LIMIT_S} s: "
                           + " | ".join(waiting) + " | server log: " + log_path.read_text()[-3000:])


def test_ten_sessions_at_once_on_a_fresh_server_all_render(fresh_server):
    url, log_path = fresh_server
    chromium = require_program("chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    problems = []
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            pages = [browser.new_context(viewport={"width": 1280, "height": 900}).new_page() for _ in SESSIONS]
            consoles: list[list[str]] = [[] for _ in SESSIONS]
            for page, lines in zip(pages, consoles):
                page.on("console", lambda message, lines=lines: lines.append(f"{message.type}: {message.text}"[:200]))
            for page, (path, _) in zip(pages, SESSIONS):  # all ten connect before any has rendered
                page.goto(f"{url}/{path}", wait_until="commit")
            _wait_all_rendered(pages, consoles, log_path)
            for page, (path, heading) in zip(pages, SESSIONS):
                body = page.inner_text("body")
                exceptions = page.locator('[data-testid="stException"]').count()
                errors = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
                if exceptions or errors or "partially initialized" in body or "could not be shown" in body:
                    problems.append(f"/{path}: {exceptions} exception(s), errors {errors}")
            data_page = pages[SESSIONS.index(("data", "Data"))]
            table = data_page.locator('[data-testid="stDataFrame"]').first
            table.wait_for(timeout=60_000)
            table.hover()
            data_page.wait_for_timeout(500)
            toolbar = data_page.locator('[data-testid="stElementToolbar"] button')
            assert toolbar.count() > 0  # the toolbar is there (search, fullscreen) ...
            assert data_page.locator('button[aria-label^="Download as CSV"]').count() > 0  # ... with the button
            assert data_page.locator('button[aria-label^="Download as CSV"]:visible').count() == 0  # hidden
            assert data_page.get_by_role("button", name="Download CSV").count() > 0
        finally:
            browser.close()
    assert not problems, (problems, log_path.read_text()[-3000:])
    assert "partially initialized" not in log_path.read_text()
