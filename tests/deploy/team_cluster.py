"""A PostgreSQL cluster from Debian's `postgresql` package in a temporary folder, on 127.0.0.1 only.

Not the embedded wheel: the server a platform team runs, with password (SCRAM) logins over TCP.
As root, the server runs as the package's `postgres` system user (initdb refuses root).
A streaming replica of a cluster is made with pg_basebackup, as a DBA would.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

SERVER_USER = "postgres"  # the system user Debian's package creates


def postgres_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<major>/bin, or skip (fail under HYBRIDCOST_REQUIRE_SYSTEM_TESTS=1)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    reason = "Debian's PostgreSQL server is not installed (apt-get install postgresql)"
    if os.environ.get("HYBRIDCOST_REQUIRE_SYSTEM_TESTS") == "1":
        pytest.fail(reason + " but HYBRIDCOST_REQUIRE_SYSTEM_TESTS=1")
    pytest.skip(reason)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_user() -> dict:
    """subprocess arguments that run a program as the server's system user when we are root."""
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(SERVER_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _hand_over(path: Path) -> None:
    """Give a folder to the server's system user (as root); otherwise it is already ours."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class Cluster:
    """One running server: its folder, port, superuser and password."""

    bin_dir: Path
    root: Path
    port: int
    superuser: str
    password: str
    log: Path = field(init=False)
    _running: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "server.log"

    @property
    def data_dir(self) -> Path:
        """PGDATA."""
        return self.root / "data"

    def url(self, database: str, user: str | None = None, password: str | None = None) -> str:
        """A SQLAlchemy URL over TCP on 127.0.0.1 (password login, as the compose services use)."""
        user, password = user or self.superuser, password if password is not None else self.password
        return sa.engine.URL.create("postgresql+psycopg", username=user, password=password, host="127.0.0.1",
                                    port=self.port, database=database).render_as_string(hide_password=False)

    def run(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run one of the server's programs as the server's user; raise with its output when it fails."""
        result = subprocess.run([str(self.bin_dir / program), *args], capture_output=True, text=True,
                                timeout=timeout, cwd=self.root, env={**os.environ, "PGPASSWORD": self.password}, check=False,
                                **_server_user())
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stdout[-2000:]}{result.stderr[-2000:]}")
        return result

    def start(self) -> None:
        """pg_ctl start, waiting until it accepts connections."""
        self.run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log), "-w", "-t", "60", "start")
        self._running = True

    def stop(self) -> None:
        """pg_ctl stop (fast); nothing when it is not running."""
        if self._running:
            self._running = False
            self.run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def execute(self, database: str, *statements: str) -> list:
        """Run statements as the superuser (autocommit); the rows of the last one, if it returns any."""
        engine = sa.create_engine(self.url(database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                result = None
                for statement in statements:
                    result = conn.execute(sa.text(statement))
                return list(result) if result is not None and result.returns_rows else []
        finally:
            engine.dispose()

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server log, for failure messages."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _private_root(prefix: str) -> Path:
    """A folder the server's user can use (pytest's tmp_path is root-only when we are root)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    _hand_over(root)
    return root


def _configure(data_dir: Path, port: int, socket_dir: Path, extra: str = "") -> None:
    with open(data_dir / "postgresql.conf", "a") as conf:
        conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{socket_dir}'\n"
                   f"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n{extra}")


def create_cluster(*, superuser: str, password: str, initdb_args: str = "", prefix: str = "hc-debian-pg-") -> Cluster:
    """initdb a new cluster (the superuser and its password as given), configure loopback, start it.

    `initdb_args` are the compose file's POSTGRES_INITDB_ARGS (e.g. --auth-host=scram-sha-256).
    fsync is off: the folder is thrown away after the test.
    """
    bin_dir = postgres_bin_dir()
    root = _private_root(prefix)
    cluster = Cluster(bin_dir=bin_dir, root=root, port=free_port(), superuser=superuser, password=password)
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    _hand_over(pwfile)
    cluster.run("initdb", "-D", str(cluster.data_dir), "-U", superuser, f"--pwfile={pwfile}", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-sync", *shlex.split(initdb_args))
    pwfile.unlink()
    _configure(cluster.data_dir, cluster.port, root, "wal_level = replica\nmax_wal_senders = 4\n")
    cluster.start()
    return cluster


def create_replica(primary: Cluster, *, prefix: str = "hc-debian-replica-") -> Cluster:
    """A hot-standby streaming replica of `primary` (pg_basebackup -R), started on its own port."""
    root = _private_root(prefix)
    replica = Cluster(bin_dir=primary.bin_dir, root=root, port=free_port(), superuser=primary.superuser,
                      password=primary.password)
    # -R writes primary_conninfo (with the password from PGPASSWORD) and standby.signal
    replica.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", primary.superuser,
                "-D", str(replica.data_dir), "-R", "-X", "stream", "-c", "fast", "--no-sync")
    _configure(replica.data_dir, replica.port, root, "hot_standby = on\n")
    replica.start()
    return replica


def destroy(cluster: Cluster | None) -> None:
    """Stop the server and remove its folder."""
    if cluster is None:
        return
    try:
        cluster.stop()
    finally:
        shutil.rmtree(cluster.root, ignore_errors=True)


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.2, detail=lambda: ""):
    """Poll `predicate` until it returns something truthy; fail naming `what` (and `detail()`) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f} s. {detail()}")
        time.sleep(interval)
