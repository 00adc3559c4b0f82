"""Quantiles of latency histograms, interpolated the way Prometheus's histogram_quantile does.

Buckets are cumulative counts by upper bound (``le``), as vLLM exports them and as the hourly
rollup keeps their increases. The rules are PromQL's (promql/quantile.go, bucketQuantile): the
buckets are sorted by bound and must end with ``+Inf``; counts that dip by float noise are lifted
to the running maximum; with fewer than two buckets or no observations there is no answer; the
rank ``q x total`` falls in the first bucket whose count reaches it, and the answer is linear
between that bucket's lower and upper bounds (the lowest bucket starts at 0 unless its bound is
at or below 0); a rank in the ``+Inf`` bucket answers the highest finite bound, since nothing
says how far above it the observations lay.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def histogram_quantile(q: float, le_seconds: Sequence[float], cumulative: Sequence[float]) -> float | None:
    """The q-quantile (0..1) of one histogram's cumulative bucket counts; None where PromQL would answer NaN."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} outside 0..1")
    pairs = sorted(zip(le_seconds, cumulative))
    if len(pairs) < 2 or pairs[-1][0] != math.inf:
        return None
    bounds = [le for le, _ in pairs]
    counts, running = [], 0.0
    for _, c in pairs:
        running = max(running, float(c))  # PromQL's ensureMonotonic
        counts.append(running)
    total = counts[-1]
    if total <= 0:
        return None
    rank = q * total
    b = next(i for i, c in enumerate(counts) if c >= rank)
    if b == len(counts) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start, end, count = 0.0, bounds[b], counts[b]
    if b > 0:
        start, count, rank = bounds[b - 1], counts[b] - counts[b - 1], rank - counts[b - 1]
    return start + (end - start) * (rank / count) if count > 0 else end

