"""Generated request traffic with known repeats, loops, batch candidates and routable requests.

Every request carries the flags it was built to have; tests compute the expected figures
from those labels with Decimal, independently of the SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from ingest.records import Price, UsageRequest

DAY = date(2026, 3, 10)
T0 = datetime(2026, 3, 10, tzinfo=timezone.utc)
PRICES = {  # (input, cached input, output) USD per Mtok
    "gpt-4.1": (Decimal("2.00"), Decimal("0.50"), Decimal("8.00")),
    "o3": (Decimal("2.00"), Decimal("0.50"), Decimal("8.00")),
    "gpt-4.1-mini": (Decimal("0.40"), Decimal("0.10"), Decimal("1.60")),
}
CHEAP = PRICES["gpt-4.1-mini"]


def price_records() -> list[Price]:
    """The catalog the traffic is priced with (claude-3-opus is left unpriced on purpose)."""
    return [Price(provider="openai", model=m, effective_from=date(2026, 1, 1), input_usd_per_mtok=p[0],
                  cached_input_usd_per_mtok=p[1], output_usd_per_mtok=p[2]) for m, p in PRICES.items()]


@dataclass
class Labeled:
    """A request and what it was built to be."""

    record: UsageRequest
    in_period: bool = True
    repeat: bool = False
    loop: bool = False
    batch: bool = False
    routable: bool = False
    labels: set[str] = field(default_factory=set)


def cost(rec: UsageRequest, prices=None) -> Decimal | None:
    """Tokens x prices (USD per Mtok) / 1e6; None when the model has no price."""
    p = prices or PRICES.get(rec.model)
    if p is None or rec.provider != "openai":
        return None
    return ((rec.input_tokens - rec.cached_input_tokens) * p[0] + rec.cached_input_tokens * p[1]
            + rec.output_tokens * p[2]) / Decimal(1_000_000)


class Traffic:
    """Builds the labelled requests."""

    def __init__(self) -> None:
        self.items: list[Labeled] = []

    def add(self, at: datetime, *, team: str, workload: str, model: str = "gpt-4.1", user: str = "u",
            fp: str = "", inp: int = 1000, cached: int = 0, out: int = 100, reasoning: int = 0,
            status: int = 200, latency: float = 100.0, provider: str = "openai", **labels) -> Labeled:
        rec = UsageRequest(source="test", request_id=f"r{len(self.items):04d}", started_at=at, provider=provider,
                           model=model, user_id=user, team=team, workload_tag=workload, fingerprint=fp,
                           input_tokens=inp, cached_input_tokens=cached, output_tokens=out,
                           reasoning_tokens=reasoning, status_code=status, latency_ms=latency)
        item = Labeled(rec, in_period=T0 <= at < T0 + timedelta(days=1), **labels)
        self.items.append(item)
        return item

    def records(self) -> list[UsageRequest]:
        """Every request, in and out of the period."""
        return [i.record for i in self.items]

    def period(self, group_key: str, group: str) -> list[Labeled]:
        """The requests of one team or workload inside the period."""
        attr = "team" if group_key == "team" else "workload_tag"
        return [i for i in self.items if i.in_period and getattr(i.record, attr) == group]


def h(hour: int, minute: int = 0, second: int = 0, day: int = 0) -> datetime:
    """A time on the test day (or `day` days from it), UTC."""
    return T0 + timedelta(days=day, hours=hour, minutes=minute, seconds=second)


def build() -> Traffic:
    """Three teams: alpha (repeats, a loop, bulk and off-hours traffic), beta (reasoning), gamma (no fingerprints)."""
    t = Traffic()
    a = {"team": "alpha", "workload": "chat"}
    # repeats: fingerprint A first seen the evening before (lookback), then twice in the period
    t.add(h(20, day=-1), user="u3", fp="A", **a)
    t.add(h(10), user="u1", fp="A", inp=1000, cached=200, out=100, latency=120, repeat=True, **a)
    t.add(h(11), user="u2", fp="A", inp=1000, cached=200, out=100, latency=140, repeat=True, **a)
    # fingerprint B seen 25.5 h apart: outside the 24 h window, not a repeat
    t.add(h(9, day=-1), user="u4", fp="B", **a)
    t.add(h(10, 30), user="u4", fp="B", inp=3000, out=400, latency=300, **a)
    # a loop: 4 requests of one user, similar input sizes, gaps of 60-90 s
    for i, (sec, size) in enumerate([(0, 5000), (60, 5100), (150, 5150), (240, 5200)]):
        t.add(h(12, 0, sec), user="u9", fp=f"C{i}", inp=size, out=300, latency=200, loop=True, **a)
    # two similar requests: a pair, not a loop
    t.add(h(15), user="u8", fp="D1", inp=800, latency=90, **a)
    t.add(h(15, 1), user="u8", fp="D2", inp=810, latency=95, **a)
    # off-hours (03:00) and bulk (25 in one minute from one user): batch candidates
    t.add(h(3), user="u7", fp="E", inp=4000, out=500, latency=400, batch=True, **a)
    for i in range(25):
        t.add(h(14, 5, i * 2), user="svc", fp=f"S{i}", inp=1000 if i % 2 else 2000, out=50, latency=80,
              batch=True, **a)
    # 19 in one minute from another user: under the bulk threshold
    for i in range(19):
        t.add(h(16, 7, i * 3), user="svc2", fp=f"T{i}", inp=1000 if i % 2 else 2000, out=50, latency=70, **a)

    b = {"team": "beta", "workload": "review"}
    t.add(h(9), model="o3", user="r1", fp="R1", inp=2000, out=150, reasoning=100, latency=2000, routable=True, **b)
    t.add(h(9, 30), model="o3", user="r2", fp="R2", inp=2000, out=1000, reasoning=300, latency=6000, **b)
    t.add(h(10), model="gpt-4.1", user="r3", fp="R3", inp=2000, out=100, latency=500, **b)
    t.add(h(10, 30), model="claude-3-opus", provider="anthropic", user="r4", fp="R4", inp=500, out=100,
          latency=900, routable=True, **b)
    t.add(h(2), model="o3", user="r5", fp="R5", inp=3000, cached=1000, out=100, reasoning=50, latency=1500,
          routable=True, batch=True, **b)
    t.add(h(13), model="o3", user="r6", fp="R1", inp=2000, out=150, reasoning=100, latency=1800,
          routable=True, repeat=True, **b)
    t.add(h(11), model="o3", user="r1", fp="", inp=0, out=0, status=429, latency=30, **b)

    g = {"team": "gamma", "workload": "ingest"}
    for i in range(4):
        t.add(h(8 + i), user=f"g{i}", inp=1000 + 400 * i, out=60, latency=50 + i, **g)
    return t
