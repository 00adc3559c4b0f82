"""The throughput/latency curve a workload's own vLLM servers measured, binned by running requests.

Each interval between two scrapes of one server (one server is one replica) gives its prompt and
generated tokens per second and the requests running. Intervals are put in up to `BINS` bins of
equal count by running requests; a bin with at least `MIN_INTERVALS` intervals is one curve point:
its concurrency is the median running requests, its output rate the median generation rate, at the
bin's own prompt-to-output mix (converted as a published point is, models/economics/slo_curves.py).
vLLM's latency histograms are not stored, so latency is estimated: a sequence decoding among N
running ones gets a token every N / (generated tokens/s) seconds, and the point's p95 inter-token
latency is the 95th percentile of that over the bin's intervals. Time to first token is not
measured: the point carries the target's value, so only the inter-token target is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import polars as pl

from models.economics.plan_inputs import SloPoint
from models.economics.slo_curves import point_at_mix

BINS = 8
MIN_INTERVALS = 30


@dataclass(frozen=True)
class MeasuredCurve:
    """Curve points from the workload's vLLM scrapes, and how many intervals and servers they rest on."""

    points: tuple[SloPoint, ...]
    intervals: int
    servers: int
    generation_tokens_per_s: tuple[float, ...]  # each point's raw generation rate, as vLLM counted it


def measured_curve(intervals: pl.DataFrame, ttft_target_ms: float) -> MeasuredCurve | None:
    """Points from scrape intervals (models.queries.plan_signals.vllm_intervals); None below one full bin."""
    if intervals.height < MIN_INTERVALS:
        return None
    frame = intervals.sort("running")
    edges = np.linspace(0, frame.height, min(BINS, frame.height // MIN_INTERVALS) + 1).astype(int)
    points, raw = [], []
    for lo, hi in pairwise(edges):
        part = frame.slice(int(lo), int(hi - lo))
        gen = part["generation_tokens_per_s"].to_numpy()
        running = part["running"].to_numpy()
        rate = float(np.median(gen))
        mix = float(part["prompt_tokens_per_s"].sum() / part["generation_tokens_per_s"].sum())
        itl_ms = float(np.percentile(1000.0 * running / gen, 95))
        points.append(point_at_mix(float(np.median(running)), rate, mix, itl_ms, ttft_target_ms))
        raw.append(rate)
    return MeasuredCurve(tuple(points), intervals.height, intervals["endpoint"].n_unique(), tuple(raw))
