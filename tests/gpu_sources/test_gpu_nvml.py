"""NVML field mapping against a fake pynvml at the call boundary."""

from __future__ import annotations

from datetime import UTC, datetime

import pynvml
import pytest
from gpu_fake_nvml import FakeGpu, FakeMig, FakeNvml, fleet

from ingest.sources.nvml import NvmlSampler, NvmlUnavailable, TickResult, energy_delta_mj

AT = datetime(2026, 7, 14, 8, 0, tzinfo=UTC)


def sampler(fake: FakeNvml) -> NvmlSampler:
    return NvmlSampler(nvml=fake, host="node-a", now=lambda: AT)


def test_units_milliwatts_to_watts_bytes_and_raw_energy():
    fake = FakeNvml([FakeGpu(uuid="GPU-a", power_mw=631_950, used=19818 * 1024**2, total=81559 * 1024**2,
                             energy_mj=123_456_789, util=100, temp=59, sm_clock=1980)])
    tick = sampler(fake).sample()
    assert isinstance(tick, TickResult) and tick.errors_by_gpu == {}
    (s,) = tick.samples
    assert s.power_watts == pytest.approx(631.95)
    assert s.memory_used_bytes == 19818 * 1024**2 and s.memory_total_bytes == 81559 * 1024**2
    assert s.energy_mj == 123_456_789.0
    assert (s.utilization_pct, s.temperature_c, s.sm_clock_mhz) == (100.0, 59.0, 1980.0)
    assert (s.host, s.gpu_uuid, s.source, s.gpu_index, s.mig_instance) == ("node-a", "GPU-a", "nvml", 0, "")
    assert s.model_name == "NVIDIA H100 80GB HBM3" and s.sampled_at == AT
    assert tick.duration_s >= 0


def test_not_supported_field_is_none_not_zero():
    fake = FakeNvml([FakeGpu(uuid="GPU-a", unsupported={"nvmlDeviceGetTotalEnergyConsumption", "nvmlDeviceGetPowerUsage",
                                                       "nvmlDeviceGetClockInfo"})])
    (s,) = sampler(fake).sample().samples
    assert s.energy_mj is None and s.power_watts is None and s.sm_clock_mhz is None
    assert s.utilization_pct == 50.0 and s.temperature_c == 55.0


def test_one_gpu_failing_others_still_sampled():
    fake = FakeNvml([FakeGpu(uuid="GPU-a"), FakeGpu(uuid="GPU-b", lost=True), FakeGpu(uuid="GPU-c")])
    tick = sampler(fake).sample()
    assert [s.gpu_uuid for s in tick.samples] == ["GPU-a", "GPU-c"]
    assert list(tick.errors_by_gpu) == [1] and "NVMLError" in tick.errors_by_gpu[1]


def test_mig_instances_one_sample_each_parent_keeps_device_readings():
    mig = [FakeMig(1, used=5 * 1024**3, total=10 * 1024**3), FakeMig(2, used=1 * 1024**3, total=20 * 1024**3, util=40)]
    fake = FakeNvml([FakeGpu(uuid="GPU-m", mig=mig)])
    parent, a, b = sampler(fake).sample().samples
    assert parent.mig_instance == "" and parent.utilization_pct is None and parent.power_watts == 350.0
    assert (a.gpu_uuid, a.mig_instance, a.memory_used_bytes, a.memory_total_bytes) == ("GPU-m", "1", 5 * 1024**3, 10 * 1024**3)
    assert a.utilization_pct is None and a.power_watts is None  # NVML refuses MIG utilisation
    assert (b.mig_instance, b.utilization_pct) == ("2", 40.0)


def test_processes_reported_with_bytes_or_none():
    tick = sampler(fleet(2)).sample()
    assert tick.processes == [("GPU-00000000-fake", 1000, 512 * 1024**2), ("GPU-00000000-fake", 2000, None),
                              ("GPU-00000001-fake", 1001, 512 * 1024**2), ("GPU-00000001-fake", 2001, None)]


def test_init_failure_is_nvml_unavailable_one_line():
    with pytest.raises(NvmlUnavailable) as err:
        NvmlSampler(nvml=FakeNvml([], init_error=pynvml.NVML_ERROR_DRIVER_NOT_LOADED), host="h")
    assert "\n" not in str(err.value) and "NVML unavailable" in str(err.value)


def test_real_pynvml_without_gpu_is_unavailable():
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        with pytest.raises(NvmlUnavailable):
            NvmlSampler()
    else:  # pragma: no cover - only on a machine with a GPU
        pynvml.nvmlShutdown()
        with NvmlSampler() as real:
            assert real.sample().samples


def test_close_shuts_down_once():
    fake = fleet(1)
    s = sampler(fake)
    s.close()
    s.close()
    assert fake.shutdowns == 1


@pytest.mark.parametrize(
    ("prev", "cur", "delta"),
    [(1000.0, 1500.0, 500.0), (1_000_000.0, 200.0, 200.0), (None, 5.0, None), (5.0, None, None), (7.0, 7.0, 0.0)],
)
def test_energy_delta_treats_decrease_as_reset(prev, cur, delta):
    assert energy_delta_mj(prev, cur) == delta
