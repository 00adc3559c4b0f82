"""Token-side records of the demo: prices, hourly usage, cost-API lines and a FOCUS month."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import numpy as np

from ingest import records as r
from ingest.demo import story as s

FOCUS_SERVICE = "OpenAI API"


def prices(story: s.Story) -> Iterator[r.Price]:
    """The price catalog rows (the unpriced model deliberately has none)."""
    for p, eff in story.price_dates():
        yield r.Price(provider=p.provider, model=p.model, effective_from=eff,
                      input_usd_per_mtok=Decimal(p.input), output_usd_per_mtok=Decimal(p.output),
                      cached_input_usd_per_mtok=Decimal(p.cached),
                      cache_write_usd_per_mtok=s.to_decimal(p.cache_write),
                      batch_input_usd_per_mtok=s.to_decimal(p.batch_input),
                      batch_output_usd_per_mtok=s.to_decimal(p.batch_output), source="demo")


def api_streams(story: s.Story) -> list[s.Stream]:
    """The streams billed by a token API (all of them: local serving is not a stream)."""
    return [st for st in story.streams if st.endpoint_kind == "api"]


def usage_hourly(story: s.Story) -> Iterator[r.UsageHourly]:
    """One usage bucket per stream and hour that had requests."""
    one_hour = timedelta(hours=1)
    for st in api_streams(story):
        cols = [st.requests.astype(np.int64).tolist(), st.input.astype(np.int64).tolist(),
                st.cached.astype(np.int64).tolist(), st.cache_write.astype(np.int64).tolist(),
                st.output.astype(np.int64).tolist(), st.reasoning.astype(np.int64).tolist()]
        for i in np.flatnonzero(st.requests > 0).tolist():
            start = story.hours[i]
            yield r.UsageHourly(
                provider=st.provider, account_id=st.account_id, bucket_start_at=start, bucket_end_at=start + one_hour,
                model=st.model, project_id=st.project_id, api_key_id=st.api_key_id, is_batch=st.is_batch,
                num_requests=cols[0][i], input_tokens=cols[1][i], cached_input_tokens=cols[2][i],
                cache_write_input_tokens=cols[3][i], output_tokens=cols[4][i], reasoning_tokens=cols[5][i])


def daily_costs(story: s.Story) -> dict[tuple[s.Stream, date], tuple[float, float]]:
    """(stream, UTC date) -> (USD billed at the provider's rates, tokens), before any noise."""
    table = s.price_table(story)
    dates = [h.date() for h in story.hours]
    out: dict[tuple[int, date], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for k, st in enumerate(api_streams(story)):
        uncached = st.input - st.cached - st.cache_write
        for i in np.flatnonzero(st.requests > 0).tolist():
            rin, rcached, rwrite, rout = s.billed_rates(table, st.provider, st.model, dates[i])
            usd = (uncached[i] * rin + st.cached[i] * rcached + st.cache_write[i] * rwrite
                   + st.output[i] * rout) / 1e6
            acc = out[(k, dates[i])]
            acc[0] += usd
            acc[1] += st.input[i] + st.output[i]
    streams = api_streams(story)
    return {(streams[k], d): (v[0], v[1]) for (k, d), v in out.items()}


def _day_bounds(d: date) -> tuple[datetime, datetime]:
    start = datetime.combine(d, time(0), tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def _usd(x: float) -> Decimal:
    return Decimal(f"{x:.6f}")


def cost_api_lines(story: s.Story, costs: dict) -> Iterator[r.CostLine]:
    """Daily cost-API lines per provider, project and model: usage times price, within ~1 %."""
    rng = np.random.default_rng([s.SEED, 20])
    for (st, d), (usd, _tokens) in sorted(costs.items(), key=lambda kv: (kv[0][1], kv[0][0].project_id,
                                                                        kv[0][0].model)):
        start, end = _day_bounds(d)
        amount = _usd(usd * float(rng.normal(1.0, 0.01)))
        yield r.CostLine(
            basis="cost_api", provider=st.provider, account_id=st.account_id,
            source_line_key=f"{d.isoformat()}|{st.project_id}|{st.model}", charge_period_start_at=start,
            charge_period_end_at=end, billed_cost=amount, effective_cost=amount, project_id=st.project_id,
            model=st.model, line_item=st.model, service_name=FOCUS_SERVICE if st.provider == s.OPENAI else
            "Anthropic API", tags={"demo": "true"})


def focus_month(anchor: datetime) -> tuple[date, date]:
    """The last full calendar month before the anchor's month: (first day, first day of next)."""
    this_month = anchor.date().replace(day=1)
    previous = (this_month - timedelta(days=1)).replace(day=1)
    return previous, this_month


def focus_lines(story: s.Story, costs: dict) -> Iterator[r.CostLine]:
    """One FOCUS invoice month for OpenAI: a line per day and model, reconciling with the cost API."""
    rng = np.random.default_rng([s.SEED, 21])
    first, after = focus_month(story.anchor)
    billing_start = datetime.combine(first, time(0), tzinfo=timezone.utc)
    by_day_model: dict[tuple[date, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (st, d), (usd, tokens) in costs.items():
        if st.provider == s.OPENAI and first <= d < after:
            acc = by_day_model[(d, st.model)]
            acc[0] += usd
            acc[1] += tokens
    for (d, model), (usd, tokens) in sorted(by_day_model.items()):
        start, end = _day_bounds(d)
        billed = _usd(usd * float(rng.normal(1.0, 0.005)))
        yield r.CostLine(
            basis="focus", provider=s.OPENAI, account_id=s.OPENAI_ACCOUNT,
            source_line_key=f"focus|{d.isoformat()}|{model}", charge_period_start_at=start,
            charge_period_end_at=end, billing_period_start_at=billing_start, billed_cost=billed,
            effective_cost=billed, list_cost=billed, charge_category="usage", ai_class="token", model=model,
            line_item=model, service_name=FOCUS_SERVICE, service_category="AI and Machine Learning",
            service_subcategory="Generative AI", sku_id=f"openai-{model}-tokens", sub_account_id=s.OPENAI_ACCOUNT,
            consumed_quantity=Decimal(int(tokens)), consumed_unit="Tokens", tags={"demo": "true"})
