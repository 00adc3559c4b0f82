"""The Reports page in a real `streamlit run`, driven by headless Chromium: generate, then download the PDF."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request

import pytest

from app.cli.serve import streamlit_command
from app.reports.pdf import BROWSER_ARGS
from tests_support import DEMO_NOW, REPO_ROOT, require_program


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(db_url, tmp_path):
    """`streamlit run` of the dashboard over a demo-loaded database on a free loopback port."""
    from ingest.demo import load_demo
    from models.infra.database import make_engine

    engine = make_engine(db_url)
    load_demo(engine, now=DEMO_NOW)
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "HYBRIDCOST_DATA_DIR": str(tmp_path / "data"),
           "PYTHONPATH": str(REPO_ROOT), "HYBRIDCOST_AS_OF": DEMO_NOW.isoformat()}
    log = open(tmp_path / "streamlit.log", "w")
    proc = subprocess.Popen(streamlit_command("127.0.0.1", port), cwd=REPO_ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "streamlit did not start"
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def test_rep_page_generates_and_downloads_pdf_in_a_real_server(served, tmp_path):
    chromium = require_program("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto(f"{served}/reports", wait_until="domcontentloaded")
            page.get_by_role("heading", name="Reports", exact=True).first.wait_for(timeout=60_000)
            page.get_by_role("button", name="Generate report").click()
            page.get_by_role("button", name="Download XLSX").wait_for(timeout=120_000)
            errors = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
            assert not errors, errors
            pdf_button = page.get_by_role("button", name="Download PDF")
            with page.expect_download(timeout=60_000) as info:
                pdf_button.click()
            target = tmp_path / info.value.suggested_filename
            info.value.save_as(target)
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
    assert target.name.startswith("hybridcost-weekly-") and target.suffix == ".pdf"
    assert target.read_bytes().startswith(b"%PDF")
