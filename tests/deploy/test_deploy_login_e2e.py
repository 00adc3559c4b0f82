"""End to end: `hybridcost serve` with OIDC against a local provider, driven by headless Chromium.

An allowed user signs in and sees the dashboard; a user outside the allowed list is refused.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests_support import require_program
from tests_support import REPO_ROOT

pytestmark = [pytest.mark.system, pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:.*authlib.jose module is deprecated.*")]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture
def oidc_provider() -> Iterator[str]:
    """A local OpenID provider (oidc-provider-mock) on 127.0.0.1; yields its metadata URL."""
    oidc_provider_mock = pytest.importorskip("oidc_provider_mock")
    import werkzeug.serving

    server = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/openid-configuration"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def dashboard(cli_env, oidc_provider, tmp_path) -> Iterator[str]:
    """`hybridcost serve` with login on a free port; yields its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DATABASE_URL": cli_env,
           "HYBRIDCOST_DATA_DIR": str(tmp_path / "data"), "HYBRIDCOST_RUNTIME_DIR": str(tmp_path / "run"),
           "HYBRIDCOST_OIDC_CLIENT_ID": "hybridcost-e2e", "HYBRIDCOST_OIDC_CLIENT_SECRET": "e2e-client-secret",
           "HYBRIDCOST_OIDC_SERVER_METADATA_URL": oidc_provider, "HYBRIDCOST_COOKIE_SECRET": "e2e-cookie-secret-0123456789",
           "HYBRIDCOST_PUBLIC_URL": url, "HYBRIDCOST_ALLOWED_EMAILS": "alice@example.com",
           "HYBRIDCOST_EDITOR_EMAILS": "alice@example.com"}
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-c", "from app.cli.main import main; main()", "serve",
                             "--port", str(port), "--host", "127.0.0.1"],
                            env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_http(f"{url}/_stcore/health")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _sign_in(browser, url: str, email: str):
    """Open the app in a fresh context, press Log in, and authorise as `email` at the provider."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("input[name=sub]")
    page.fill("input[name=sub]", email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**")
    return context, page


def test_deploy_oidc_login_allows_listed_user_and_refuses_others(dashboard):
    chromium = require_program("chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context, page = _sign_in(browser, dashboard, "alice@example.com")
            page.get_by_text("Signed in as alice@example.com").wait_for()
            page.get_by_role("heading", name="Overview").wait_for()
            assert page.get_by_text("not allowed").count() == 0
            context.close()

            context, page = _sign_in(browser, dashboard, "mallory@evil.example")
            page.get_by_text("is not allowed to use this dashboard").wait_for()
            # the button is the next element of the same run: wait for it, the error can render first
            page.get_by_role("button", name="Log out").wait_for()
            assert page.get_by_role("button", name="Log out").count() == 1
            assert page.get_by_role("heading", name="Overview").count() == 0
            context.close()
        finally:
            browser.close()
