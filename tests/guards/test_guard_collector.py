"""Collector faults: start without a database, a full spool disk, and `db stop` with a stale pid file."""

from __future__ import annotations

import ast
import itertools
import socket
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from guard_support import run_cli

from app.cli import gpu as gpu_cli
from ingest.sources.nvml import NvmlSampler
from tests.gpu_sources.gpu_fake_nvml import fleet
from tests_support import REPO_ROOT


def _ticking_clock(start=datetime(2026, 5, 1, 12, tzinfo=UTC), step_s=5):
    ticks = itertools.count()
    return lambda: start + timedelta(seconds=step_s * next(ticks))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_collect_gpu_starts_and_spools_while_the_database_is_away(db_url, tmp_path, monkeypatch):
    clock = _ticking_clock()  # one clock for both runs, as one machine's
    monkeypatch.setattr(gpu_cli, "SAMPLER_FACTORY", lambda host: NvmlSampler(nvml=fleet(2), host=host, now=clock))
    monkeypatch.setenv("HYBRIDCOST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{_free_port()}/none")  # nothing listens
    down = run_cli("collect", "gpu", "--interval", "0s", "--max-ticks", "3", "--host", "gpu-a")
    assert down.code == 0, down.output
    assert "database not available" in down.output and "3 ticks, 0 samples written, 6 waiting" in down.output
    monkeypatch.setenv("DATABASE_URL", db_url)  # the database is back: the spool drains, then new samples
    back = run_cli("collect", "gpu", "--interval", "0s", "--max-ticks", "1", "--host", "gpu-a")
    assert back.code == 0, back.output
    assert "1 ticks, 8 samples written, 0 waiting" in back.output
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(DISTINCT (sampled_at, gpu_uuid)) FROM gpu_samples")).scalar() == 8
    finally:
        engine.dispose()


FULL_DISK = textwrap.dedent("""
    import resource, signal, sys
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace
    from ingest.gpu_daemon import Backlog, run_daemon
    from ingest.records import GpuSample
    from ingest.sources.spool import Spool
    
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG, like ENOSPC
    spool = Spool(sys.argv[1], "h")
    tick = {"n": 0}

    class Sampler:
        def sample(self):
            tick["n"] += 1
            at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=tick["n"])
            return SimpleNamespace(samples=[GpuSample(sampled_at=at, host="h", gpu_uuid="GPU-0", source="t",
                                                      utilization_pct=float(tick["n"]))], errors_by_gpu={})

    written = []
    def write(records):
        if tick["n"] <= 6:
            raise ConnectionError("database away")
        written.extend(records)

    backlog = Backlog(bound=3)
    sampler = Sampler()
    first = run_daemon(sampler, write, spool, 0, max_ticks=2, sleep=lambda s: None, backlog=backlog)
    size = spool.path.stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))  # the spool's disk is now full
    full = run_daemon(sampler, write, spool, 0, max_ticks=4, sleep=lambda s: None, backlog=backlog)
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    back = run_daemon(sampler, write, spool, 0, max_ticks=2, sleep=lambda s: None, backlog=backlog)
    print([r.spool_error for r in full], [r.buffered for r in full], [r.dropped for r in full])
    print([int(s.utilization_pct) for s in written])
""")


def test_full_spool_disk_reported_once_sampling_goes_on_in_memory(tmp_path):
    result = subprocess.run([sys.executable, "-c", FULL_DISK, str(tmp_path / "spool")], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    errors, buffered, dropped = _three_lists(result.stdout.splitlines()[0])
    assert errors.count("") == 3 and errors[0].startswith("spool full")  # reported once, not every tick
    assert buffered == [1, 2, 3, 3] and dropped == [0, 0, 0, 1]  # memory up to its bound, then counted
    assert result.stderr.count("cannot be written") == 1
    # Ticks 1-2 were spooled (acknowledged) and ticks 3-5 held in memory; tick 6 did not fit the bound.
    assert ast.literal_eval(result.stdout.splitlines()[1]) == [1, 2, 3, 4, 5, 7, 8]


def _three_lists(line: str) -> tuple[list, list, list]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(line):
        if ch == "[":
            depth += 1
            start = i if depth == 1 else start
        elif ch == "]":
            depth -= 1
            if depth == 0:
                parts.append(ast.literal_eval(line[start:i + 1]))
    return parts[0], parts[1], parts[2]


def test_db_stop_never_signals_a_process_that_took_the_stale_pid(tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "pg").mkdir(parents=True)
    bystander = subprocess.Popen(["sleep", "60"])  # an unrelated process now owns the pid in the stale file
    try:
        (data / "pg" / "postmaster.pid").write_text(f"{bystander.pid}\n{data / 'pg'}\n1700000000\n5432\n/tmp\n")
        monkeypatch.setenv("HYBRIDCOST_DATA_DIR", str(data))
        monkeypatch.delenv("DATABASE_URL", raising=False)
        result = run_cli("db", "stop")
        assert result.code == 0, result.output
        assert "was not running" in result.output
        assert bystander.poll() is None  # still alive: nothing was signalled
    finally:
        bystander.kill()
        bystander.wait()


def test_is_our_postmaster_knows_the_test_server(pg_admin_url):
    from models.infra.embedded import is_our_postmaster

    host = sa.engine.make_url(pg_admin_url).query.get("host")
    if host is None:
        return  # HYBRIDCOST_TEST_DATABASE_URL: not an embedded server
    pg_dir = Path(host)
    pid = int((pg_dir / "postmaster.pid").read_text().splitlines()[0])
    assert is_our_postmaster(pid, pg_dir)
    assert not is_our_postmaster(pid, pg_dir.parent)
