"""Telemetry with range checks: nvidia-smi, dcgm-exporter and vLLM values outside their bounds never load."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from guard_support import refused, rows, run_cli, scalar

AT = "2026-07-14T08:00:00Z"
SMI_HEADER = ("timestamp, name, uuid, index, utilization.gpu [%], memory.used [MiB], memory.total [MiB], "
              "power.draw [W], temperature.gpu\n")
DCGM_LABELS = 'gpu="0",UUID="GPU-aaaa",modelName="NVIDIA H100 80GB HBM3",Hostname="node-1"'


def _smi(tmp_path: Path, util: str = "50 %", power: str = "300.00 W", temp: str = "60", header: str = SMI_HEADER,
         uuid: str = "GPU-aaaa, ") -> Path:
    path = tmp_path / "smi.csv"
    path.write_text(header + f"2026/07/14 08:00:00.000, NVIDIA H100 80GB HBM3, {uuid}0, {util}, 1000 MiB, "
                             f"81559 MiB, {power}, {temp}\n")
    return path


@pytest.mark.parametrize("kwargs, field, hint", [
    ({"power": "627400 W"}, "'power.draw'", "looks like milliwatts: 627.4 W?"),
    ({"util": "150 %"}, "'utilization'", "0..100 percent"),
    ({"util": "-5 %"}, "'utilization'", "0..100 percent"),
    ({"temp": "9999"}, "'temperature'", "-40..150 degrees Celsius"),
])
def test_nvidia_smi_out_of_range_is_refused(cli_env, tmp_path, no_run_left_running, kwargs, field, hint):
    path = _smi(tmp_path, **kwargs)
    refused(run_cli("ingest", "nvidia-smi", path, "--tz", "UTC"), str(path), "line 2", field, hint,
            "--accept-implausible")
    assert scalar(cli_env, "SELECT count(*) FROM gpu_samples") == 0


def test_nvidia_smi_override_is_audited(cli_env, tmp_path):
    path = _smi(tmp_path, power="3500 W")  # a real 3.5 kW board, say
    result = run_cli("ingest", "nvidia-smi", path, "--tz", "UTC", "--accept-implausible", "power_watts")
    assert result.code == 0, result.output
    assert scalar(cli_env, "SELECT power_watts FROM gpu_samples") == 3500.0
    assert scalar(cli_env, "SELECT after->'fields' FROM audit_log WHERE action = 'accept_implausible'") == [
        "power_watts"]


def test_nvidia_smi_without_uuid_loads_when_the_host_is_named(cli_env, tmp_path):
    header = SMI_HEADER.replace(" uuid,", "")
    path = _smi(tmp_path, header=header, uuid="")
    refused(run_cli("ingest", "nvidia-smi", path, "--tz", "UTC"), "no 'uuid' column", "--host")
    result = run_cli("ingest", "nvidia-smi", path, "--tz", "UTC", "--host", "node-7")
    assert result.code == 0, result.output
    assert "node-7/gpu<index>" in result.output
    assert rows(cli_env, "SELECT gpu_uuid, host FROM gpu_samples") == [("node-7/gpu0", "node-7")]


def _dcgm(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "scrape.txt"
    path.write_text("\n".join(f"{metric}{{{DCGM_LABELS}}} {value}" for metric, value in
                              (line.split(" ") for line in lines)) + "\n")
    return path


@pytest.mark.parametrize("line, field, hint", [
    ("DCGM_FI_PROF_GR_ENGINE_ACTIVE 85", "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "85 looks like a percent: 0.85"),
    ("DCGM_FI_DEV_POWER_USAGE 627400", "DCGM_FI_DEV_POWER_USAGE", "looks like milliwatts"),
    ("DCGM_FI_DEV_GPU_UTIL 150", "DCGM_FI_DEV_GPU_UTIL", "0..100 percent"),
])
def test_dcgm_out_of_range_is_refused(cli_env, tmp_path, no_run_left_running, line, field, hint):
    path = _dcgm(tmp_path, line, "DCGM_FI_DEV_GPU_TEMP 50")
    refused(run_cli("ingest", "dcgm", path, "--at", AT), str(path), field, hint)
    assert scalar(cli_env, "SELECT count(*) FROM gpu_samples") == 0


@pytest.mark.parametrize("at", ["1970-01-01T00:00:00Z", "2100-01-01T00:00:00Z"])
def test_dcgm_scrape_time_in_1970_or_2100_is_refused(cli_env, tmp_path, at):
    path = _dcgm(tmp_path, "DCGM_FI_DEV_GPU_TEMP 50")
    refused(run_cli("ingest", "dcgm", path, "--at", at), "scrape time", "outside the plausible window",
            "--accept-implausible observed_at")


def test_dcgm_file_with_a_zero_mtime_is_refused(cli_env, tmp_path):
    path = _dcgm(tmp_path, "DCGM_FI_DEV_GPU_TEMP 50")
    os.utime(path, (0, 0))  # a copy that lost its time: it would be filed under 1970
    refused(run_cli("ingest", "dcgm", path), "1970-01-01", "--at")


def test_vllm_kv_cache_percent_is_refused(cli_env, tmp_path):
    path = tmp_path / "vllm.txt"
    path.write_text('vllm:kv_cache_usage_perc{engine="0",model_name="m"} 85\n'
                    'vllm:num_requests_running{engine="0",model_name="m"} 1\n')
    refused(run_cli("ingest", "vllm", path, "--at", AT), "vllm:kv_cache_usage_perc", "85 looks like a percent")
    assert scalar(cli_env, "SELECT count(*) FROM inference_samples") == 0


@pytest.mark.parametrize("source, text", [("dcgm", ""), ("vllm", ""), ("dcgm", "# HELP nothing here\n")])
def test_empty_scrape_is_refused(cli_env, tmp_path, source, text):
    path = tmp_path / "empty.txt"
    path.write_text(text)
    refused(run_cli("ingest", source, path, "--at", AT), str(path), "no ", "series in the scrape")
    assert scalar(cli_env, "SELECT count(*) FROM ingest_runs WHERE status = 'succeeded'") == 0


@pytest.mark.parametrize("source", ["dcgm", "vllm"])
@pytest.mark.parametrize("content", [
    "DCGM_FI_DEV_GPU_TEMP 50\n".encode("utf-16"),  # UTF-16 with its mark: read, then judged on its content
    bytes(range(256)) * 4,  # binary
])
def test_utf16_or_binary_scrapes_never_crash(cli_env, tmp_path, source, content):
    path = tmp_path / "scrape.bin"
    path.write_bytes(content)
    result = run_cli("ingest", source, path, "--at", AT)
    refused(result, str(path))


def test_nvidia_smi_empty_file_is_refused(cli_env, tmp_path):
    path = tmp_path / "smi.csv"
    path.write_text("")
    refused(run_cli("ingest", "nvidia-smi", path, "--tz", "UTC"), str(path), "empty file")
