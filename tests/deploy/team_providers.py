"""OpenAI and Anthropic Admin APIs on a loopback port, answering from one fixed month of usage and costs.

Like the replay servers of tests/ingest_sources, but window-aware: each request gets the buckets
that start inside its [start, end), shaped like the samples in shared/samples/{openai,anthropic},
so a scheduled puller can ask for any window and re-read overlaps. Keys are checked, so a
service that does not receive its key gets 401, as from the real API.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

OPENAI_KEY = "sk-admin-team-path"
ANTHROPIC_KEY = "sk-ant-admin-team-path"
OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
ANTHROPIC_MODEL = "claude-sonnet-4-20250514"


@dataclass(frozen=True)
class Day:
    """One day of provider activity: one busy hour of usage and the day's cost."""

    day: date
    openai_usd: Decimal
    anthropic_cents: Decimal
    input_tokens: int
    output_tokens: int

    @property
    def start(self) -> datetime:
        """00:00Z of the day."""
        return datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)


def month_of_days(first: date, last: date) -> list[Day]:
    """Deterministic activity for every day first..last (amounts with cents and sub-cents)."""
    days, d, i = [], first, 0
    while d <= last:
        days.append(Day(d, Decimal("20.00") + Decimal(i) * Decimal("1.37"), Decimal("1500.5") + Decimal(i * 25),
                        1_000_000 + 10_000 * i, 200_000 + 1_000 * i))
        d, i = d + timedelta(days=1), i + 1
    return days


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    return datetime.fromtimestamp(int(text), UTC) if text.isdigit() else datetime.fromisoformat(
        text.replace("Z", "+00:00"))


@dataclass
class Providers:
    """The running server: its base URLs, the data it serves and every (provider, kind, start) it was asked."""

    days: list[Day]
    url: str = ""
    asked: list[tuple[str, str, datetime]] = field(default_factory=list)
    refused: int = 0

    @property
    def openai_base_url(self) -> str:
        """OPENAI_BASE_URL for the SDK."""
        return self.url + "/v1"

    def openai_total_usd(self) -> Decimal:
        """Every OpenAI cost in the data, in dollars."""
        return sum((d.openai_usd for d in self.days), Decimal(0))

    def anthropic_total_usd(self) -> Decimal:
        """Every Anthropic cost in the data, cents to dollars."""
        return sum((d.anthropic_cents for d in self.days), Decimal(0)) / 100

    def total_usd(self, first: date, last: date) -> Decimal:
        """Both providers' costs for days first..last."""
        return sum((d.openai_usd + d.anthropic_cents / 100 for d in self.days if first <= d.day <= last), Decimal(0))

    def answer(self, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, dict]:
        """The JSON page for one GET."""
        if "/organizations/" in path:
            if headers.get("x-api-key") != ANTHROPIC_KEY:
                self.refused += 1
                return 401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
            start, end = _parse_time(query["starting_at"][0]), _parse_time(query["ending_at"][0])
            kind = "costs" if path.endswith("/cost_report") else "usage"
            self.asked.append(("anthropic", kind, start))
            days = [d for d in self.days if start <= self._bucket_start(d, kind) < end]
            return 200, {"data": [self._anthropic(d, kind) for d in days], "has_more": False, "next_page": None}
        if headers.get("authorization") != f"Bearer {OPENAI_KEY}":
            self.refused += 1
            return 401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
        start, end = _parse_time(query["start_time"][0]), _parse_time(query["end_time"][0])
        kind = "costs" if path.endswith("/costs") else "usage"
        self.asked.append(("openai", kind, start))
        days = [d for d in self.days if start <= self._bucket_start(d, kind) < end]
        return 200, {"object": "page", "data": [self._openai(d, kind) for d in days], "has_more": False,
                     "next_page": None}

    @staticmethod
    def _bucket_start(d: Day, kind: str) -> datetime:
        return d.start + (timedelta(hours=12) if kind == "usage" else timedelta(0))  # usage: one busy hour at noon

    def _openai(self, d: Day, kind: str) -> dict:
        if kind == "costs":
            return {"object": "bucket", "start_time": _ts(d.start), "end_time": _ts(d.start + timedelta(days=1)),
                    "results": [{"object": "organization.costs.result",
                                 "amount": {"value": float(d.openai_usd), "currency": "usd"},
                                 "line_item": f"{OPENAI_MODEL}, input", "project_id": "proj_support",
                                 "api_key_id": None, "quantity": None, "quantity_unit": None}]}
        hour = self._bucket_start(d, kind)
        return {"object": "bucket", "start_time": _ts(hour), "end_time": _ts(hour + timedelta(hours=1)),
                "results": [{"object": "organization.usage.completions.result", "input_tokens": d.input_tokens,
                             "input_cached_tokens": 0, "output_tokens": d.output_tokens, "num_model_requests": 100,
                             "project_id": "proj_support", "user_id": None, "api_key_id": None,
                             "model": OPENAI_MODEL, "batch": False, "service_tier": None}]}

    def _anthropic(self, d: Day, kind: str) -> dict:
        if kind == "costs":
            return {"starting_at": _iso(d.start), "ending_at": _iso(d.start + timedelta(days=1)),
                    "results": [{"amount": str(d.anthropic_cents), "context_window": "0-200k", "cost_type": "tokens",
                                 "currency": "USD", "description": "Claude Sonnet 4 Usage - Input Tokens",
                                 "model": ANTHROPIC_MODEL, "service_tier": "standard",
                                 "token_type": "uncached_input_tokens", "workspace_id": "wrkspc_support"}]}
        hour = self._bucket_start(d, kind)
        return {"starting_at": _iso(hour), "ending_at": _iso(hour + timedelta(hours=1)),
                "results": [{"uncached_input_tokens": d.input_tokens, "cache_creation": {
                    "ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}, "cache_read_input_tokens": 0,
                    "output_tokens": d.output_tokens, "server_tool_use": {"web_search_requests": 0},
                    "api_key_id": "apikey_support", "workspace_id": "wrkspc_support", "model": ANTHROPIC_MODEL,
                    "service_tier": "standard", "context_window": "0-200k"}]}


def serve(providers: Providers) -> ThreadingHTTPServer:
    """Start the server on 127.0.0.1:<free port> in a thread; sets providers.url. Call .shutdown() after."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, body = providers.answer(parts.path, parse_qs(parts.query),
                                            {k.lower(): v for k, v in self.headers.items()})
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    providers.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server
