"""SM activity beside utilisation and tokens: the endpoint-to-GPU mapping, tokens per SM-active GPU, dollars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
import sqlalchemy as sa

from ingest.loader import load
from ingest.records import GpuSample, InferenceSample
from ingest.sources.dcgm import DcgmSource
from models.economics.sm_delivery import busy_looking, busy_looking_sentences, delivery_sentences
from models.queries.sm_activity import endpoint_host, gpu_sm_activity, sm_delivery

H = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
GPU_MODEL = "NVIDIA H100 80GB HBM3"


def _gpu(uuid: str, host: str, util: float, sm: float, pod: str = "") -> list[GpuSample]:
    return [GpuSample(sampled_at=H + timedelta(minutes=10 * i), host=host, gpu_uuid=uuid, source="dcgm",
                      model_name=GPU_MODEL, utilization_pct=util, sm_active_frac=sm, pod=pod) for i in range(6)]


def _server(endpoint: str, gen_per_10min: float, prompt_per_gen: float) -> list[InferenceSample]:
    return [InferenceSample(sampled_at=H + timedelta(minutes=10 * i), endpoint=endpoint, model_name="m",
                            generation_tokens_total=gen_per_10min * i,
                            prompt_tokens_total=prompt_per_gen * gen_per_10min * i) for i in range(6)]


@pytest.fixture
def fleet(engine):
    records = (_gpu("GPU-a1", "node-a", 95.0, 0.18) + _gpu("GPU-a2", "node-a", 10.0, 0.06)
               + _gpu("GPU-b1", "node-b", 80.0, 0.6, pod="vllm-0") + _gpu("GPU-b2", "node-b", 90.0, 0.1)
               + _server("http://node-a:8000/metrics", 36_000, 0.0) + _server("vllm-0:8000", 36_000, 8.0)
               + _server("/srv/scrapes/old.txt", 1_000, 0.0))
    load(engine, records, source="test", target="sm fleet")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO model_throughput (model, gpu_type, tensor_parallel, input_tokens_per_s, "
                             "output_tokens_per_s, source) VALUES ('m', 'H100', 1, 40000, 10000, 'test')"))
        conn.execute(sa.text("INSERT INTO gpu_cost_profiles (name, gpu_type, gpu_count, pricing, host_pattern, "
                             "hourly_rate_usd) VALUES ('a', 'H100', 2, 'rent', 'node-*', 2.0)"))
    return engine


def test_endpoint_host_reads_urls_and_host_port_and_refuses_files():
    assert endpoint_host("http://node-a:8000/metrics") == "node-a"
    assert endpoint_host("gpu-node-1:8000") == "gpu-node-1"
    assert endpoint_host("vllm-0") == "vllm-0"
    assert endpoint_host("/srv/scrapes/old.txt") == "" and endpoint_host("<text>") == ""


def test_sm_activity_is_stored_and_rolled_up_from_dcgm(engine):
    text = "\n".join([
        'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-x",Hostname="h"} 95',
        'DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="GPU-x",Hostname="h"} 0.93',
        'DCGM_FI_PROF_SM_ACTIVE{gpu="0",UUID="GPU-x",Hostname="h"} 0.18', ""])
    (sample,) = DcgmSource(text, at=H).collect()
    assert sample.sm_active_frac == 0.18 and sample.utilization_pct == pytest.approx(93.0)
    later = DcgmSource(text.replace("0.18", "0.22"), at=H + timedelta(minutes=1)).collect()
    load(engine, [sample, *later], source="dcgm", target="t")
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT sm_active_frac FROM gpu_samples ORDER BY sampled_at")).scalars().all()
        rolled = conn.execute(sa.text("SELECT sm_active_mean_frac FROM gpu_hourly")).scalar_one()
    assert stored == [0.18, 0.22] and rolled == pytest.approx(0.20)


def test_tokens_per_sm_active_gpu_against_the_curve_and_the_dollars(fleet):
    with fleet.connect() as conn:
        out = sm_delivery(conn, H, H + timedelta(hours=2))
    rows = {r["target"]: r for r in out.iter_rows(named=True)}
    assert set(rows) == {"node-a", "vllm-0", "/srv/scrapes/old.txt"}
    a = rows["node-a"]
    # host mapping: both node-a GPUs. Five 10-minute deltas of 36,000 generated tokens in the hour.
    assert (a["mapping"], a["gpus"], a["hours"], a["generation_tokens"]) == ("host", 2, 1, 180_000)
    assert a["sm_active_gpu_hours"] == pytest.approx(0.24) and a["sm_active_mean_frac"] == pytest.approx(0.12)
    assert a["utilization_mean_pct"] == pytest.approx(52.5)
    assert a["tokens_per_s_per_sm_gpu"] == pytest.approx(50.0 / 0.24)
    # no prompt tokens: the curve's rate is its decode rate, 10,000 tok/s per GPU; 180,000 tokens need 0.005 GPU-h
    assert a["curve_output_tokens_per_s_per_gpu"] == pytest.approx(10_000.0)
    assert a["delivered_frac"] == pytest.approx(0.005 / 0.24)
    assert a["not_delivered_gpu_hours"] == pytest.approx(0.235)
    assert a["capacity_not_delivered_usd"] == pytest.approx(0.47) and a["usd_per_gpu_hour"] == 2.0
    b = rows["vllm-0"]
    # pod mapping: only the GPU whose pod label is the endpoint's host; its neighbour (SM 0.1) is not counted
    assert (b["mapping"], b["gpus"], b["sm_active_gpu_hours"]) == ("pod", 1, pytest.approx(0.6))
    # 8 prompt tokens per generated one: 1 / (8 / 40,000 + 1 / 10,000) = 3,333 output tok/s per GPU
    assert b["curve_output_tokens_per_s_per_gpu"] == pytest.approx(10_000 / 3)
    assert b["delivered_frac"] == pytest.approx(180_000 / (3600 * 10_000 / 3) / 0.6)
    none = rows["/srv/scrapes/old.txt"]
    assert none["mapping"] == "none" and none["hours"] == 0 and "cannot be mapped" in none["note"]
    (sentence_a, sentence_b) = delivery_sentences(out)
    assert sentence_a.startswith("node-a (2 GPUs, http://node-a:8000/metrics): utilization read 52 % but only 12 % of SM time")
    assert "208 output tok/s per SM-active GPU against 10,000 on the model's curve (2.1 % delivered): $0.47 of busy " \
           "GPU time (0.2 GPU-hours) produced no tokens." in sentence_a
    assert sentence_b.startswith("vllm-0 (1 GPU, vllm-0:8000): utilization read 80 % but only 60 % of SM time")


def test_busy_looking_gpus_say_so_plainly(fleet):
    with fleet.connect() as conn:
        gpus = gpu_sm_activity(conn, H, H + timedelta(hours=1))
    assert gpus.height == 4 and set(gpus["mig_instance"]) == {""} and gpus.filter(pl.col("gpu_uuid") == "GPU-a1")["sm_active_mean_frac"][0] == pytest.approx(0.18)
    assert sorted(busy_looking(gpus)["gpu_uuid"].to_list()) == ["GPU-a1", "GPU-b2"]
    assert busy_looking_sentences(gpus)[0] == (
        "GPU-a1 on node-a: utilization 95 % beside 18 % of SMs active over 1 hours: it looks busy but does little "
        "work per cycle")
