"""Per-request rows of the demo: a sample of the last 30 days of the same traffic."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from ingest import records as r
from ingest.demo import story as s

REQUEST_DAYS = 30
SOURCE = "demo"


@dataclass(frozen=True)
class Sampling:
    """How many requests of a stream to keep, and how its prompts repeat."""

    rows: int
    users: tuple[str, ...]
    repeat_share: float = 0.0  # share of requests drawn from a small pool of common prompts
    loop_share: float = 0.0  # share of requests that start a loop of near-identical retries
    throttle_share: float = 0.0  # 429s, concentrated in the busiest hours


ENGINEERS = tuple(f"eng-{n}" for n in ("alice", "bao", "carmen", "dev", "emeka", "farah", "goran", "hana",
                                       "ivan", "jun", "kofi", "lena"))
CUSTOMERS = tuple(f"cust-{n:04d}" for n in range(400))
SAMPLING = {
    ("support-assistant", "claude-sonnet-4"): Sampling(14_000, CUSTOMERS, repeat_share=0.15),
    ("code-review", "o3"): Sampling(12_000, ENGINEERS, loop_share=0.035, throttle_share=0.008),
    ("doc-summaries", "gpt-4.1-mini"): Sampling(6_000, ("svc-docs-nightly",), repeat_share=0.06),
    ("segment-labeling", "o3"): Sampling(1_500, ("svc-labeling",), repeat_share=0.03),
    ("segment-labeling", s.LOCAL_MODEL): Sampling(12_000, ("svc-labeling",), repeat_share=0.05),
    ("", "gpt-4.1-mini"): Sampling(500, ("alice",), repeat_share=0.1),
    ("", s.UNPRICED_MODEL): Sampling(120, ("alice",)),
}
# Typical latency: fixed part (ms) plus ms per output token.
LATENCY = {"o3": (6_000, 7.0), "claude-sonnet-4": (700, 22.0), "gpt-4.1-mini": (350, 7.0),
           s.LOCAL_MODEL: (120, 4.0), s.UNPRICED_MODEL: (500, 10.0)}


def fingerprint(*parts: object) -> str:
    """Hex sha256 of a synthetic normalised prompt."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _fingerprints(key: tuple[str, str], plan: Sampling, n: int, rng: np.random.Generator) -> list[str]:
    pool = max(20, int(n * plan.repeat_share / 6))
    prints: list[str] = []
    loop_left, loop_print = 0, ""
    for i in range(n):
        if loop_left > 0:
            loop_left -= 1
            prints.append(loop_print)
        elif plan.loop_share and rng.random() < plan.loop_share:
            loop_left, loop_print = int(rng.integers(3, 8)), fingerprint(*key, "loop", i)
            prints.append(loop_print)
        elif plan.repeat_share and rng.random() < plan.repeat_share:
            prints.append(fingerprint(*key, "common", int(rng.zipf(1.6)) % pool))
        else:
            prints.append(fingerprint(*key, "unique", i))
    return prints


def _stream_requests(story: s.Story, st: s.Stream, plan: Sampling,
                     rng: np.random.Generator) -> Iterator[r.UsageRequest]:
    first = s.HOURS - REQUEST_DAYS * 24
    weights = st.requests[first:]
    if weights.sum() <= 0:
        return
    counts = rng.multinomial(plan.rows, weights / weights.sum())
    hour_idx = np.repeat(np.arange(first, s.HOURS), counts)
    n = len(hour_idx)
    seconds = np.sort(rng.uniform(0, 3600, n) + (hour_idx - first) * 3600.0)
    hour_idx = first + (seconds // 3600).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = {name: np.nan_to_num(getattr(st, name)[hour_idx] / st.requests[hour_idx])
               for name in ("input", "cached", "output", "reasoning")}
    size = rng.lognormal(0, 0.3, n) / np.exp(0.045)
    busy = weights[hour_idx - first] > np.quantile(weights[weights > 0], 0.85)
    throttled = rng.random(n) < np.where(busy, plan.throttle_share * 4, plan.throttle_share * 0.4)
    key = (st.workload or "sandbox", st.model)
    prints = _fingerprints(key, plan, n, rng)
    users = rng.integers(0, len(plan.users), n)
    base_ms, per_token_ms = LATENCY[st.model]
    jitter = rng.lognormal(0, 0.25, n)
    t0 = story.hours[first]
    for i in range(n):
        output = 0 if throttled[i] else int(per["output"][i] * size[i])
        reasoning = 0 if throttled[i] else int(per["reasoning"][i] * size[i])
        yield r.UsageRequest(
            source=SOURCE, request_id=f"demo-{key[0]}-{key[1]}-{i:06d}",
            started_at=t0 + timedelta(seconds=round(float(seconds[i]), 3)), provider=st.provider, model=st.model,
            account_id=st.account_id, endpoint_kind=st.endpoint_kind, project_id=st.project_id,
            api_key_id=st.api_key_id, user_id=plan.users[users[i]], team=st.team, workload_tag=st.workload,
            input_tokens=int(per["input"][i] * size[i]), cached_input_tokens=int(per["cached"][i] * size[i]),
            output_tokens=output, reasoning_tokens=reasoning,
            latency_ms=round(float(jitter[i] * (80 if throttled[i] else base_ms + per_token_ms * output)), 1),
            status_code=429 if throttled[i] else 200, is_batch=st.is_batch, fingerprint=prints[i])


def usage_requests(story: s.Story) -> Iterator[r.UsageRequest]:
    """Sampled requests of every stream (API and local) over the last 30 days."""
    streams = [*story.streams, s.local_stream(story)]
    for k, st in enumerate(streams):
        plan = SAMPLING.get((st.workload, st.model))
        if plan is not None:
            yield from _stream_requests(story, st, plan, np.random.default_rng([s.SEED, 40 + k]))


def expected_rows() -> int:
    """About how many request rows the demo writes (for progress)."""
    return sum(p.rows for p in SAMPLING.values())
