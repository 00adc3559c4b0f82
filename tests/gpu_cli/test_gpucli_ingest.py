"""`hybridcost ingest dcgm|vllm|nvidia-smi` load every sample file into the test database, idempotently."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app

AT = "2026-07-14T08:00:00Z"


@pytest.fixture
def cli(cli_env):
    context.reset()
    yield CliRunner()
    context.reset()


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def _ok(result):
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_dcgm_h100_file_loads_8_gpus_and_hourly_rollup(cli, engine, samples_dir):
    page = samples_dir / "dcgm" / "dcgm_metrics_8xH100_k8s_pod_labels_sampled_aicr.txt"
    out = _ok(cli.invoke(app, ["ingest", "dcgm", str(page), "--at", AT]))
    assert "written 8" in out.output
    assert _count(engine, "SELECT count(*) FROM gpu_samples WHERE source = 'dcgm'") == 8
    assert _count(engine, "SELECT count(*) FROM gpu_hourly WHERE hour_at = '2026-07-14 08:00+00'") == 8
    assert _count(engine, "SELECT count(DISTINCT host) FROM gpu_samples") == 1
    _ok(cli.invoke(app, ["ingest", "dcgm", str(page), "--at", AT]))  # same scrape again: nothing doubles
    assert _count(engine, "SELECT count(*) FROM gpu_samples") == 8


def test_dcgm_l4_file_uses_engine_activity(cli, engine, samples_dir):
    page = samples_dir / "dcgm" / "dcgm_metrics_nvidia_L4_kops_cncf_conformance.txt"
    _ok(cli.invoke(app, ["ingest", "dcgm", str(page), "--at", AT]))
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT model_name, utilization_pct, memory_total_bytes FROM gpu_samples")).one()
    assert row.model_name == "NVIDIA L4" and row.utilization_pct is not None and row.memory_total_bytes > 0


@pytest.mark.parametrize("name, engines, buckets", [
    ("vllm_metrics_v0_aibrix_docs.txt", None, 0),
    ("vllm_metrics_v1_design_doc_example.txt", None, 0),  # its TTFT histogram is cut short by "...": skipped
    ("vllm_metrics_v1_qwen2.5-0.5b_kops_cncf_conformance.txt", None, 43),  # TTFT 22 + ITL 19 bounds, each +Inf
])
def test_vllm_files(cli, engine, samples_dir, name, engines, buckets):
    out = _ok(cli.invoke(app, ["ingest", "vllm", str(samples_dir / "vllm" / name), "--at", AT,
                               "--endpoint", "http://gpu-node-1:8000/metrics"]))
    n = _count(engine, "SELECT count(*) FROM inference_samples")
    assert n == engines if engines is not None else n >= 1
    stored = _count(engine, "SELECT count(*) FROM inference_latency_buckets")
    assert stored == buckets and f"read {n + buckets}" in out.output
    if buckets:
        assert _count(engine, "SELECT count(*) FROM inference_latency_hourly") == buckets  # one idle scrape: 0 each
    if n:
        assert _count(engine, "SELECT count(*) FROM inference_hourly WHERE endpoint = 'http://gpu-node-1:8000/metrics'") >= 1


@pytest.mark.parametrize("name", [
    "nvidia-h100-80gb-hbm3__590.48.01__query_gpu_idle_then_load.csv",
    "nvidia-h100-mig__590.48.01__query_gpu_idle_then_load.csv",
    "nvidia-h200__590.48.01__query_gpu_idle_then_load.csv",
    "nvidia-l40s__595.80__query_gpu_idle_then_load.csv",
])
def test_nvidia_smi_files(cli, engine, samples_dir, name):
    path = samples_dir / "nvidia_smi" / name
    rows = sum(1 for line in path.read_text().splitlines()[1:] if line.strip() and not line.startswith("#"))
    _ok(cli.invoke(app, ["ingest", "nvidia-smi", str(path), "--tz", "UTC", "--host", "lab-1"]))
    assert _count(engine, "SELECT count(*) FROM gpu_samples WHERE source = 'nvidia-smi' AND host = 'lab-1'") == rows
    assert _count(engine, "SELECT count(*) FROM gpu_hourly") >= 1
    _ok(cli.invoke(app, ["ingest", "nvidia-smi", str(path), "--tz", "UTC", "--host", "lab-1"]))
    assert _count(engine, "SELECT count(*) FROM gpu_samples") == rows


def test_user_errors_are_one_line(cli, samples_dir):
    page = samples_dir / "dcgm" / "dcgm_metrics_nvidia_L4_kops_cncf_conformance.txt"
    result = cli.invoke(app, ["ingest", "dcgm", str(page), "--at", "2026-07-14T08:00:00"])
    assert result.exit_code == 2 and "no time zone" in result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    result = cli.invoke(app, ["ingest", "nvidia-smi", str(page)])
    assert result.exit_code == 2 and "--tz" in result.output  # required option


def test_main_prints_one_line_and_exits_2(cli_env, monkeypatch, capsys, tmp_path):
    import sys

    from app.cli.main import main

    context.reset()
    monkeypatch.setattr(sys, "argv", ["hybridcost", "ingest", "dcgm", str(tmp_path / "missing.txt")])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
