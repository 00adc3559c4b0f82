"""The fleet path against a real Prometheus scraping a recorded dcgm-exporter page every second."""

from __future__ import annotations

import http.server
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from tests_support import require_program

H100 = "dcgm_metrics_8xH100_k8s_pod_labels_sampled_aicr.txt"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _exporter(page: bytes) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def prometheus(tmp_path, samples_dir):
    """A Prometheus on 127.0.0.1:<free port> scraping the recorded H100 page; its base URL."""
    binary = require_program("prometheus")
    exporter = _exporter((samples_dir / "dcgm" / H100).read_bytes())
    port = _free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: dcgm\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{exporter.server_address[1]}']\n")
    log = open(tmp_path / "prometheus.log", "wb")
    proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # ready once a few scrapes of the page are queryable
            assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
            try:
                body = httpx.get(f"{url}/api/v1/query", params={"query": "count_over_time(DCGM_FI_DEV_POWER_USAGE[1m])"},
                                 timeout=2).json()
                if body["data"]["result"] and float(body["data"]["result"][0]["value"][1]) >= 3:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            assert time.monotonic() < deadline, "Prometheus had no data within 30 s"
            time.sleep(0.5)
        yield url
    finally:
        proc.kill()
        proc.wait(timeout=10)
        exporter.shutdown()
        log.close()


def _server_now(url: str) -> datetime:
    """Prometheus's own clock (its samples carry it), which a faked test clock does not move."""
    body = httpx.get(f"{url}/api/v1/query", params={"query": "time()"}, timeout=5).json()
    return datetime.fromtimestamp(float(body["data"]["result"][0]), UTC)


def test_fleet_aggregates_land_in_gpu_hourly(prometheus, cli_env, engine, samples_dir, pin_clock):
    context.reset()
    today = pin_clock(_server_now(prometheus)).date()
    result = CliRunner().invoke(app, ["ingest", "prometheus", "--url", prometheus, "--since",
                                      str(today - timedelta(days=1)), "--until", str(today), "--step", "2"])
    context.reset()
    assert result.exit_code == 0, (result.output, result.exception)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT gpu_uuid, host, model_name, samples, utilization_mean_pct, busy_fraction, power_mean_watts "
            "FROM gpu_hourly ORDER BY gpu_uuid, hour_at")).all()
        assert conn.execute(sa.text("SELECT count(*) FROM gpu_samples")).scalar_one() == 0  # no raw samples
    page = (samples_dir / "dcgm" / H100).read_text()
    power = {line.split('UUID="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
             for line in page.splitlines() if line.startswith("DCGM_FI_DEV_POWER_USAGE")}
    assert {r.gpu_uuid for r in rows} == set(power) and len(power) == 8
    for r in rows:
        assert r.host == "gpu-node-1" and r.model_name == "NVIDIA H100 80GB HBM3" and r.samples >= 1
        assert r.utilization_mean_pct == 0.0 and r.busy_fraction == 0.0  # GPU_UTIL fallback: idle, not missing
        assert r.power_mean_watts == pytest.approx(power[r.gpu_uuid])
