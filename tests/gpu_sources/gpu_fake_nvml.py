"""A fake of the pynvml module at the NVML call boundary, for tests and the tick benchmark.

It raises pynvml's own NVMLError classes, so the sampler's error handling is the
one that runs against the real library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml

NOT_SUPPORTED = pynvml.NVML_ERROR_NOT_SUPPORTED
NOT_FOUND = pynvml.NVML_ERROR_NOT_FOUND
GPU_IS_LOST = pynvml.NVML_ERROR_GPU_IS_LOST


@dataclass
class FakeMig:
    """One MIG instance of a fake GPU."""

    gpu_instance_id: int
    used: int
    total: int
    util: int | None = None  # None: NVML refuses (NOT_SUPPORTED), as on real MIG devices


@dataclass
class FakeGpu:
    """One fake GPU; readings in NVML's own units (mW, bytes, mJ)."""

    uuid: str
    name: str = "NVIDIA H100 80GB HBM3"
    util: int = 50
    used: int = 20 * 1024**3
    total: int = 80 * 1024**3
    power_mw: int = 350_000
    energy_mj: int = 1_000_000
    temp: int = 55
    sm_clock: int = 1980
    mig: list[FakeMig] | None = None  # None: MIG disabled
    max_mig: int = 7
    processes: list[tuple[int, int | None]] = field(default_factory=list)
    unsupported: set[str] = field(default_factory=set)  # NVML function names that raise NOT_SUPPORTED
    lost: bool = False  # every call raises GPU_IS_LOST


class FakeNvml:
    """Module-shaped object exposing the pynvml functions and constants the sampler calls."""

    NVMLError = pynvml.NVMLError
    NVML_TEMPERATURE_GPU = pynvml.NVML_TEMPERATURE_GPU
    NVML_CLOCK_SM = pynvml.NVML_CLOCK_SM
    NVML_DEVICE_MIG_ENABLE = pynvml.NVML_DEVICE_MIG_ENABLE
    NVML_DEVICE_MIG_DISABLE = pynvml.NVML_DEVICE_MIG_DISABLE

    def __init__(self, gpus: list[FakeGpu], init_error: int | None = None):
        self.gpus, self.init_error = gpus, init_error
        self.calls: list[str] = []
        self.shutdowns = 0

    def _gpu(self, handle: Any, fn: str) -> FakeGpu:
        gpu = handle if isinstance(handle, FakeGpu) else handle[0]
        if gpu.lost:
            raise pynvml.NVMLError(GPU_IS_LOST)
        if fn in gpu.unsupported:
            raise pynvml.NVMLError(NOT_SUPPORTED)
        return gpu

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise pynvml.NVMLError(self.init_error)

    def nvmlShutdown(self) -> None:
        self.shutdowns += 1

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, i: int) -> FakeGpu:
        return self._gpu(self.gpus[i], "nvmlDeviceGetHandleByIndex")

    def nvmlDeviceGetUUID(self, h: Any) -> str:
        return self._gpu(h, "nvmlDeviceGetUUID").uuid

    def nvmlDeviceGetName(self, h: Any) -> str:
        return self._gpu(h, "nvmlDeviceGetName").name

    def nvmlDeviceGetUtilizationRates(self, h: Any) -> SimpleNamespace:
        if isinstance(h, tuple):
            mig = h[1]
            if mig.util is None:
                raise pynvml.NVMLError(NOT_SUPPORTED)
            return SimpleNamespace(gpu=mig.util, memory=0)
        gpu = self._gpu(h, "nvmlDeviceGetUtilizationRates")
        if gpu.mig is not None:
            raise pynvml.NVMLError(NOT_SUPPORTED)
        return SimpleNamespace(gpu=gpu.util, memory=10)

    def nvmlDeviceGetMemoryInfo(self, h: Any) -> SimpleNamespace:
        if isinstance(h, tuple):
            mig = h[1]
            return SimpleNamespace(used=mig.used, total=mig.total, free=mig.total - mig.used)
        gpu = self._gpu(h, "nvmlDeviceGetMemoryInfo")
        return SimpleNamespace(used=gpu.used, total=gpu.total, free=gpu.total - gpu.used)

    def nvmlDeviceGetPowerUsage(self, h: Any) -> int:
        return self._gpu(h, "nvmlDeviceGetPowerUsage").power_mw

    def nvmlDeviceGetTotalEnergyConsumption(self, h: Any) -> int:
        return self._gpu(h, "nvmlDeviceGetTotalEnergyConsumption").energy_mj

    def nvmlDeviceGetTemperature(self, h: Any, sensor: int) -> int:
        assert sensor == pynvml.NVML_TEMPERATURE_GPU
        return self._gpu(h, "nvmlDeviceGetTemperature").temp

    def nvmlDeviceGetClockInfo(self, h: Any, clock: int) -> int:
        assert clock == pynvml.NVML_CLOCK_SM
        return self._gpu(h, "nvmlDeviceGetClockInfo").sm_clock

    def nvmlDeviceGetMigMode(self, h: Any) -> list[int]:
        gpu = self._gpu(h, "nvmlDeviceGetMigMode")
        on = pynvml.NVML_DEVICE_MIG_ENABLE if gpu.mig is not None else pynvml.NVML_DEVICE_MIG_DISABLE
        return [on, on]

    def nvmlDeviceGetMaxMigDeviceCount(self, h: Any) -> int:
        return self._gpu(h, "nvmlDeviceGetMaxMigDeviceCount").max_mig

    def nvmlDeviceGetMigDeviceHandleByIndex(self, h: Any, slot: int) -> tuple[FakeGpu, FakeMig]:
        gpu = self._gpu(h, "nvmlDeviceGetMigDeviceHandleByIndex")
        if gpu.mig is None or slot >= len(gpu.mig):
            raise pynvml.NVMLError(NOT_FOUND)
        return (gpu, gpu.mig[slot])

    def nvmlDeviceGetGpuInstanceId(self, h: tuple[FakeGpu, FakeMig]) -> int:
        return h[1].gpu_instance_id

    def nvmlDeviceGetComputeRunningProcesses(self, h: Any) -> list[SimpleNamespace]:
        gpu = self._gpu(h, "nvmlDeviceGetComputeRunningProcesses")
        return [SimpleNamespace(pid=p, usedGpuMemory=m, gpuInstanceId=0, computeInstanceId=0) for p, m in gpu.processes]


def fleet(n: int) -> FakeNvml:
    """A fake host with n plain GPUs, each with two processes."""
    gpus = [FakeGpu(uuid=f"GPU-{i:08d}-fake", processes=[(1000 + i, 512 * 1024**2), (2000 + i, None)]) for i in range(n)]
    return FakeNvml(gpus)
