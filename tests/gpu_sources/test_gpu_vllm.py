"""vLLM scrapes (V0 and V1 samples) and throughput_from_scrapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingest.base import SourceError

from ingest.records import InferenceLatencyBucket, InferenceSample
from ingest.sources.vllm import OBSERVED, SATURATED, VllmSource, throughput_from_scrapes

from tests_support import SAMPLES as _ALL_SAMPLES  # noqa: E402

SAMPLES = _ALL_SAMPLES / "vllm"
AT = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared samples not present")


@needs_samples
def test_v0_aibrix_counters_and_gpu_cache_usage_mapped():
    records = list(VllmSource(SAMPLES / "vllm_metrics_v0_aibrix_docs.txt", at=AT,
                              endpoint="http://pod:8000/metrics").collect())
    (r,) = records  # the excerpt's only histogram is iteration_tokens_total, not a latency
    assert (r.model_name, r.engine, r.endpoint) == ("Qwen/Qwen2.5-Coder-1.5B-Instruct", "", "http://pod:8000/metrics")
    assert (r.prompt_tokens_total, r.generation_tokens_total) == (148.0, 955.0)
    assert (r.requests_running, r.requests_waiting, r.kv_cache_usage_frac) == (0.0, 0.0, 0.0)
    assert r.sampled_at == AT


@needs_samples
def test_v1_real_scrape_engine_label_and_kv_cache():
    path = SAMPLES / "vllm_metrics_v1_qwen2.5-0.5b_kops_cncf_conformance.txt"
    records = list(VllmSource(path, at=AT).collect())
    (r,) = [x for x in records if isinstance(x, InferenceSample)]
    assert (r.model_name, r.engine, r.endpoint) == ("Qwen/Qwen2.5-0.5B-Instruct", "0", str(path))
    buckets = [x for x in records if isinstance(x, InferenceLatencyBucket)]
    # an idle server still exports every bucket: TTFT's 22 edges and ITL's 19, each with +Inf, all zero
    assert sorted({b.metric for b in buckets}) == ["itl", "ttft"]
    assert sum(b.metric == "ttft" for b in buckets) == 23 and sum(b.metric == "itl" for b in buckets) == 20
    assert all(b.cumulative_count == 0 and b.engine == "0" for b in buckets)
    assert r.prompt_tokens_total == 0.0 and r.generation_tokens_total == 0.0  # idle server, not *_created
    assert r.kv_cache_usage_frac == 0.0 and r.requests_waiting == 0.0


@needs_samples
def test_v1_design_doc_excerpt_with_shell_prompt_and_elisions():
    # the excerpt cuts the TTFT histogram at le=0.1 ("..."): that histogram is skipped, never stored as complete
    (r,) = VllmSource(SAMPLES / "vllm_metrics_v1_design_doc_example.txt", at=AT).collect()
    assert r.model_name == "meta-llama/Llama-3.1-8B-Instruct"
    assert r.generation_tokens_total == 27453.0 and r.requests_running == 8.0
    assert r.prompt_tokens_total is None and r.kv_cache_usage_frac is None  # elided in the excerpt


@needs_samples
def test_http_only_excerpt_is_refused():
    # No vllm:* series at all: the wrong endpoint (a real vLLM exports every series, even idle), not "0 engines".
    with pytest.raises(SourceError, match="no vLLM series in the scrape"):
        list(VllmSource(SAMPLES / "vllm_http_metrics_design_doc_example.txt", at=AT).collect())


def test_two_engines_and_kv_preferred_over_old_name():
    text = "\n".join([
        '# TYPE vllm:prompt_tokens counter',
        'vllm:prompt_tokens_total{engine="0",model_name="m"} 10.0',
        'vllm:prompt_tokens_total{engine="1",model_name="m"} 20.0',
        'vllm:prompt_tokens_created{engine="0",model_name="m"} 1.7e9',
        'vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.5',
        'vllm:gpu_cache_usage_perc{engine="0",model_name="m"} 0.9',
        'vllm:gpu_cache_usage_perc{engine="1",model_name="m"} 0.25', ""])
    e0, e1 = VllmSource(text, at=AT, endpoint="e").collect()
    assert (e0.engine, e0.prompt_tokens_total, e0.kv_cache_usage_frac) == ("0", 10.0, 0.5)
    assert (e1.engine, e1.prompt_tokens_total, e1.kv_cache_usage_frac) == ("1", 20.0, 0.25)


def scrape(sec: int, prompt: float, gen: float, waiting: float = 0.0) -> InferenceSample:
    return InferenceSample(sampled_at=AT + timedelta(seconds=sec), endpoint="e", model_name="m", engine="0",
                           prompt_tokens_total=prompt, generation_tokens_total=gen, requests_waiting=waiting)


def test_throughput_rates_saturation_and_counter_reset():
    samples = [scrape(0, 100, 1000), scrape(10, 300, 6000, waiting=3), scrape(20, 400, 7000),
               scrape(30, 50, 500), scrape(40, 150, 2500)]
    out = throughput_from_scrapes(list(reversed(samples)))  # order of input does not matter
    assert [i.seconds for i in out] == [10, 10, 10, 10]
    assert [i.prompt_tokens_per_s for i in out] == [20.0, 10.0, 5.0, 10.0]
    assert [i.generation_tokens_per_s for i in out] == [500.0, 100.0, 50.0, 200.0]
    assert [i.regime for i in out] == [SATURATED, SATURATED, OBSERVED, OBSERVED]
    assert [i.counter_reset for i in out] == [False, False, True, False]


def test_throughput_missing_counter_and_mixed_engines():
    a = scrape(0, 1, 1)
    b = InferenceSample(sampled_at=AT + timedelta(seconds=5), endpoint="e", model_name="m", engine="0",
                        prompt_tokens_total=None, generation_tokens_total=11)
    (i,) = throughput_from_scrapes([a, b])
    assert i.prompt_tokens_per_s is None and i.generation_tokens_per_s == 2.0 and i.regime == OBSERVED
    other = InferenceSample(sampled_at=AT, endpoint="e", model_name="m", engine="1")
    with pytest.raises(ValueError, match="one engine"):
        throughput_from_scrapes([a, other])
    assert throughput_from_scrapes([a]) == [] and throughput_from_scrapes([a, a]) == []
