"""vLLM's latency histograms in one scrape, checked against the Prometheus exposition format.

Two histograms are read, per (model_name, engine): time to first token
(``vllm:time_to_first_token_seconds``, V0 and V1) and inter-token latency
(``vllm:inter_token_latency_seconds``, V1 from 0.11; before that, and in V0,
``vllm:time_per_output_token_seconds``, which observes the same gaps between tokens; a scrape that
has both counts them once, from the new name). ``vllm:request_time_per_output_token_seconds`` is a
per-request mean, not a per-token latency, and is not read.

The format's rules (prometheus.io "Exposition formats", histograms): each ``_bucket`` series has an
``le`` label that is a float (``+Inf`` included) and a cumulative count; the counts never decrease
as ``le`` grows; a ``le="+Inf"`` bucket must exist and equal ``_count``. A scrape breaking any of
these is refused with the file, line and series, since a p95 from it would be made up. A
documentation excerpt with ``...`` elisions may cut a histogram short: that histogram is skipped
(never stored as if complete) and the rest of the excerpt loads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from ingest.base import SourceError
from ingest.sources.dcgm import Scrape
from models.bounds import Guard

TTFT = "ttft"
ITL = "itl"
# metric name -> (what it measures, rank: a lower rank wins when a scrape has both names)
HISTOGRAMS = {
    "vllm:time_to_first_token_seconds": (TTFT, 0),
    "vllm:inter_token_latency_seconds": (ITL, 0),
    "vllm:time_per_output_token_seconds": (ITL, 1),  # V0 / pre-0.11 V1 name, deprecated in V1
}
_SUFFIXES = ("_bucket", "_count", "_sum")


@dataclass
class Histogram:
    """One histogram series set of one (model, engine): buckets by upper bound, and _count / _sum."""

    name: str
    buckets: dict[float, float] = field(default_factory=dict)
    count: float | None = None
    sum_seconds: float | None = None


def split_name(sample: str) -> tuple[str, str] | None:
    """(histogram name, suffix) for a sample of a histogram this module reads, else None."""
    for suffix in _SUFFIXES:
        if sample.endswith(suffix) and sample[: -len(suffix)] in HISTOGRAMS:
            return sample[: -len(suffix)], suffix
    return None


def parse_le(text: str) -> float | None:
    """The bucket bound of an ``le`` label (Go ParseFloat spellings: 0.1, 1e-3, +Inf); None when not a number."""
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) or value == -math.inf else value


def line_of(text: str, sample: str, labels: dict[str, str]) -> int | None:
    """The 1-based line of the scrape that holds this sample (name and every label), for error messages."""
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(sample) and line[len(sample):len(sample) + 1] in ("{", " ") and all(
                w in line for w in wanted):
            return number
    return None


class HistogramReader:
    """Collects the latency histogram samples of one scrape, then checks and returns them."""

    def __init__(self, scrape: Scrape, guard: Guard):
        self.scrape, self.guard = scrape, guard
        self.found: dict[tuple[str, str, str], Histogram] = {}  # (model, engine, histogram name)
        self.elided = any(ln.strip() == "..." for ln in scrape.text.splitlines())

    def _refuse(self, problem: str, sample: str, labels: dict[str, str]) -> SourceError:
        return SourceError(self.scrape.where, problem, line=line_of(self.scrape.text, sample, labels),
                           field=f"{sample}{{{', '.join(f'{k}={v!r}' for k, v in sorted(labels.items()))}}}")

    def add(self, sample: str, labels: dict[str, str], value: float) -> bool:
        """Take one sample if it belongs to a latency histogram (True), else leave it (False)."""
        parts = split_name(sample)
        if parts is None or "model_name" not in labels:
            return False
        name, suffix = parts
        if math.isnan(value) or math.isinf(value):
            raise self._refuse(f"{value} is not a finite number (a histogram's counts and sum are)", sample, labels)
        hist = self.found.setdefault((labels["model_name"], labels.get("engine", ""), name), Histogram(name))
        if suffix == "_sum":
            hist.sum_seconds = self.guard.check("histogram_sum_seconds", value, field=sample,
                                                line=line_of(self.scrape.text, sample, labels))
            return True
        self.guard.check("histogram_count", value, field=sample, line=line_of(self.scrape.text, sample, labels))
        if suffix == "_count":
            hist.count = value
            return True
        if "le" not in labels:
            raise self._refuse("a _bucket series without an le label", sample, labels)
        le = parse_le(labels["le"])
        if le is None:
            raise self._refuse(f"le={labels['le']!r} is not a bucket bound (a float or +Inf)", sample, labels)
        if le in hist.buckets:
            raise self._refuse(f"two buckets with le={labels['le']!r}", sample, labels)
        hist.buckets[le] = value
        return True

    def _check(self, model: str, engine: str, hist: Histogram) -> bool:
        labels = {"model_name": model, **({"engine": engine} if engine else {})}
        bucket = f"{hist.name}_bucket"
        if math.inf not in hist.buckets:
            if self.elided:
                return False  # an excerpt cut the histogram short: skip it, never store it as complete
            raise self._refuse("the histogram has no le=\"+Inf\" bucket (the exposition format requires one; "
                               "without it no quantile can be computed)", bucket, labels)
        previous_le, previous = None, -1.0
        for le in sorted(hist.buckets):
            if hist.buckets[le] < previous:
                bad = {**labels, "le": "+Inf" if le == math.inf else repr(le)}
                raise self._refuse(f"buckets are not cumulative: le={le:g} holds {hist.buckets[le]:g}, fewer than "
                                   f"{previous:g} at le={previous_le:g}", bucket, bad)
            previous_le, previous = le, hist.buckets[le]
        if hist.count is not None and hist.count != hist.buckets[math.inf]:
            raise self._refuse(f"_count is {hist.count:g} but the +Inf bucket holds {hist.buckets[math.inf]:g} "
                               "(they must be equal)", f"{hist.name}_count", labels)
        return True

    def histograms(self) -> Iterable[tuple[str, str, str, dict[float, float]]]:
        """(model, engine, ttft|itl, buckets) for every complete histogram, one ITL name per (model, engine)."""
        kept: dict[tuple[str, str, str], tuple[int, dict[float, float]]] = {}
        for (model, engine, name), hist in sorted(self.found.items(), key=lambda kv: kv[0]):
            if not hist.buckets and hist.count is None and hist.sum_seconds is None:
                continue
            if not self._check(model, engine, hist):
                continue
            metric, rank = HISTOGRAMS[name]
            key = (model, engine, metric)
            if key not in kept or rank < kept[key][0]:
                kept[key] = (rank, hist.buckets)
        for (model, engine, metric), (_, buckets) in sorted(kept.items()):
            yield model, engine, metric, buckets
