"""Fixtures for the source tests: a replay HTTP server on 127.0.0.1 and the samples folder."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests_support import SAMPLES  # noqa: E402
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

Reply = tuple[int, dict[str, str], bytes | str | dict | list]


@dataclass
class Seen:
    """One request the replay server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class ReplayServer:
    """A real HTTP server on a random free loopback port that answers from a script."""

    url: str
    requests: list[Seen] = field(default_factory=list)
    handler: Callable[[Seen], Reply] | None = None

    def script(self, replies: list[Reply]) -> None:
        """Answer the next requests with these replies, in order, whatever the path."""
        queue = list(replies)

        def answer(_: Seen) -> Reply:
            if not queue:
                return 599, {}, {"error": "replay script exhausted"}
            return queue.pop(0)

        self.handler = answer


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    """Start a ThreadingHTTPServer on 127.0.0.1:<free port>, stop it after the test."""
    state = ReplayServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            parts = urlsplit(self.path)
            seen = Seen("GET", parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()})
            state.requests.append(seen)
            status, headers, body = state.handler(seen) if state.handler else (404, {}, b"no handler")
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            headers = {"content-type": "application/json", **headers}
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def samples() -> Path:
    """The shared samples folder."""
    return SAMPLES


@pytest.fixture
def fixtures() -> Path:
    """tests/fixtures."""
    return FIXTURES
