"""A small OpenAI-compatible server on 127.0.0.1, run in a thread, for the instrumented-client tests.

/v1/chat/completions answers with usage including cached and reasoning details (streamed
as server-sent events when asked); /v1/responses uses the Responses API's names;
/flaky/v1/chat/completions answers 429 (retry-after: 0) once, then 200.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USAGE = {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160,
         "prompt_tokens_details": {"cached_tokens": 100}, "completion_tokens_details": {"reasoning_tokens": 25}}
RESPONSES_USAGE = {"input_tokens": 70, "output_tokens": 30, "total_tokens": 100,
                   "input_tokens_details": {"cached_tokens": 20}, "output_tokens_details": {"reasoning_tokens": 10}}


def chat_completion(model: str) -> dict:
    """A canned chat completion with usage."""
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": USAGE}


def response_object(model: str) -> dict:
    """A canned Responses API object with usage."""
    return {"id": "resp_1", "object": "response", "created_at": 1, "model": model, "status": "completed",
            "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": "ok", "annotations": []}]}],
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "usage": RESPONSES_USAGE}


class Handler(BaseHTTPRequestHandler):
    """Routes by path; the server object keeps the 429 state and a log of requests."""

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", f"req-{len(self.server.seen)}")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        self.server.seen.append((self.path, body))
        model = body.get("model", "")
        if self.path.startswith("/flaky/"):
            with self.server.lock:
                self.server.flaky_calls += 1
                first = self.server.flaky_calls == 1
            if first:
                self._send(429, {"error": {"message": "slow down", "type": "rate_limit"}}, {"retry-after": "0"})
                return
        if self.path.endswith("/responses"):
            self._send(200, response_object(model))
        elif self.path.endswith("/chat/completions") and body.get("stream"):
            self._stream(model)
        elif self.path.endswith("/chat/completions"):
            self._send(200, chat_completion(model))
        else:
            self._send(404, {"error": {"message": "no such path"}})

    def _stream(self, model: str) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        base = {"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": model}
        for chunk in ({**base, "choices": [{"index": 0, "delta": {"content": "o"}, "finish_reason": None}]},
                      {**base, "choices": [{"index": 0, "delta": {"content": "k"}, "finish_reason": "stop"}]},
                      {**base, "choices": [], "usage": USAGE}):
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.close_connection = True


def start() -> ThreadingHTTPServer:
    """Start the server in a daemon thread; the caller shuts it down."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.seen, server.flaky_calls, server.lock = [], 0, threading.Lock()
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
