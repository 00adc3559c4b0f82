"""The running parts of the team-path test: service processes, Prometheus, a mail server, an OpenID provider."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller

from tests.deploy.team_cluster import free_port, wait_until
from tests.deploy.team_compose import HostProcess


@dataclass
class Running:
    """A started service process (its own process group) and its log."""

    spec: HostProcess
    proc: subprocess.Popen
    log: Path

    def tail(self, chars: int = 2500) -> str:
        """The end of its output."""
        return f"[{self.spec.name} log] " + self.log.read_text(errors="replace")[-chars:]

    def alive(self) -> bool:
        """Still running."""
        return self.proc.poll() is None


@dataclass
class Processes:
    """Every process the test started, stopped (by process group) at the end."""

    logs: Path
    running: list[Running] = field(default_factory=list)

    def start(self, spec: HostProcess) -> Running:
        """Start a service's command as its own process group, output to logs/<name>.log."""
        log = self.logs / f"{spec.name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(spec.argv, env=spec.env, cwd=spec.cwd, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        item = Running(spec, proc, log)
        self.running.append(item)
        return item

    def run(self, spec: HostProcess, timeout: float) -> Running:
        """Start a one-shot service and wait for it to finish."""
        item = self.start(spec)
        try:
            item.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(item)
            raise AssertionError(f"{spec.name} did not finish within {timeout:.0f} s. {item.tail()}") from None
        return item

    @staticmethod
    def stop(item: Running) -> None:
        """SIGTERM to its process group, then SIGKILL after 10 s."""
        if item.proc.poll() is None:
            try:
                os.killpg(item.proc.pid, signal.SIGTERM)
                item.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(item.proc.pid, signal.SIGKILL)
                item.proc.wait(timeout=10)
        try:  # children of a finished shell (a `sleep`) may still hold the group
            os.killpg(item.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def stop_all(self) -> None:
        """Stop every process, newest first."""
        for item in reversed(self.running):
            self.stop(item)


def wait_healthy(item: Running, timeout: float = 90) -> None:
    """Run the service's own compose healthcheck command until it passes (or the service dies)."""
    assert item.spec.healthcheck, f"{item.spec.name} has no healthcheck in docker-compose.yml"

    def healthy() -> bool:
        assert item.alive(), f"{item.spec.name} exited with {item.proc.returncode}. {item.tail()}"
        return subprocess.run(item.spec.healthcheck, env=item.spec.env, capture_output=True, timeout=15,
                              check=False).returncode == 0

    wait_until(healthy, timeout=timeout, interval=0.5, what=f"{item.spec.name} healthcheck passing",
               detail=item.tail)


def write_sleep_shim(folder: Path, record: Path) -> Path:
    """A `sleep` on PATH that records its first wait (with the time it was asked) and skips it; later ones are real.

    The report service sleeps until Monday; the test checks where that sleep would have ended
    and lets the report run now, with the product's clock pinned to that Monday.
    """
    folder.mkdir(parents=True, exist_ok=True)
    real = shutil.which("sleep") or "/bin/sleep"
    script = folder / "sleep"
    script.write_text(
        "#!/bin/sh\n"
        f"if [ ! -e {shlex.quote(str(record))} ]; then\n"
        f"  echo \"$(date -u +%s) $*\" > {shlex.quote(str(record))}; exit 0\n"
        "fi\n"
        f"exec {shlex.quote(real)} \"$@\"\n")
    script.chmod(0o755)
    return folder


class Inbox:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        """Keep the message."""
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              envelope.original_content or envelope.content))
        return "250 OK"

    @contextmanager
    def running(self) -> Iterator[Inbox]:
        """Serve while inside the block."""
        self._controller.start()
        try:
            yield self
        finally:
            self._controller.stop()


@contextmanager
def oidc_provider() -> Iterator[str]:
    """A local OpenID provider (oidc-provider-mock) on 127.0.0.1; yields its metadata URL."""
    import oidc_provider_mock
    import werkzeug.serving

    server = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/openid-configuration"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def prometheus(binary: str, folder: Path, *, target: str, rule_files: list[Path]) -> Iterator[str]:
    """A real Prometheus scraping `target` every second with `rule_files` loaded; yields its base URL."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = folder / "prometheus.yml"
    rules = "".join(f"  - {path}\n" for path in rule_files)
    config.write_text("global:\n  scrape_interval: 3s\n  scrape_timeout: 3s\n  evaluation_interval: 1s\n"
                      f"rule_files:\n{rules}"
                      f"scrape_configs:\n  - job_name: hybridcost\n    static_configs:\n      - targets: ['{target}']\n")
    log = open(folder / "prometheus.log", "wb")
    proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={folder / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            assert proc.poll() is None, (folder / "prometheus.log").read_text()[-2000:]
            try:
                return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=60, what="Prometheus ready")
        yield url
    finally:
        proc.kill()
        proc.wait(timeout=10)
        log.close()


def prometheus_rules(url: str) -> list[dict]:
    """Every alerting rule Prometheus has loaded, with its health, state and active alerts."""
    body = httpx.get(f"{url}/api/v1/rules", params={"type": "alert"}, timeout=5).json()
    return [rule for group in body["data"]["groups"] for rule in group["rules"]]


def prometheus_targets(url: str) -> list[tuple[str, str, str]]:
    """(scrape URL, health, last error) of every active target."""
    body = httpx.get(f"{url}/api/v1/targets", timeout=5).json()
    return [(t["scrapeUrl"], t["health"], t["lastError"]) for t in body["data"]["activeTargets"]]


def prometheus_query(url: str, query: str) -> list[dict]:
    """An instant query's result vector."""
    return httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=5).json()["data"]["result"]
