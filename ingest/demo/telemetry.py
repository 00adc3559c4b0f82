"""GPU side of the demo: an 8x H100 pool, its hourly history, raw samples and vLLM scrapes."""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from ingest import records as r
from ingest.demo import story as s

HOST = "gpu-node-1"
GPU_COUNT = 8
GPU_MODEL_NAME = "NVIDIA H100 80GB HBM3"
MEMORY_TOTAL_BYTES = 81_559 * 1024 * 1024
RAW_DAYS = 7
RAW_HOURS = RAW_DAYS * 24
SAMPLE_SOURCE = "demo"
ENDPOINT = "gpu-node-1:8000"
SERVING_GPUS = 4  # GPUs 0-3 serve segment-labeling after the move; 4-7 stay mostly idle


def gpu_uuid(index: int) -> str:
    """A stable, realistic-looking GPU UUID for pool GPU `index`."""
    return "GPU-" + str(uuid.UUID(bytes=hashlib.md5(f"hybridcost-demo-gpu-{index}".encode()).digest()))


@dataclass
class Fleet:
    """Hourly means per GPU (8 x HOURS) and the serving load, from which every row is drawn."""

    util: np.ndarray
    serving: np.ndarray  # bool, GPU serves the vLLM endpoint that hour
    experiment: np.ndarray  # bool, someone is trying something on an otherwise idle GPU
    load: np.ndarray  # 0..1 load of the endpoint per hour
    local: s.Stream


def build_fleet(story: s.Story) -> Fleet:
    """Hourly utilisation of each pool GPU across the window."""
    rng = np.random.default_rng([s.SEED, 50])
    local = s.local_stream(story)
    tokens = local.input + local.output * 30  # decode is the expensive part
    load = tokens / tokens.max() if tokens.max() > 0 else tokens
    hod = np.array([h.hour for h in story.hours])
    dow = np.array([h.weekday() for h in story.hours])
    util = np.full((GPU_COUNT, s.HOURS), 0.3) + rng.uniform(0, 0.4, (GPU_COUNT, s.HOURS))
    experiment = np.zeros((GPU_COUNT, s.HOURS), dtype=bool)
    for g in range(GPU_COUNT):
        starts = np.flatnonzero((rng.random(s.HOURS) < 0.012) & (hod >= 9) & (hod < 18) & (dow < 5))
        for h in starts.tolist():
            experiment[g, h:h + int(rng.integers(2, 7))] = True
    serving = np.zeros((GPU_COUNT, s.HOURS), dtype=bool)
    serving[:SERVING_GPUS] = local.requests > 0
    experiment &= ~serving
    util = np.where(experiment, rng.uniform(35, 90, (GPU_COUNT, s.HOURS)), util)
    util = np.where(serving, (42 + 54 * load * rng.normal(1, 0.03, (GPU_COUNT, s.HOURS))).clip(5, 99), util)
    return Fleet(util, serving, experiment, load, local)


def _sm_active(util: np.ndarray, serving: np.ndarray, experiment: np.ndarray) -> np.ndarray:
    """DCGM SM activity (0..1): vLLM decode keeps kernels running on few SMs; notebooks hold the GPU, idle SMs."""
    share = np.where(serving, 0.42, np.where(experiment, 0.2, 0.5))
    return np.round((util / 100.0 * share).clip(0, 1), 4)


def _power(util: np.ndarray) -> np.ndarray:
    return 68 + 6.2 * util


def _memory_used(fleet: Fleet, g: int, h) -> np.ndarray:
    used = np.where(fleet.serving[g, h], 0.9 * MEMORY_TOTAL_BYTES,
                    np.where(fleet.experiment[g, h], 0.45 * MEMORY_TOTAL_BYTES, 0.6 * 1024 ** 3))
    return used.astype(np.int64)


def _pod(fleet: Fleet, g: int, h: int) -> tuple[str, str]:
    if fleet.serving[g, h]:
        return "inference", f"vllm-llama-3-1-8b-{g}"
    if fleet.experiment[g, h]:
        return "research", "jupyter-notebook-0"
    return "", ""


def gpu_hourly_history(story: s.Story, fleet: Fleet) -> Iterator[tuple]:
    """gpu_hourly rows (as tuples of GPU_HOURLY_COLUMNS) for every hour before the raw week."""
    rng = np.random.default_rng([s.SEED, 51])
    for g in range(GPU_COUNT):
        uid = gpu_uuid(g)
        mem = _memory_used(fleet, g, np.arange(s.HOURS)).tolist()
        util = fleet.util[g]
        spread = np.where(util > 5, rng.uniform(3, 9, s.HOURS), rng.uniform(0.1, 0.6, s.HOURS))
        busy = np.where(util > 20, rng.uniform(0.95, 1.0, s.HOURS), np.where(util > 5, 0.5, 0.0))
        power = _power(util)
        sm = _sm_active(util, fleet.serving[g], fleet.experiment[g])
        for h in range(s.HOURS - RAW_HOURS):
            ns, pod = _pod(fleet, g, h)
            yield (story.hours[h], uid, "", HOST, GPU_MODEL_NAME, ns, pod, 60, float(util[h]),
                   float(min(100.0, util[h] + 2 * spread[h])), float(busy[h]), float(power[h]), mem[h],
                   MEMORY_TOTAL_BYTES, True, float(sm[h]))


GPU_HOURLY_COLUMNS = ("hour_at", "gpu_uuid", "mig_instance", "host", "model_name", "namespace", "pod", "samples",
                      "utilization_mean_pct", "utilization_max_pct", "busy_fraction", "power_mean_watts",
                      "memory_used_max_bytes", "memory_total_bytes", "is_demo", "sm_active_mean_frac")


def gpu_samples(story: s.Story, fleet: Fleet) -> Iterator[r.GpuSample]:
    """Raw 60-second samples of the 8 GPUs for the last 7 days."""
    rng = np.random.default_rng([s.SEED, 52])
    first = s.HOURS - RAW_HOURS
    minutes = RAW_HOURS * 60
    t0 = story.hours[first]
    times = [t0 + timedelta(minutes=m) for m in range(minutes)]
    hour_of = first + np.arange(minutes) // 60
    for g in range(GPU_COUNT):
        uid = gpu_uuid(g)
        mean = fleet.util[g, hour_of]
        util = np.where(mean > 5, mean + rng.normal(0, 5, minutes), mean + rng.normal(0, 0.2, minutes))
        util = np.round(util.clip(0, 100), 1)
        power = np.round(_power(util) + rng.normal(0, 4, minutes), 1)
        energy = np.round(np.cumsum(power * 60_000.0) + float(_power(fleet.util[g, :first]).sum() * 3.6e6))
        mem = _memory_used(fleet, g, hour_of).tolist()
        temp = np.round(31 + 0.42 * util + rng.normal(0, 0.5, minutes), 1).tolist()
        clock = np.where(util > 5, 1980.0, 345.0).tolist()
        sm_l = _sm_active(util, fleet.serving[g, hour_of], fleet.experiment[g, hour_of]).tolist()
        util_l, power_l, energy_l = util.tolist(), power.tolist(), energy.tolist()
        for m in range(minutes):
            ns, pod = _pod(fleet, g, int(hour_of[m]))
            yield r.GpuSample(sampled_at=times[m], host=HOST, gpu_uuid=uid, source=SAMPLE_SOURCE, gpu_index=g,
                              model_name=GPU_MODEL_NAME, utilization_pct=util_l[m], memory_used_bytes=mem[m],
                              memory_total_bytes=MEMORY_TOTAL_BYTES, power_watts=power_l[m], energy_mj=energy_l[m],
                              temperature_c=temp[m], sm_clock_mhz=clock[m], namespace=ns, pod=pod,
                              container="vllm" if pod.startswith("vllm") else "", sm_active_frac=sm_l[m])


def _gauges(load: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    running = np.round((220 * load * rng.normal(1, 0.05, load.shape)).clip(0, 256))
    waiting = np.round(np.clip((load - 0.82) * 600 + rng.normal(0, 4, load.shape), 0, None))
    waiting = np.where(load > 0.8, waiting, 0.0)
    kv = (0.15 + 0.8 * load + rng.normal(0, 0.02, load.shape)).clip(0, 0.99)
    return running, waiting, kv


# vLLM V1's bucket edges (vllm/v1/metrics/loggers.py), seconds; +Inf is added as the format requires.
TTFT_BUCKETS_S = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
                  40.0, 80.0, 160.0, 640.0, 2560.0)
HISTOGRAM_HOURS = 24  # the last day of the raw week carries vLLM's latency histograms
ITL_BUCKETS_S = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
                 80.0)


_ERF = np.vectorize(math.erf, otypes=[float])


def _cumulative_buckets(observed: np.ndarray, median_s: np.ndarray, sigma: float, edges: tuple[float, ...]
                        ) -> np.ndarray:
    """Cumulative bucket counts per scrape (minutes x buckets, +Inf last) of log-normal latencies."""
    z = (np.log(np.array(edges))[None, :] - np.log(median_s)[:, None]) / (sigma * math.sqrt(2.0))
    cdf = 0.5 * (1.0 + _ERF(z))
    per_minute = np.round(np.hstack([cdf, np.ones((len(observed), 1))]) * observed[:, None])
    return np.cumsum(per_minute, axis=0)  # rounding keeps each row non-decreasing in le, so the sums are too


def latency_buckets(times: list, running: np.ndarray, waiting: np.ndarray, generated: np.ndarray,
                    requests: np.ndarray) -> Iterator[r.InferenceLatencyBucket]:
    """The server's TTFT and inter-token latency histograms per scrape, cumulative since the raw week began.

    An 8B model on one H100: a token every ~6 ms alone, slower as the batch grows; the first token
    waits longer when requests queue.
    """
    itl = _cumulative_buckets(generated, 0.006 + 0.00012 * running, 0.35, ITL_BUCKETS_S)
    ttft = _cumulative_buckets(requests, 0.045 + 0.0004 * running + 0.08 * waiting, 0.6, TTFT_BUCKETS_S)
    for metric, counts, edges in (("itl", itl, ITL_BUCKETS_S), ("ttft", ttft, TTFT_BUCKETS_S)):
        bounds = [*edges, float("inf")]
        rows = counts.tolist()
        for m, at in enumerate(times):
            for le, count in zip(bounds, rows[m]):
                yield r.InferenceLatencyBucket(sampled_at=at, endpoint=ENDPOINT, model_name=s.LOCAL_MODEL,
                                               metric=metric, le_seconds=le, cumulative_count=count)


def inference_samples(story: s.Story, fleet: Fleet) -> Iterator[r.InferenceSample | r.InferenceLatencyBucket]:
    """vLLM scrapes every 60 s for the last 7 days: counters increase, the queue fills at peaks, latencies vary."""
    rng = np.random.default_rng([s.SEED, 53])
    first = s.HOURS - RAW_HOURS
    minutes = RAW_HOURS * 60
    hour_of = first + np.arange(minutes) // 60
    t0 = story.hours[first]
    wobble = rng.normal(1, 0.05, minutes).clip(0.8, 1.2)
    prompt = np.cumsum(fleet.local.input[hour_of] / 60 * wobble) + fleet.local.input[:first].sum()
    gen = np.cumsum(fleet.local.output[hour_of] / 60 * wobble) + fleet.local.output[:first].sum()
    load = (fleet.load[hour_of] * wobble).clip(0, 1.05)
    running, waiting, kv = _gauges(load, rng)
    cols = [np.round(prompt).tolist(), np.round(gen).tolist(), running.tolist(), waiting.tolist(),
            np.round(kv, 4).tolist()]
    for m in range(minutes):
        yield r.InferenceSample(sampled_at=t0 + timedelta(minutes=m), endpoint=ENDPOINT, model_name=s.LOCAL_MODEL,
                                prompt_tokens_total=cols[0][m], generation_tokens_total=cols[1][m],
                                requests_running=cols[2][m], requests_waiting=cols[3][m],
                                kv_cache_usage_frac=cols[4][m])
    # The server's latency histograms were first scraped a day before the anchor (a collector upgrade):
    # a day is thousands of intervals across every load level, enough for each bin of the curve.
    first_histogram = minutes - HISTOGRAM_HOURS * 60
    times = [t0 + timedelta(minutes=m) for m in range(first_histogram, minutes)]
    generated = np.diff(np.round(gen), prepend=np.round(gen[0]))[first_histogram:]
    requests = np.round(fleet.local.requests[hour_of] / 60 * wobble)[first_histogram:]
    yield from latency_buckets(times, running[first_histogram:], waiting[first_histogram:], generated, requests)


INFERENCE_HOURLY_COLUMNS = ("hour_at", "endpoint", "model_name", "workload", "prompt_tokens", "generation_tokens",
                            "requests_running_mean", "requests_waiting_mean", "requests_waiting_max",
                            "kv_cache_max_frac", "saturated_seconds", "generation_tokens_per_s_saturated", "is_demo")


def inference_hourly_history(story: s.Story, fleet: Fleet) -> Iterator[tuple]:
    """inference_hourly rows for the hours served before the raw week (since the move)."""
    rng = np.random.default_rng([s.SEED, 54])
    running, waiting, kv = _gauges(fleet.load, rng)
    for h in range(s.HOURS - RAW_HOURS):
        if fleet.local.requests[h] <= 0:
            continue
        saturated = 3600.0 * float(np.clip((fleet.load[h] - 0.8) / 0.2, 0, 1)) if waiting[h] > 0 else 0.0
        gen = float(fleet.local.output[h])
        yield (story.hours[h], ENDPOINT, s.LOCAL_MODEL, "segment-labeling", float(fleet.local.input[h]), gen,
               float(running[h]), float(waiting[h] * 0.6), float(waiting[h]), float(min(0.99, kv[h] + 0.03)),
               saturated, gen / 3600.0 if saturated > 0 else None, True)


def expected_samples() -> int:
    """How many raw rows (GPU, inference and latency buckets) the demo writes (for progress)."""
    return ((GPU_COUNT + 1) * RAW_HOURS + (len(TTFT_BUCKETS_S) + len(ITL_BUCKETS_S) + 2) * HISTOGRAM_HOURS) * 60
