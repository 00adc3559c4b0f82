"""A simulated OpenAI organisation behind the replay server: usage and costs as the Admin API serves them.

Ground truth is hourly usage and daily costs. The API is imitated where it hurts: buckets run
from `start_time` to the next boundary (a short first bucket when the start is not on one), the
last bucket ends at "now" with what has accrued so far, pages hold `limit` buckets and chain
through `next_page`, and empty buckets come back as `results: []`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

HOUR, DAY = 3600, 86400
PROJECTS = (("proj_a", "gpt-4.1-2025-04-14"), ("proj_b", "gpt-4.1-mini-2025-04-14"))
LINE_ITEMS = ("gpt-4.1-2025-04-14, input", "gpt-4.1-2025-04-14, output", "web search tool calls")
DEFAULT_LIMIT = {HOUR: 24, DAY: 7}


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass
class OpenAIOrg:
    """Hourly usage and daily costs from `start` to `end`, served as of `now`."""

    start: datetime
    end: datetime
    now: datetime = field(default_factory=lambda: datetime(1970, 1, 1, tzinfo=UTC))

    def usage_of_hour(self, hour_ts: int, project: int) -> tuple[int, int, int]:
        """(input, output, requests) of one full hour for one project/model: a deterministic pattern."""
        h = (hour_ts - _ts(self.start)) // HOUR
        if not _ts(self.start) <= hour_ts < _ts(self.end):
            return 0, 0, 0
        requests = 10 + (h * 7 + project * 13) % 37
        return requests * (900 + (h % 5) * 40), requests * (120 + project * 30), requests

    def cost_of_day(self, day_ts: int, project: int, item: int) -> Decimal:
        """USD of one full day for one project and line item (seven decimals, as the API sends)."""
        if not _ts(self.start) <= day_ts < _ts(self.end):
            return Decimal(0)
        d = (day_ts - _ts(self.start)) // DAY
        return Decimal(100 + (d * 17 + project * 29 + item * 5) % 61) + Decimal(project * 3 + item + d) / 7

    # -- what the API answers --------------------------------------------------------------------
    def _buckets(self, start_ts: int, end_ts: int | None, width: int) -> list[tuple[int, int]]:
        stop = min(end_ts if end_ts is not None else _ts(self.now), _ts(self.now))
        out, a = [], start_ts
        while a < stop:
            b = min((a // width + 1) * width, stop)
            out.append((a, b))
            a = b
        return out

    def _usage_between(self, a: int, b: int, project: int) -> tuple[int, int, int]:
        """Usage in [a, b): whole hours in full, a part of an hour pro rata (what had accrued)."""
        total = [0, 0, 0]
        hour = a // HOUR * HOUR
        while hour < b:
            part = min(b, hour + HOUR) - max(a, hour)
            values = self.usage_of_hour(hour, project)
            for i, v in enumerate(values):
                total[i] += v if part == HOUR else v * part // HOUR
            hour += HOUR
        return total[0], total[1], total[2]

    def _cost_between(self, a: int, b: int, project: int, item: int) -> Decimal:
        day = a // DAY * DAY
        part = Decimal(min(b, day + DAY) - max(a, day)) / DAY
        return (self.cost_of_day(day, project, item) * part).quantize(Decimal("1e-7"))

    def page(self, path: str, query: dict[str, list[str]]) -> dict:
        """The JSON page for one GET of /organization/usage/completions or /organization/costs."""
        width = {"1h": HOUR, "1d": DAY, "1m": 60}[query.get("bucket_width", ["1d"])[0]]
        costs = path.endswith("/costs")
        start_ts = int(query["page"][0]) if "page" in query else int(query["start_time"][0])
        end_ts = int(query["end_time"][0]) if "end_time" in query else None
        limit = int(query.get("limit", [DEFAULT_LIMIT.get(width, 7)])[0])
        buckets = self._buckets(start_ts, end_ts, width)
        page, rest = buckets[:limit], buckets[limit:]
        data = []
        for a, b in page:
            results = []
            for p, (project, model) in enumerate(PROJECTS):
                if costs:
                    for i, item in enumerate(LINE_ITEMS):
                        value = self._cost_between(a, b, p, i)
                        if value:
                            results.append({"object": "organization.costs.result", "line_item": item,
                                            "project_id": project, "api_key_id": None,
                                            "amount": {"value": float(value), "currency": "usd"}})
                else:
                    inp, out, req = self._usage_between(a, b, p)
                    if req:
                        results.append({"object": "organization.usage.completions.result", "input_tokens": inp,
                                        "output_tokens": out, "num_model_requests": req, "project_id": project,
                                        "model": model, "api_key_id": None, "batch": False})
            data.append({"object": "bucket", "start_time": a, "end_time": b, "results": results})
        return {"object": "page", "data": data, "has_more": bool(rest), "next_page": str(rest[0][0]) if rest else None}

    # -- ground truth ----------------------------------------------------------------------------
    def truth(self, until: datetime) -> tuple[int, int, Decimal]:
        """Input tokens, output tokens and cost of every whole bucket before `until` (hours; days)."""
        inp = out = 0
        hour = _ts(self.start)
        while hour + HOUR <= min(_ts(until), _ts(self.end)):
            for p in range(len(PROJECTS)):
                i, o, _r = self.usage_of_hour(hour, p)
                inp, out = inp + i, out + o
            hour += HOUR
        cost = Decimal(0)
        day = _ts(self.start)
        while day + DAY <= _ts(until) // DAY * DAY:
            cost += sum((Decimal(str(float(self.cost_of_day(day, p, i).quantize(Decimal("1e-7"))))) for p in
                         range(len(PROJECTS)) for i in range(len(LINE_ITEMS))), Decimal(0))
            day += DAY
        return inp, out, cost


def hourly(start: datetime, runs: int, minute: int) -> list[datetime]:
    """A scheduled puller's run times: every hour at `minute` past."""
    first = start.replace(minute=minute)
    return [first + timedelta(hours=i) for i in range(runs)]
