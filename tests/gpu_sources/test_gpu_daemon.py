"""The daemon loop: a database outage for ticks 3-6 loses, duplicates and reorders nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from gpu_fake_nvml import fleet

from ingest.gpu_daemon import run_daemon
from ingest.records import GpuSample
from ingest.sources.nvml import NvmlSampler
from ingest.sources.spool import Spool


class CountingSampler:
    """Two GPUs per tick, each sample numbered so order can be checked."""

    def __init__(self):
        self.tick = 0

    def sample(self):
        self.tick += 1
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=5 * self.tick)
        return SimpleNamespace(samples=[GpuSample(sampled_at=at, host="h", gpu_uuid=f"GPU-{g}", source="fake",
                                                  utilization_pct=float(self.tick)) for g in range(2)],
                               errors_by_gpu={})


def test_outage_ticks_3_to_6_every_sample_once_in_order(tmp_path):
    sampler = CountingSampler()
    written: list[GpuSample] = []

    def write(records):
        if 3 <= sampler.tick <= 6:
            raise ConnectionError("postgres unreachable")
        written.extend(records)

    spool = Spool(tmp_path, "h")
    slept: list[float] = []
    reports = run_daemon(sampler, write, spool, interval_s=5, max_ticks=9, sleep=slept.append)
    assert [r.ok for r in reports] == [True, True, False, False, False, False, True, True, True]
    assert [r.spooled for r in reports] == [0, 0, 2, 2, 2, 2, 0, 0, 0]
    assert reports[6].written == 10  # 8 from the spool, then this tick's 2
    expected = [(t, g) for t in range(1, 10) for g in range(2)]
    assert [(int(s.utilization_pct), int(s.gpu_uuid[-1])) for s in written] == expected
    assert list(spool.pending()) == []
    assert len(slept) == 8 and all(0 <= s <= 5 for s in slept)
    assert "postgres unreachable" in reports[2].error


def test_spool_survives_daemon_restart(tmp_path):
    sampler = CountingSampler()
    written: list[GpuSample] = []

    def down(records):
        raise OSError("db down")

    run_daemon(sampler, down, Spool(tmp_path, "h"), interval_s=1, max_ticks=3, sleep=lambda s: None)
    run_daemon(sampler, written.extend, Spool(tmp_path, "h"), interval_s=1, max_ticks=1, sleep=lambda s: None)
    assert [int(s.utilization_pct) for s in written] == [1, 1, 2, 2, 3, 3, 4, 4]


def test_sampler_failure_is_reported_and_loop_continues(tmp_path):
    calls = {"n": 0}

    class Flaky:
        def sample(self):
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("GPU fell off the bus")
            return SimpleNamespace(samples=[], errors_by_gpu={0: "lost"})

    reports = run_daemon(Flaky(), lambda r: None, Spool(tmp_path, "h"), interval_s=0, max_ticks=2, sleep=lambda s: None)
    assert not reports[0].ok and "fell off the bus" in reports[0].error
    assert reports[1].ok and reports[1].gpu_errors == {0: "lost"}


def test_with_nvml_sampler_on_fake_module(tmp_path):
    written: list = []
    sampler = NvmlSampler(nvml=fleet(8), host="h")
    reports = run_daemon(sampler, written.extend, Spool(tmp_path, "h"), interval_s=0, max_ticks=3, sleep=lambda s: None)
    assert len(written) == 24 and all(r.ok and r.sampled == 8 for r in reports)
