"""vLLM latency histograms: the exposition format's rules, V0/V1 names, loading, and the hourly bucket increases."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ingest.base import SourceError
from ingest.loader import load
from ingest.records import InferenceLatencyBucket, InferenceSample
from ingest.sources.vllm import VllmSource
from models.economics.latency import histogram_quantile

AT = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
ITL = "vllm:inter_token_latency_seconds"


def page(buckets: dict[str, float], *, name: str = ITL, count: float | None = None, extra: str = "",
         labels: str = 'engine="0",model_name="m"') -> str:
    """A small scrape: one counter and one histogram (le text -> cumulative count)."""
    lines = ["# TYPE vllm:generation_tokens counter", f"vllm:generation_tokens_total{{{labels}}} 100.0",
             f"# TYPE {name} histogram"]
    lines += [f'{name}_bucket{{{labels},le="{le}"}} {v}' for le, v in buckets.items()]
    total = count if count is not None else buckets.get("+Inf", 0.0)
    lines += [f"{name}_count{{{labels}}} {total}", f"{name}_sum{{{labels}}} 1.5", extra, ""]
    return "\n".join(lines)


def buckets_of(text: str) -> list[InferenceLatencyBucket]:
    return [r for r in VllmSource(text, at=AT, endpoint="e").collect() if isinstance(r, InferenceLatencyBucket)]


def test_buckets_come_out_cumulative_with_inf_and_the_engine():
    out = buckets_of(page({"0.01": 2, "0.025": 5, "0.05": 9, "+Inf": 10}))
    assert [(b.metric, b.le_seconds, b.cumulative_count, b.engine) for b in out] == [
        ("itl", 0.01, 2, "0"), ("itl", 0.025, 5, "0"), ("itl", 0.05, 9, "0"), ("itl", math.inf, 10, "0")]


def test_non_monotonic_buckets_are_refused_naming_the_line_and_series():
    text = page({"0.01": 2, "0.025": 7, "0.05": 6, "+Inf": 10})
    with pytest.raises(SourceError) as err:
        buckets_of(text)
    msg = str(err.value)
    assert "not cumulative" in msg and "le=0.05 holds 6" in msg and "line 6" in msg and ITL + "_bucket" in msg
    assert text.splitlines()[5].startswith(ITL + '_bucket{engine="0",model_name="m",le="0.05"}')


def test_a_real_scrape_without_an_inf_bucket_is_refused():
    with pytest.raises(SourceError, match=r'no le="\+Inf" bucket'):
        buckets_of(page({"0.01": 2, "0.05": 9}, count=9))


def test_nan_counts_are_refused_with_line_and_field():
    with pytest.raises(SourceError) as err:
        buckets_of(page({"0.01": 2, "0.05": float("nan"), "+Inf": 10}))
    assert "not a finite number" in str(err.value) and "line 5" in str(err.value)


@pytest.mark.parametrize("buckets,count,match", [
    ({"0.01": 2, "+Inf": 10}, 11, "_count is 11 but the \\+Inf bucket holds 10"),
    ({"fast": 2, "+Inf": 10}, None, "le='fast' is not a bucket bound"),
    ({"NaN": 2, "+Inf": 10}, None, "le='NaN' is not a bucket bound"),
    ({"0.010": 2, "0.01": 3, "+Inf": 10}, None, "two buckets with le='0.01'"),
    ({"0.01": -1, "+Inf": 10}, None, "outside the plausible range"),
])
def test_other_format_violations_are_refused(buckets, count, match):
    with pytest.raises(SourceError, match=match):
        buckets_of(page(buckets, count=count))


def test_v0_time_per_output_token_is_the_itl_and_the_new_name_wins_when_both_are_there():
    old = buckets_of(page({"0.01": 1, "+Inf": 4}, name="vllm:time_per_output_token_seconds"))
    assert [(b.metric, b.cumulative_count) for b in old] == [("itl", 1), ("itl", 4)]
    both = page({"0.01": 1, "+Inf": 4}, name="vllm:time_per_output_token_seconds",
                extra=page({"0.02": 3, "+Inf": 5}).split("\n", 2)[2])
    assert [(b.le_seconds, b.cumulative_count) for b in buckets_of(both)] == [(0.02, 3), (math.inf, 5)]
    # request_time_per_output_token is a per-request mean, not per-token latency: never read
    per_request = buckets_of(page({"0.01": 1, "+Inf": 4}, name="vllm:request_time_per_output_token_seconds"))
    assert per_request == []


def test_ttft_without_engine_label_is_v0():
    out = buckets_of(page({"0.1": 3, "+Inf": 3}, name="vllm:time_to_first_token_seconds", labels='model_name="m"'))
    assert {(b.metric, b.engine) for b in out} == {("ttft", "")}


def _scrape(minute: int, itl: dict[float, float], ttft: dict[float, float], gen: float) -> list:
    at = AT + timedelta(minutes=minute)
    rows: list = [InferenceSample(sampled_at=at, endpoint="e", model_name="m", generation_tokens_total=gen)]
    for metric, buckets in (("itl", itl), ("ttft", ttft)):
        rows += [InferenceLatencyBucket(sampled_at=at, endpoint="e", model_name="m", metric=metric, le_seconds=le,
                                        cumulative_count=c) for le, c in buckets.items()]
    return rows


def test_hourly_rollup_differences_buckets_and_a_restart_counts_from_zero(engine):
    inf = math.inf
    records = (_scrape(0, {0.01: 10, 0.05: 20, inf: 20}, {0.1: 1, inf: 2}, 100)
               + _scrape(1, {0.01: 30, 0.05: 60, inf: 70}, {0.1: 3, inf: 5}, 200)
               # the server restarted: every bucket starts again, even one (0.05) that did not go down
               + _scrape(2, {0.01: 5, 0.05: 60, inf: 80}, {0.1: 1, inf: 1}, 50))
    result = load(engine, records, source="vllm", target="test")
    assert result.by_table["inference_latency_buckets"] == 15
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT metric, le_seconds, observations FROM inference_latency_hourly "
                                    "ORDER BY metric, le_seconds")).all()
        run_ids = conn.execute(sa.text("SELECT DISTINCT run_id FROM inference_latency_buckets")).scalars().all()
    got = {(m, le): n for m, le, n in rows}
    assert got == {("itl", 0.01): 20 + 5, ("itl", 0.05): 40 + 60, ("itl", inf): 50 + 80,
                   ("ttft", 0.1): 2 + 1, ("ttft", inf): 3 + 1}
    assert run_ids == [result.run_id]
    le = [0.01, 0.05, inf]
    # p95 of the hour: rank 0.95 x 130 = 123.5 lies in the +Inf bucket (100 < 123.5): the highest finite bound
    assert histogram_quantile(0.95, le, [got[("itl", x)] for x in le]) == 0.05
    # re-loading the same scrapes changes nothing
    again = load(engine, records, source="vllm", target="test")
    assert again.by_table["inference_latency_buckets"] == 0
