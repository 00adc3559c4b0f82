"""Stopping stops: SIGTERM or SIGINT to `hybridcost up` / `serve` frees the port, leaving no process behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests_support import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _processes_mentioning(marker: str) -> list[int]:
    """Pids whose command line contains `marker` (the unique port), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline.split():
            found.append(int(entry.name))
    return found


def _wait_healthy(port: int, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited with {proc.returncode} before serving: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"dashboard did not become healthy: {log.read_text()[-2000:]}")


@pytest.mark.slow
@pytest.mark.parametrize(("command", "sig"), [("up", signal.SIGTERM), ("serve", signal.SIGTERM),
                                              ("up", signal.SIGINT)])
def test_signal_frees_port_and_leaves_no_process(command, sig, db_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "HYBRIDCOST_DATA_DIR": str(tmp_path / "data")}
    args = [sys.executable, "-c", "from app.cli.main import main; main()", command, "--port", str(port)]
    if command == "up":
        args.append("--no-demo")
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(port, proc, log)
        assert not _port_free(port)
        started = time.monotonic()
        proc.send_signal(sig)
        proc.wait(timeout=20)
        deadline = started + 20
        while not _port_free(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _port_free(port), f"port {port} still taken 20 s after {sig.name}"
        assert _processes_mentioning(str(port)) == [], f"a process serving port {port} remains"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
