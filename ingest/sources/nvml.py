"""NVML sampling: one tick reads every GPU (and MIG instance) through pynvml.

NVML units: power in **milliwatts** (converted to W here), memory in bytes,
energy in mJ since the driver was loaded (kept raw; see ``energy_delta_mj``).
The NVML module is a constructor argument so tests can pass a fake at the call
boundary. A field NVML refuses (NOT_SUPPORTED and friends) becomes None, never 0.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ingest.records import GpuSample


class NvmlUnavailable(RuntimeError):
    """NVML could not start: no NVIDIA driver, no GPU, or no pynvml."""


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one sampling tick produced: samples, how long it took, per-GPU errors, processes."""

    samples: list[GpuSample]
    duration_s: float
    errors_by_gpu: dict[int, str] = field(default_factory=dict)
    processes: list[tuple[str, int, int | None]] = field(default_factory=list)  # (gpu_uuid, pid, bytes)


def energy_delta_mj(prev: float | None, cur: float | None) -> float | None:
    """Energy used between two reads of NVML's counter; a decrease means a driver reload (reset)."""
    if prev is None or cur is None:
        return None
    return cur if cur < prev else cur - prev


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class NvmlSampler:
    """Samples every GPU on this host through NVML; call ``close()`` (or use ``with``) when done."""

    source = "nvml"

    def __init__(
        self,
        nvml: Any = None,
        host: str | None = None,
        clock: Callable[[], float] = time.perf_counter,
        now: Callable[[], datetime] = _utc_now,
    ):
        if nvml is None:
            try:
                import pynvml as nvml
            except ImportError as exc:  # pragma: no cover - pynvml is a dependency
                raise NvmlUnavailable("NVML unavailable: the nvidia-ml-py package is not installed") from exc
        self.nvml, self.clock, self.now = nvml, clock, now
        self.host = host if host is not None else socket.gethostname()
        try:
            nvml.nvmlInit()
        except Exception as exc:
            raise NvmlUnavailable(f"NVML unavailable ({exc}): no NVIDIA driver or GPU on {self.host}") from exc
        self._open = True

    def close(self) -> None:
        """Shut NVML down; safe to call twice."""
        if self._open:
            self._open = False
            try:
                self.nvml.nvmlShutdown()
            except self.nvml.NVMLError:
                pass

    def __enter__(self) -> NvmlSampler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, fn: Callable[..., Any], *args: Any) -> Any:
        # One field NVML cannot give is missing, not zero; the rest of the GPU still counts.
        try:
            return fn(*args)
        except self.nvml.NVMLError:
            return None

    def sample(self) -> TickResult:
        """Read every GPU once; a GPU that fails entirely lands in errors_by_gpu, the others still count."""
        started = self.clock()
        at = self.now()
        samples: list[GpuSample] = []
        errors: dict[int, str] = {}
        processes: list[tuple[str, int, int | None]] = []
        count = self.nvml.nvmlDeviceGetCount()
        for index in range(count):
            try:
                samples.extend(self._sample_gpu(index, at, processes))
            except Exception as exc:  # whole GPU lost (fell off the bus, handle gone)
                errors[index] = f"{type(exc).__name__}: {exc}"
        return TickResult(samples, self.clock() - started, errors, processes)

    def _sample_gpu(self, index: int, at: datetime, processes: list) -> list[GpuSample]:
        n, get = self.nvml, self._get
        handle = n.nvmlDeviceGetHandleByIndex(index)
        uuid = _text(n.nvmlDeviceGetUUID(handle))  # without a UUID the GPU cannot be recorded
        name = get(n.nvmlDeviceGetName, handle)
        mem = get(n.nvmlDeviceGetMemoryInfo, handle)
        util = get(n.nvmlDeviceGetUtilizationRates, handle)
        power_mw = get(n.nvmlDeviceGetPowerUsage, handle)
        energy = get(n.nvmlDeviceGetTotalEnergyConsumption, handle)
        temp = get(n.nvmlDeviceGetTemperature, handle, n.NVML_TEMPERATURE_GPU)
        sm_clock = get(n.nvmlDeviceGetClockInfo, handle, n.NVML_CLOCK_SM)
        mig = get(n.nvmlDeviceGetMigMode, handle)
        mig_on = bool(mig) and mig[0] == n.NVML_DEVICE_MIG_ENABLE
        model = _text(name) if name is not None else ""
        out = [
            GpuSample(
                sampled_at=at,
                host=self.host,
                gpu_uuid=uuid,
                source=self.source,
                gpu_index=index,
                model_name=model,
                # Under MIG the device-level figure is not meaningful (NVML refuses it anyway).
                utilization_pct=None if (util is None or mig_on) else float(util.gpu),
                memory_used_bytes=int(mem.used) if mem is not None else None,
                memory_total_bytes=int(mem.total) if mem is not None else None,
                power_watts=power_mw / 1000.0 if power_mw is not None else None,
                energy_mj=float(energy) if energy is not None else None,
                temperature_c=float(temp) if temp is not None else None,
                sm_clock_mhz=float(sm_clock) if sm_clock is not None else None,
            )
        ]
        for proc in get(n.nvmlDeviceGetComputeRunningProcesses, handle) or []:
            used = getattr(proc, "usedGpuMemory", None)
            processes.append((uuid, int(proc.pid), int(used) if used is not None else None))
        if mig_on:
            out.extend(self._sample_mig(handle, uuid, index, model, at))
        return out

    def _sample_mig(self, handle: Any, uuid: str, index: int, model: str, at: datetime) -> list[GpuSample]:
        # Instances carry their own memory and (where NVML gives it) utilisation; power,
        # energy, temperature and clocks are device-wide and stay on the parent row only.
        n, get = self.nvml, self._get
        out: list[GpuSample] = []
        for slot in range(get(n.nvmlDeviceGetMaxMigDeviceCount, handle) or 0):
            mig_handle = get(n.nvmlDeviceGetMigDeviceHandleByIndex, handle, slot)
            if mig_handle is None:
                continue  # empty slot: NVML says NOT_FOUND
            instance = get(n.nvmlDeviceGetGpuInstanceId, mig_handle)
            if instance is None:
                continue
            mem = get(n.nvmlDeviceGetMemoryInfo, mig_handle)
            util = get(n.nvmlDeviceGetUtilizationRates, mig_handle)
            out.append(
                GpuSample(
                    sampled_at=at,
                    host=self.host,
                    gpu_uuid=uuid,
                    source=self.source,
                    mig_instance=str(instance),
                    gpu_index=index,
                    model_name=model,
                    utilization_pct=float(util.gpu) if util is not None else None,
                    memory_used_bytes=int(mem.used) if mem is not None else None,
                    memory_total_bytes=int(mem.total) if mem is not None else None,
                )
            )
        return out
