"""`hybridcost collect gpu` over a fake NVML, no-GPU exit, and a real database outage in mid-run."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pynvml
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.cli import context
from app.cli import gpu as gpu_cli
from app.cli.main import app
from ingest.gpu_daemon import run_daemon
from ingest.sources.nvml import NvmlSampler, NvmlUnavailable
from ingest.sources.spool import Spool
from models.infra.database import make_engine
from tests.gpu_sources.gpu_fake_nvml import FakeNvml, fleet


def _ticking_clock(start=datetime(2026, 5, 1, 12, tzinfo=UTC), step_s=5):
    ticks = itertools.count()
    return lambda: start + timedelta(seconds=step_s * next(ticks))


def test_collect_gpu_writes_every_tick(cli_env, engine, monkeypatch):
    monkeypatch.setattr(gpu_cli, "SAMPLER_FACTORY", lambda host: NvmlSampler(nvml=fleet(2), host=host,
                                                                              now=_ticking_clock()))
    context.reset()
    result = CliRunner().invoke(app, ["collect", "gpu", "--interval", "0s", "--max-ticks", "3", "--host", "gpu-a"])
    context.reset()
    assert result.exit_code == 0, (result.output, result.exception)
    assert "3 ticks, 6 samples written, 0 waiting" in result.output
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM gpu_samples WHERE source = 'nvml' AND host = 'gpu-a'")
                            ).scalar_one() == 6
        assert conn.execute(sa.text("SELECT samples FROM gpu_hourly ORDER BY gpu_uuid")).scalars().all() == [3, 3]


def test_no_gpu_one_line_and_non_zero_exit(cli_env, monkeypatch, capsys):
    import sys

    from app.cli.main import main

    monkeypatch.setattr(gpu_cli, "SAMPLER_FACTORY", lambda host: NvmlSampler(
        nvml=FakeNvml([], init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND), host=host))
    monkeypatch.setattr(sys, "argv", ["hybridcost", "collect", "gpu", "--max-ticks", "1"])
    context.reset()
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "NVML unavailable" in err[0]


def test_real_nvml_without_driver_says_so():
    try:
        NvmlSampler().close()
    except NvmlUnavailable as exc:
        assert "NVML unavailable" in str(exc) and "\n" not in str(exc)
    else:
        pytest.skip("this machine has an NVIDIA driver")


def test_database_outage_mid_run_loses_and_duplicates_nothing(db_url, pg_admin_url, tmp_path):
    """Real loader, real database: connections refused for ticks 4-7, then every sample lands exactly once."""
    name = make_url(db_url).database
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    writer_engine = make_engine(db_url)
    sampler = NvmlSampler(nvml=fleet(4), host="gpu-b", now=_ticking_clock())
    spool = Spool(tmp_path / "spool", "gpu-b")

    def outage(report):
        with admin.connect() as conn:
            if report.tick == 3:  # database goes away: refuse new connections, cut the open ones
                conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                             {"n": name})
            if report.tick == 7:
                conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))

    try:
        reports = run_daemon(sampler, gpu_cli.loader_writer(writer_engine, source="nvml", target="gpu-b"), spool,
                             interval_s=0, max_ticks=10, sleep=lambda s: None, on_tick=outage)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    assert [r.ok for r in reports] == [True] * 3 + [False] * 4 + [True] * 3
    assert [r.spooled for r in reports] == [0] * 3 + [4] * 4 + [0] * 3
    assert reports[7].written == 4 * 4 + 4  # the spooled backlog, oldest first, then tick 8's own
    assert all("accepting connections" in r.error or "connect" in r.error for r in reports[3:7])
    assert spool.pending_count() == 0
    with writer_engine.connect() as conn:
        total, distinct, ticks = conn.execute(sa.text(
            "SELECT count(*), count(DISTINCT (sampled_at, gpu_uuid)), count(DISTINCT sampled_at) FROM gpu_samples"
        )).one()
        hourly = conn.execute(sa.text("SELECT sum(samples) FROM gpu_hourly")).scalar_one()
    writer_engine.dispose()
    assert (total, distinct, ticks, hourly) == (40, 40, 10, 40)
