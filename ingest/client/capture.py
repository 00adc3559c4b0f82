"""Transport wrappers that see every HTTP attempt the SDK makes (retries included).

The call path only takes timestamps and keeps references (the request, the response
headers, the body chunks as they stream past); parsing, fingerprinting and writing
happen on the recorder's thread. Works with both ``httpx2`` (openai >= 3) and ``httpx``
clients: the wrapper classes are made per HTTP module on first use.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# POST endpoints that spend tokens (or start batches); everything else is not recorded.
RECORDED_SUFFIXES = ("/chat/completions", "/completions", "/responses", "/embeddings", "/batches")
OVERRIDE_HEADERS = ("x-hybridcost-workload", "x-hybridcost-team")
BODY_CAP_BYTES = 1 << 20  # keep at most 1 MiB of a response body (the tail: SSE usage comes last)


@dataclass(frozen=True, slots=True)
class Context:
    """What an instrumented client adds to every record."""

    workload: str
    team: str
    endpoint_kind: str
    provider: str
    recorder: Any
    key: bytes
    store_prompts: bool = False
    http: Any = None  # the HTTP module of the client (httpx2 or httpx), for decoding bodies


class Attempt:
    """One HTTP attempt as seen on the wire; turned into a record off the call path."""

    __slots__ = ("context", "request", "started_at", "t0", "latency_ms", "status_code", "headers",
                 "chunks", "size", "decoded", "error", "overrides", "_done")

    def __init__(self, context: Context, request: Any, overrides: dict[str, str] | None):
        self.context = context
        self.request = request
        self.overrides = overrides
        self.started_at = time.time()
        self.t0 = time.perf_counter()
        self.latency_ms: float | None = None
        self.status_code: int | None = None
        self.headers: Any = None
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.decoded = False
        self.error: str | None = None
        self._done = False

    def add(self, chunk: bytes) -> None:
        """Keep a chunk of the body, dropping the oldest past the cap."""
        self.chunks.append(chunk)
        self.size += len(chunk)
        while self.size > BODY_CAP_BYTES and len(self.chunks) > 1:
            self.size -= len(self.chunks.popleft())

    def finish(self) -> None:
        """Stamp the latency and hand the attempt to the recorder (once; never raises)."""
        if self._done:
            return
        self._done = True
        self.latency_ms = (time.perf_counter() - self.t0) * 1000.0
        try:
            self.context.recorder.submit(self)
        except Exception:  # recording must never fail the call
            log.exception("hybridcost: could not queue a usage record")


def _should_record(request: Any) -> bool:
    return request.method == "POST" and request.url.path.rstrip("/").endswith(RECORDED_SUFFIXES)


def _pop_overrides(request: Any) -> dict[str, str] | None:
    headers = request.headers
    found = None
    for name in OVERRIDE_HEADERS:
        if name in headers:
            found = found or {}
            found[name[len("x-hybridcost-"):]] = headers.pop(name)
    return found


def _begin(context: Context, request: Any) -> Attempt | None:
    try:
        if not _should_record(request):
            return None
        return Attempt(context, request, _pop_overrides(request))
    except Exception:
        log.exception("hybridcost: could not start a usage record")
        return None


def _on_response(attempt: Attempt, response: Any, not_read_error: type) -> bool:
    """Note status and headers; True when the body is already in memory (no stream to tee)."""
    attempt.status_code = response.status_code
    attempt.headers = response.headers
    try:
        content = response.content
    except not_read_error:
        return False
    attempt.add(content)
    attempt.decoded = True
    return True


@functools.cache
def wrapper_classes(http: Any) -> tuple[type, type]:
    """(sync transport wrapper, async transport wrapper) for the HTTP module `http` (httpx or httpx2)."""

    class TeeStream(http.SyncByteStream):
        """Passes the body through, keeping a copy; records the attempt when closed."""

        def __init__(self, inner: Any, attempt: Attempt):
            self.inner, self.attempt = inner, attempt

        def __iter__(self):
            for chunk in self.inner:
                self.attempt.add(chunk)
                yield chunk

        def close(self) -> None:
            """Close the inner stream, then record the attempt."""
            try:
                self.inner.close()
            finally:
                self.attempt.finish()

    class AsyncTeeStream(http.AsyncByteStream):
        """Async twin of TeeStream."""

        def __init__(self, inner: Any, attempt: Attempt):
            self.inner, self.attempt = inner, attempt

        async def __aiter__(self):
            async for chunk in self.inner:
                self.attempt.add(chunk)
                yield chunk

        async def aclose(self) -> None:
            """Close the inner stream, then record the attempt."""
            try:
                await self.inner.aclose()
            finally:
                self.attempt.finish()

    class RecordingTransport(http.BaseTransport):
        """Delegates to the SDK's transport and records each attempt."""

        def __init__(self, inner: Any, context: Context):
            self.inner, self.context = inner, context

        def handle_request(self, request: Any) -> Any:
            """Send through the inner transport, noting status, headers, body and time."""
            attempt = _begin(self.context, request)
            if attempt is None:
                return self.inner.handle_request(request)
            try:
                response = self.inner.handle_request(request)
            except BaseException as exc:
                attempt.error = type(exc).__name__
                attempt.finish()
                raise
            if _on_response(attempt, response, http.ResponseNotRead):
                attempt.finish()
            else:
                response.stream = TeeStream(response.stream, attempt)
            return response

        def close(self) -> None:
            """Close the inner transport."""
            self.inner.close()

    class AsyncRecordingTransport(http.AsyncBaseTransport):
        """Async twin of RecordingTransport."""

        def __init__(self, inner: Any, context: Context):
            self.inner, self.context = inner, context

        async def handle_async_request(self, request: Any) -> Any:
            """Send through the inner transport, noting status, headers, body and time."""
            attempt = _begin(self.context, request)
            if attempt is None:
                return await self.inner.handle_async_request(request)
            try:
                response = await self.inner.handle_async_request(request)
            except BaseException as exc:
                attempt.error = type(exc).__name__
                attempt.finish()
                raise
            if _on_response(attempt, response, http.ResponseNotRead):
                attempt.finish()
            else:
                response.stream = AsyncTeeStream(response.stream, attempt)
            return response

        async def aclose(self) -> None:
            """Close the inner transport."""
            await self.inner.aclose()

    return RecordingTransport, AsyncRecordingTransport
