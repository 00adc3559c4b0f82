"""The demo's story: workloads, prices and hourly token curves, all from fixed seeds.

Everything here is a pure function of the anchor hour, so the same anchor always gives
the same data. Day indexes count from the first hour of the window (day 0) to day 119.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np

SEED = 20_261_126
DAYS = 120
HOURS = DAYS * 24
MOVE_DAY = 90  # segment-labeling moves onto the owned H100s
O3_PRICE_CUT_DAY = 60

OPENAI, ANTHROPIC, LOCAL = "openai", "anthropic", "vllm"
OPENAI_ACCOUNT, ANTHROPIC_ACCOUNT = "org-demo", "anthropic-demo"
LOCAL_MODEL = "llama-3.1-8b"
UNPRICED_MODEL = "gpt-4o-realtime-preview"


@dataclass(frozen=True)
class WorkloadDef:
    """A demo workload: who owns it, whether people wait on it, which project maps to it."""

    name: str
    team: str
    interactive: bool
    project_id: str
    description: str


WORKLOADS = (
    WorkloadDef("segment-labeling", "data-platform", False, "proj_labeling",
                "Classifies audience segments into the taxonomy; moved to owned H100s on day 90."),
    WorkloadDef("support-assistant", "customer-success", True, "proj_support",
                "Customer-facing support assistant; interactive, diurnal, stays on tokens."),
    WorkloadDef("code-review", "engineering", True, "proj_codereview",
                "Reasoning-heavy pull-request reviews in weekday bursts."),
    WorkloadDef("doc-summaries", "knowledge", False, "proj_docs",
                "Nightly summaries of new documents, 01:00-04:00 UTC; could be batched."),
)
SANDBOX_PROJECT = "proj_sandbox"  # no attribution rule: its spend shows as unallocated


@dataclass(frozen=True)
class PriceDef:
    """A price row of the story: USD per Mtok, effective from a day index of the window."""

    provider: str
    model: str
    from_day: int
    input: str
    cached: str
    output: str
    cache_write: str | None = None
    batch_input: str | None = None
    batch_output: str | None = None


# The o3 price in force before the cut is effective 30 days before the window opens.
PRICES = (
    PriceDef(OPENAI, "o3", -30, "10.00", "2.50", "40.00", None, "5.00", "20.00"),
    PriceDef(OPENAI, "o3", O3_PRICE_CUT_DAY, "2.00", "0.50", "8.00", None, "1.00", "4.00"),
    PriceDef(OPENAI, "gpt-4.1-mini", -30, "0.40", "0.10", "1.60", None, "0.20", "0.80"),
    PriceDef(ANTHROPIC, "claude-sonnet-4", -30, "3.00", "0.30", "15.00", "3.75", "1.50", "7.50"),
)
# What the provider really bills for the model the catalog leaves unpriced (cost API only).
UNPRICED_BILLED_RATES = (5.00, 2.50, 20.00)


@dataclass(eq=False)
class Stream:
    """Hourly token usage of one provider/model/project/key combination."""

    workload: str  # '' for the unattributed sandbox
    team: str
    provider: str
    account_id: str
    model: str
    project_id: str
    api_key_id: str
    endpoint_kind: str = "api"
    is_batch: bool = False
    requests: np.ndarray = field(default_factory=lambda: np.zeros(HOURS))
    input: np.ndarray = field(default_factory=lambda: np.zeros(HOURS))
    cached: np.ndarray = field(default_factory=lambda: np.zeros(HOURS))
    cache_write: np.ndarray = field(default_factory=lambda: np.zeros(HOURS))
    output: np.ndarray = field(default_factory=lambda: np.zeros(HOURS))
    reasoning: np.ndarray = field(default_factory=lambda: np.zeros(HOURS))

    def add(self, requests: np.ndarray, rng: np.random.Generator, *, input_per: float, output_per: float,
            cached_per: float = 0.0, cache_write_per: float = 0.0, reasoning_per: float = 0.0) -> None:
        """Add traffic: request counts per hour and mean tokens per request, with a little noise."""
        requests = np.round(requests)
        noise = lambda: rng.normal(1.0, 0.04, HOURS).clip(0.8, 1.2)  # noqa: E731
        cached = requests * cached_per * noise()
        cache_write = requests * cache_write_per * noise()
        uncached = requests * max(input_per - cached_per - cache_write_per, 0.0) * noise()
        reasoning = requests * reasoning_per * noise()
        visible = requests * max(output_per - reasoning_per, 0.0) * noise()
        self.requests += requests
        self.cached += np.round(cached)
        self.cache_write += np.round(cache_write)
        self.input += np.round(cached) + np.round(cache_write) + np.round(uncached)
        self.reasoning += np.round(reasoning)
        self.output += np.round(reasoning) + np.round(visible)


@dataclass
class Story:
    """The whole demo window: its hours and every token stream in it."""

    anchor: datetime
    start: datetime
    hours: list[datetime]
    streams: list[Stream]
    local_segments: np.ndarray  # segments labelled per hour on the owned GPUs

    def day_date(self, day: int) -> date:
        """The calendar date of a day index of the window (day 0 is the first hour's date)."""
        return (self.start + timedelta(days=day)).date()

    def price_dates(self) -> list[tuple[PriceDef, date]]:
        """Each price of the story with its effective date."""
        return [(p, self.day_date(p.from_day)) for p in PRICES]


def _calendar(start: datetime) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx = np.arange(HOURS)
    hour_of_day = (start.hour + idx) % 24
    day_of_week = (start.weekday() + (start.hour + idx) // 24) % 7
    return idx / 24.0, hour_of_day, day_of_week


def _segment_labeling(day, hod, dow, rng) -> tuple[Stream, np.ndarray]:
    stream = Stream("segment-labeling", "data-platform", OPENAI, OPENAI_ACCOUNT, "o3", "proj_labeling",
                    "key-labeling-pipeline")
    # Taxonomy phase: a few thousand segments a day, re-labelled by people iterating in office hours.
    office = np.where((hod >= 8) & (hod < 19), 1.0, 0.15) * np.where(dow < 5, 1.0, 0.3)
    daily_noise = np.repeat(rng.lognormal(0, 0.35, DAYS), 24)
    taxonomy = np.where(day < 35, 3_000 * daily_noise * office / 12.95, 0.0)
    # Settled: the pipeline ramps to ~230K segments a day, round the clock with a daytime hump.
    ramp = 5_000 + 225_000 / (1 + np.exp(-(day - 60) / 5.5)) * (1 + 0.002 * np.clip(day - 80, 0, None))
    shape = 1 + 0.35 * np.sin((hod - 8) / 24 * 2 * np.pi)
    settled = np.where(day >= 35, ramp / 24 * shape * rng.normal(1, 0.06, HOURS).clip(0.8, 1.2), 0.0)
    # The move: half on day 90, a tenth on day 91, then only escalations of hard cases stay on o3.
    api_share = np.select([day < MOVE_DAY, day < MOVE_DAY + 1, day < MOVE_DAY + 2], [1.0, 0.5, 0.1], 0.015)
    stream.add(taxonomy, rng, input_per=2_400, output_per=1_700, reasoning_per=1_500)
    on_api = settled * api_share
    before = np.where(day < MOVE_DAY, on_api, 0.0)
    after = np.where(day >= MOVE_DAY, on_api, 0.0)
    stream.add(before, rng, input_per=1_500, cached_per=1_024, output_per=280, reasoning_per=220)
    stream.add(after, rng, input_per=1_500, output_per=900, reasoning_per=800)
    return stream, np.round(settled * (1 - api_share))


def _support(day, hod, dow, rng) -> Stream:
    stream = Stream("support-assistant", "customer-success", ANTHROPIC, ANTHROPIC_ACCOUNT, "claude-sonnet-4",
                    "proj_support", "key-support-prod")
    diurnal = 0.12 + np.exp(-0.5 * ((hod - 15) / 3.5) ** 2)
    weekly = np.where(dow < 5, 1.0, 0.55)
    daily = 5_200 * (1 + 0.0015 * day)
    requests = daily * diurnal / diurnal[:24].sum() * weekly * rng.normal(1, 0.08, HOURS).clip(0.7, 1.3)
    stream.add(requests, rng, input_per=3_200, cached_per=2_300, cache_write_per=90, output_per=360)
    return stream


def _code_review(day, hod, dow, rng) -> Stream:
    stream = Stream("code-review", "engineering", OPENAI, OPENAI_ACCOUNT, "o3", "proj_codereview",
                    "key-codereview-bot")
    work = ((hod >= 13) & (hod < 23) & (dow < 5)).astype(float)
    burst = np.ones(HOURS)
    for d in range(DAYS):  # two to four bursts a working day, when a release train merges
        for _ in range(rng.integers(2, 5)):
            h = d * 24 + int(rng.integers(13, 22))
            burst[h:h + int(rng.integers(1, 3))] *= rng.uniform(2.5, 4.0)
    requests = 70 * work * burst * rng.normal(1, 0.15, HOURS).clip(0.5, 1.5)
    stream.add(requests, rng, input_per=9_000, cached_per=3_000, output_per=3_000, reasoning_per=2_400)
    return stream


def _doc_summaries(day, hod, dow, rng) -> Stream:
    stream = Stream("doc-summaries", "knowledge", OPENAI, OPENAI_ACCOUNT, "gpt-4.1-mini", "proj_docs",
                    "key-docs-nightly")
    night = ((hod >= 1) & (hod < 4)).astype(float)
    requests = night * 8_000 * (1 + 0.002 * day) * np.repeat(rng.normal(1, 0.1, DAYS).clip(0.7, 1.3), 24)
    stream.add(requests, rng, input_per=3_500, output_per=280)
    return stream


def _sandbox(day, hod, dow, rng) -> list[Stream]:
    mini = Stream("", "", OPENAI, OPENAI_ACCOUNT, "gpt-4.1-mini", SANDBOX_PROJECT, "key-sandbox-alice")
    active = (rng.random(HOURS) < 0.25) & (hod >= 9) & (hod < 20) & (dow < 5)
    mini.add(active * rng.integers(5, 60, HOURS), rng, input_per=1_800, output_per=500)
    realtime = Stream("", "", OPENAI, OPENAI_ACCOUNT, UNPRICED_MODEL, SANDBOX_PROJECT, "key-sandbox-alice")
    tried = (rng.random(HOURS) < 0.08) & (day >= 80) & (hod >= 14) & (hod < 18) & (dow < 5)
    realtime.add(tried * rng.integers(2, 12, HOURS), rng, input_per=1_200, output_per=400)
    return [mini, realtime]


def build_story(anchor: datetime) -> Story:
    """Every token stream of the 120 days that end at the anchor hour."""
    start = anchor - timedelta(hours=HOURS)
    day, hod, dow = _calendar(start)
    rngs = [np.random.default_rng([SEED, k]) for k in range(5)]
    labeling, local = _segment_labeling(day, hod, dow, rngs[0])
    streams = [labeling, _support(day, hod, dow, rngs[1]), _code_review(day, hod, dow, rngs[2]),
               _doc_summaries(day, hod, dow, rngs[3]), *_sandbox(day, hod, dow, rngs[4])]
    hours = [start + timedelta(hours=i) for i in range(HOURS)]
    return Story(anchor, start, hours, streams, local)


def local_stream(story: Story) -> Stream:
    """The segment-labeling traffic served by vLLM on the owned GPUs after the move (3 votes a segment)."""
    st = Stream("segment-labeling", "data-platform", LOCAL, "", LOCAL_MODEL, "proj_labeling", "",
                endpoint_kind="local")
    st.add(story.local_segments, np.random.default_rng([SEED, 30]), input_per=12_000, output_per=150)
    return st


def price_table(story: Story) -> dict[tuple[str, str], list[tuple[date, tuple[float, float, float, float]]]]:
    """(provider, model) -> [(effective date, (input, cached, cache write, output) USD/Mtok)], oldest first."""
    table: dict[tuple[str, str], list] = {}
    for p, eff in story.price_dates():
        cw = float(p.cache_write) if p.cache_write else float(p.input)
        table.setdefault((p.provider, p.model), []).append((eff, (float(p.input), float(p.cached), cw,
                                                                  float(p.output))))
    return table


def billed_rates(table, provider: str, model: str, day: date) -> tuple[float, float, float, float]:
    """The rates the provider bills on a day; the unpriced model is billed at its real rate."""
    rows = table.get((provider, model))
    if not rows:
        i, c, o = UNPRICED_BILLED_RATES
        return i, c, i, o
    rates = rows[0][1]
    for eff, r in rows:
        if eff <= day:
            rates = r
    return rates


def to_decimal(value: str | None) -> Decimal | None:
    """A price string as Decimal (None stays None)."""
    return None if value is None else Decimal(value)
