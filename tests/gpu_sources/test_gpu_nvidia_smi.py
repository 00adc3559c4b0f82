"""nvidia-smi --query-gpu CSV: every capture, units, placeholders, DST-safe time zones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.base import SourceError
from ingest.sources.nvidia_smi import NvidiaSmiCsvSource, parse_number, split_header

from tests_support import SAMPLES as _ALL_SAMPLES  # noqa: E402

SAMPLES = _ALL_SAMPLES / "nvidia_smi"
MIB = 1024 * 1024
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared samples not present")


def rows(name: str, tz: str = "UTC"):
    return list(NvidiaSmiCsvSource(SAMPLES / name, tz=tz, host="node").collect())


@needs_samples
def test_h100_idle_then_load():
    idle, load = rows("nvidia-h100-80gb-hbm3__590.48.01__query_gpu_idle_then_load.csv", tz="Europe/Berlin")
    assert idle.sampled_at == datetime(2026, 7, 14, 6, 12, 38, 696000, tzinfo=UTC)  # 08:12 CEST
    assert (idle.power_watts, idle.utilization_pct, idle.memory_used_bytes) == (69.85, 0.0, 0)
    assert load.power_watts == 631.95 and load.utilization_pct == 100.0
    assert load.memory_used_bytes == 19818 * MIB and load.memory_total_bytes == 81559 * MIB
    assert (load.temperature_c, load.sm_clock_mhz, load.gpu_index) == (59.0, 1980.0, 0)
    assert load.model_name == "NVIDIA H100 80GB HBM3" and load.gpu_uuid.startswith("GPU-")
    assert load.host == "node" and load.source == "nvidia-smi" and load.energy_mj is None


@needs_samples
def test_h100_mig_utilization_is_none():
    idle, load = rows("nvidia-h100-mig__590.48.01__query_gpu_idle_then_load.csv")
    assert idle.utilization_pct is None and load.utilization_pct is None
    assert load.power_watts == 433.78 and load.memory_used_bytes == 11125 * MIB


@needs_samples
def test_h200_values():
    idle, load = rows("nvidia-h200__590.48.01__query_gpu_idle_then_load.csv")
    assert load.power_watts == 627.40 and load.memory_total_bytes == 143771 * MIB
    assert load.memory_used_bytes == 32362 * MIB and idle.temperature_c == 28.0
    assert load.sampled_at == datetime(2026, 7, 3, 22, 11, 9, 763000, tzinfo=UTC)


@needs_samples
def test_l40s_extra_kmd_version_column_mapped_by_name():
    idle, load = rows("nvidia-l40s__595.80__query_gpu_idle_then_load.csv")
    assert idle.utilization_pct == 100.0 and idle.memory_used_bytes == 0  # the capture's own oddity
    assert (load.utilization_pct, load.power_watts, load.memory_used_bytes) == (9.0, 110.23, 1235 * MIB)
    assert load.memory_total_bytes == 46068 * MIB and load.sm_clock_mhz == 2520.0


HEADER = "timestamp, name, uuid, index, utilization.gpu [%], memory.used [MiB], memory.total [MiB], power.draw [W]\n"


def write(tmp_path: Path, *data: str, header: str = HEADER) -> Path:
    path = tmp_path / "log.csv"
    path.write_text(header + "".join(d + "\n" for d in data))
    return path


def test_fall_back_hour_is_ambiguous_and_rejected(tmp_path):
    path = write(tmp_path, "2026/11/01 00:59:59.000, G, GPU-1, 0, 5 %, 1 MiB, 2 MiB, 10.00 W",
                 "2026/11/01 01:30:00.000, G, GPU-1, 0, 5 %, 1 MiB, 2 MiB, 10.00 W")
    src = NvidiaSmiCsvSource(path, tz="America/New_York")
    it = src.collect()
    assert next(it).sampled_at == datetime(2026, 11, 1, 4, 59, 59, tzinfo=UTC)
    with pytest.raises(SourceError) as err:
        next(it)
    e = err.value
    assert (e.where, e.line, e.field) == (str(path), 3, "timestamp") and "ambiguous" in str(e)


def test_spring_forward_gap_is_rejected(tmp_path):
    path = write(tmp_path, "2026/03/08 02:30:00.000, G, GPU-1, 0, 5 %, 1 MiB, 2 MiB, 10.00 W")
    with pytest.raises(SourceError, match="does not exist") as err:
        list(NvidiaSmiCsvSource(path, tz="America/New_York").collect())
    assert err.value.line == 2 and err.value.field == "timestamp"


def test_placeholders_nounits_and_comment_lines(tmp_path):
    header = "# captured by cron\ntimestamp, uuid, utilization.gpu [%], memory.used [MiB], power.draw [W], temperature.gpu\n"
    path = write(tmp_path, "2026/01/05 10:00:00, GPU-1, [N/A], 2048, [Not Supported], ",
                 "2026/01/05 10:00:05, GPU-1, N/A, [Requested functionality has been deprecated], 300.5, 40",
                 header=header)
    a, b = NvidiaSmiCsvSource(path, tz="Asia/Tokyo").collect()
    assert a.sampled_at == datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    assert (a.utilization_pct, a.memory_used_bytes, a.power_watts, a.temperature_c) == (None, 2048 * MIB, None, None)
    assert (b.utilization_pct, b.memory_used_bytes, b.power_watts, b.temperature_c) == (None, None, 300.5, 40.0)
    assert a.memory_total_bytes is None and a.gpu_index is None


def test_bad_value_names_line_and_field(tmp_path):
    path = write(tmp_path, "2026/01/05 10:00:00.000, G, GPU-1, 0, lots, 1 MiB, 2 MiB, 10 W")
    with pytest.raises(SourceError) as err:
        list(NvidiaSmiCsvSource(path, tz="UTC").collect())
    assert err.value.line == 2 and err.value.field == "utilization"


def test_tz_required_and_checked(tmp_path):
    path = write(tmp_path)
    with pytest.raises(TypeError):
        NvidiaSmiCsvSource(path)  # type: ignore[call-arg]
    with pytest.raises(SourceError, match="time zone"):
        NvidiaSmiCsvSource(path, tz="")
    with pytest.raises(SourceError, match="unknown time zone"):
        NvidiaSmiCsvSource(path, tz="Mars/Olympus")
    assert list(NvidiaSmiCsvSource(path, tz="UTC").collect()) == []


def test_helpers():
    assert split_header("memory.used [MiB]") == ("memory.used", "MiB")
    assert split_header("temperature.gpu") == ("temperature.gpu", "")
    assert parse_number("631.95 W", "W") == (631.95, "W") and parse_number("19818", "MiB") == (19818.0, "MiB")
    assert parse_number("[N/A]", "%") is None and parse_number("", "%") is None
