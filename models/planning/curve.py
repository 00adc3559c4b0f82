"""The throughput/latency curve a workload's own vLLM servers measured, binned by running requests.

Each interval between two scrapes of one server (one server is one replica) gives its prompt and
generated tokens per second and the requests running. Intervals are put in up to `BINS` bins of
equal count by running requests; a bin with at least `MIN_INTERVALS` intervals is one curve point:
its concurrency is the median running requests, its output rate the median generation rate, at the
bin's own prompt-to-output mix (converted as a published point is, models/economics/slo_curves.py).

Latency is measured from vLLM's histograms: the bucket increases of every interval in the bin are
summed and the point's p95 inter-token latency and time to first token are interpolated from them
as PromQL's histogram_quantile does (models/economics/latency.py). A bin whose histograms gained
fewer than `MIN_OBSERVATIONS` observations keeps a labelled fallback: inter-token latency is then
estimated (a sequence decoding among N running ones gets a token every N / (generated tokens/s)
seconds; the point's p95 is the 95th percentile of that over the bin's intervals), and time to
first token carries the target's value, so only the inter-token target is checked there.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import polars as pl

from models.economics.latency import histogram_quantile
from models.economics.plan_inputs import SloPoint
from models.economics.slo_curves import point_at_mix

BINS = 8
MIN_INTERVALS = 30
MIN_OBSERVATIONS = 100  # a p95 from fewer observations rests on a handful of tail values
QUANTILE = 0.95


@dataclass(frozen=True)
class MeasuredCurve:
    """Curve points from the workload's vLLM scrapes, and how many intervals and servers they rest on."""

    points: tuple[SloPoint, ...]
    intervals: int
    servers: int
    generation_tokens_per_s: tuple[float, ...]  # each point's raw generation rate, as vLLM counted it
    itl_measured_points: int = 0  # points whose p95 inter-token latency came from the histogram
    ttft_measured_points: int = 0  # points whose p95 time to first token came from the histogram
    observations: int = 0  # inter-token latency observations behind the measured points


def _p95_ms(steps: pl.DataFrame, metric: str) -> tuple[float | None, float]:
    """p95 in ms of one metric's summed bucket increases, and how many observations it rests on."""
    part = steps.filter(pl.col("metric") == metric).group_by("le_seconds").agg(pl.col("observations").sum())
    if part.is_empty():
        return None, 0.0
    part = part.sort("le_seconds")
    le, counts = part["le_seconds"].to_list(), part["observations"].to_list()
    total = counts[-1] if le[-1] == float("inf") else 0.0
    if total < MIN_OBSERVATIONS:
        return None, total
    p95 = histogram_quantile(QUANTILE, le, counts)
    return (None if p95 is None else 1000.0 * p95), total


def measured_curve(intervals: pl.DataFrame, ttft_target_ms: float,
                   latency: pl.DataFrame | None = None) -> MeasuredCurve | None:
    """Points from scrape intervals (plan_signals.vllm_intervals) and their bucket increases (vllm_latency_steps).

    None below one full bin.
    """
    if intervals.height < MIN_INTERVALS:
        return None
    frame = intervals.sort("running")
    edges = np.linspace(0, frame.height, min(BINS, frame.height // MIN_INTERVALS) + 1).astype(int)
    points, raw = [], []
    itl_measured = ttft_measured = 0
    observed = 0.0
    for lo, hi in pairwise(edges):
        part = frame.slice(int(lo), int(hi - lo))
        gen = part["generation_tokens_per_s"].to_numpy()
        running = part["running"].to_numpy()
        rate = float(np.median(gen))
        mix = float(part["prompt_tokens_per_s"].sum() / part["generation_tokens_per_s"].sum())
        steps = (latency.join(part.select("endpoint", "sampled_at"), on=["endpoint", "sampled_at"])
                 if latency is not None and latency.height else None)
        itl_ms, itl_n = _p95_ms(steps, "itl") if steps is not None else (None, 0.0)
        ttft_ms, _ = _p95_ms(steps, "ttft") if steps is not None else (None, 0.0)
        if itl_ms is None:
            itl_ms = float(np.percentile(1000.0 * running / gen, 95))  # the labelled estimate
        else:
            itl_measured += 1
            observed += itl_n
        if ttft_ms is None:
            ttft_ms = ttft_target_ms
        else:
            ttft_measured += 1
        points.append(point_at_mix(float(np.median(running)), rate, mix, itl_ms, ttft_ms))
        raw.append(rate)
    return MeasuredCurve(tuple(points), intervals.height, intervals["endpoint"].n_unique(), tuple(raw),
                         itl_measured, ttft_measured, int(observed))
