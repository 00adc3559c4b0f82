"""vLLM ``/metrics`` scrapes -> InferenceSample per (model_name, engine), its latency histograms, and throughput.

Counters are kept as read (cumulative); ``throughput_from_scrapes`` turns
successive samples of one engine into tokens per second per interval. V0 names
(``gpu_cache_usage_perc``, no ``engine`` label) and V1 names are both read. The
time-to-first-token and inter-token latency histograms are yielded as
InferenceLatencyBucket records, one per bucket, cumulative as read
(ingest/sources/vllm_histograms.py checks them against the exposition format).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from ingest.base import SourceError
from ingest.records import InferenceLatencyBucket, InferenceSample
from ingest.sources.dcgm import Scrape, check_scrape_time, clean_value, iter_samples, read_scrape
from ingest.sources.vllm_histograms import HistogramReader
from models.bounds import Guard

_FIELDS = {
    "vllm:prompt_tokens_total": "prompt_tokens_total",
    "vllm:generation_tokens_total": "generation_tokens_total",
    "vllm:num_requests_running": "requests_running",
    "vllm:num_requests_waiting": "requests_waiting",
    "vllm:kv_cache_usage_perc": "kv_cache_usage_frac",
    "vllm:gpu_cache_usage_perc": "_gpu_cache_usage_frac",  # V0 / pre-0.9 name
}

_CHECKS = {"prompt_tokens_total": "bucket_tokens", "generation_tokens_total": "bucket_tokens",
           "kv_cache_usage_frac": "fraction", "_gpu_cache_usage_frac": "fraction"}
SATURATED = "at_saturation"
OBSERVED = "observed_load"


class VllmSource:
    """One vLLM /metrics scrape (URL, file or text) as InferenceSamples per engine."""

    name = "vllm"

    def __init__(self, text_or_url: str | os.PathLike, *, at: datetime | None = None, endpoint: str | None = None,
                 accept: tuple[str, ...] = ()):
        self.text_or_url, self.at, self._endpoint = text_or_url, at, endpoint
        self._scrape: Scrape | None = None
        self.guard = Guard(os.fspath(text_or_url) if isinstance(text_or_url, os.PathLike) else str(text_or_url)[:200],
                           accept)

    def _load(self) -> Scrape:
        if self._scrape is None:
            self._scrape = read_scrape(self.text_or_url, self.at)
        return self._scrape

    @property
    def endpoint(self) -> str:
        """The endpoint label for the samples: as given, else the URL or file read."""
        return self._endpoint if self._endpoint is not None else self._load().where

    def collect(self) -> Iterator[InferenceSample | InferenceLatencyBucket]:
        """Yield one InferenceSample per (model_name, engine) seen in the scrape, then its latency buckets."""
        scrape = self._load()
        self.guard.where = scrape.where
        check_scrape_time(scrape, self.guard)
        groups: dict[tuple[str, str], dict[str, float | None]] = {}
        histograms = HistogramReader(scrape, self.guard)
        for metric, labels, value in iter_samples(scrape):
            if histograms.add(metric, labels, value):
                continue
            field = _FIELDS.get(metric)  # *_created gauges and other histograms never match
            if field is None or "model_name" not in labels:
                continue
            key = (labels["model_name"], labels.get("engine", ""))
            cleaned = clean_value(value)
            if field in _CHECKS:
                self.guard.check(_CHECKS[field], cleaned, field=f"{metric} (model {labels['model_name']})")
            elif cleaned is not None and cleaned < 0:
                raise SourceError(scrape.where, f"negative value {cleaned}", field=metric)
            groups.setdefault(key, {})[field] = cleaned
        complete = list(histograms.histograms())
        if not groups and not complete:
            raise SourceError(scrape.where, "no vLLM series in the scrape (no vllm:* metric with a model_name "
                              "label): is this a vLLM /metrics page?")
        for (model, engine), v in groups.items():
            kv = v.get("kv_cache_usage_frac")
            if kv is None:
                kv = v.get("_gpu_cache_usage_frac")
            yield InferenceSample(
                sampled_at=scrape.at,
                endpoint=self.endpoint,
                model_name=model,
                engine=engine,
                prompt_tokens_total=v.get("prompt_tokens_total"),
                generation_tokens_total=v.get("generation_tokens_total"),
                requests_running=v.get("requests_running"),
                requests_waiting=v.get("requests_waiting"),
                kv_cache_usage_frac=kv,
            )
        for model, engine, metric, buckets in complete:
            for le, count in sorted(buckets.items()):
                yield InferenceLatencyBucket(sampled_at=scrape.at, endpoint=self.endpoint, model_name=model,
                                             metric=metric, le_seconds=le, cumulative_count=count, engine=engine)

    def describe(self) -> str:
        """Say which scrape this is: its URL or file, its time and its SHA-256."""
        s = self._load()
        return f"vLLM scrape {s.where} at {s.at.isoformat()} sha256={s.digest[:16]}"


@dataclass(frozen=True, slots=True)
class ThroughputInterval:
    """Tokens per second of one engine between two successive scrapes."""

    start_at: datetime
    end_at: datetime
    seconds: float
    prompt_tokens: float | None
    generation_tokens: float | None
    prompt_tokens_per_s: float | None
    generation_tokens_per_s: float | None
    regime: str  # at_saturation | observed_load
    counter_reset: bool = False


def counter_delta(prev: float | None, cur: float | None) -> tuple[float | None, bool]:
    """Increase of a cumulative counter; a drop means a restart, so the new value is the delta."""
    if prev is None or cur is None:
        return None, False
    if cur < prev:
        return cur, True
    return cur - prev, False


def throughput_from_scrapes(samples: Sequence[InferenceSample]) -> list[ThroughputInterval]:
    """Per-interval prompt/generation tokens per second from successive samples of one engine."""
    keys = {(s.endpoint, s.model_name, s.engine) for s in samples}
    if len(keys) > 1:
        raise ValueError(f"samples of one engine expected, got {len(keys)}: {sorted(keys)}")
    ordered = sorted(samples, key=lambda s: s.sampled_at)
    out: list[ThroughputInterval] = []
    for prev, cur in pairwise(ordered):
        seconds = (cur.sampled_at - prev.sampled_at).total_seconds()
        if seconds <= 0:
            continue  # duplicate scrape time: no interval to divide by
        prompt, reset_p = counter_delta(prev.prompt_tokens_total, cur.prompt_tokens_total)
        gen, reset_g = counter_delta(prev.generation_tokens_total, cur.generation_tokens_total)
        waiting = [w for w in (prev.requests_waiting, cur.requests_waiting) if w is not None]
        out.append(
            ThroughputInterval(
                start_at=prev.sampled_at,
                end_at=cur.sampled_at,
                seconds=seconds,
                prompt_tokens=prompt,
                generation_tokens=gen,
                prompt_tokens_per_s=prompt / seconds if prompt is not None else None,
                generation_tokens_per_s=gen / seconds if gen is not None else None,
                regime=SATURATED if any(w > 0 for w in waiting) else OBSERVED,
                counter_reset=reset_p or reset_g,
            )
        )
    return out
