"""OpenTelemetry GenAI spans (OTLP JSON, one document or JSON lines) as UsageRequest rows.

Follows the GenAI semantic conventions: ``gen_ai.usage.input_tokens`` includes cached
tokens; older names (``prompt_tokens``, ``completion_tokens``, ``gen_ai.system``) are read too.
Spans without any ``gen_ai.*`` model or usage attribute are skipped. Times are Unix nanoseconds
by the spec; exporters that write seconds, milliseconds or microseconds are read by magnitude
(only one unit gives a plausible date). A span without trace and span ids is keyed by its content
and position in the file, and the load says how many were.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest.base import SourceError
from ingest.records import UsageRequest
from ingest.sources._common import file_describe, loads_json, read_text, stable_key, token_count
from models import bounds
from models.bounds import Guard

LOCAL_PROVIDERS = {"vllm", "ollama", "llama.cpp", "tgi", "sglang", "lmstudio"}
_INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
_OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
_CACHE_READ = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens")
_REASONING = ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens")
_TOTAL = ("gen_ai.usage.total_tokens", "llm.usage.total_tokens")
_UNITS = (("ns", 10**9), ("us", 10**6), ("ms", 10**3), ("s", 1))  # ticks per second
_TAG_KEYS = ("service.name", "service.namespace", "deployment.environment", "deployment.environment.name",
             "k8s.namespace.name", "k8s.pod.name", "gen_ai.operation.name", "gen_ai.response.id",
             "gen_ai.conversation.id", "gen_ai.agent.name", "server.address", "error.type")


def any_value(value: Any) -> Any:
    """Decode an OTLP JSON AnyValue ({stringValue|intValue|doubleValue|boolValue|arrayValue|kvlistValue})."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:  # int64 is a JSON string in OTLP/JSON
        text = str(value["intValue"])
        return int(text) if text.lstrip("-").isdigit() else text
    if "doubleValue" in value:
        return value["doubleValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return attributes((value["kvlistValue"] or {}).get("values", []))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def attributes(items: Any) -> dict[str, Any]:
    """A flat dict from an OTLP attribute list [{key, value: AnyValue}, ...]."""
    if not isinstance(items, list):
        return {}
    return {item.get("key"): any_value(item.get("value")) for item in items if isinstance(item, dict)}


def unix_time(value: Any, where: str, *, field: str, line: int | None, guard: Guard) -> datetime:
    """A UTC time from Unix ticks whose unit (ns, us, ms or s) is the only one giving a plausible date."""
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    if not text.isdigit():
        raise SourceError(where, f"expected Unix nanoseconds, got {value!r}", line=line, field=field)
    ticks = int(text)
    if ticks == 0:
        raise SourceError(where, "time is 0 (unset)", line=line, field=field)
    low, high = bounds.time_window("observed_at")
    for unit, per_second in _UNITS:
        seconds, rest = divmod(ticks, per_second)
        if low.timestamp() <= seconds <= high.timestamp():
            return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(microseconds=rest * 10**6 // per_second)
    if "observed_at" in guard.accept and ticks < 2**63:  # the user vouches for it: read it as the spec says
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ticks // 1000)
        return guard.time("observed_at", moment, field=field, line=line)
    raise SourceError(where, f"{ticks} is not a plausible time in nanoseconds, microseconds, milliseconds or "
                      f"seconds since 1970 (between {low.date()} and {high.date()}); if it is real, pass "
                      "--accept-implausible observed_at", line=line, field=field)


def _list_of_objects(value: Any, where: str, line: int | None, field: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SourceError(where, "expected a list of objects", line=line, field=field)
    return value


def _first(attrs: dict[str, Any], names: tuple[str, ...]) -> tuple[str, Any]:
    for name in names:
        if attrs.get(name) is not None:
            return name, attrs[name]
    return names[0], None


class OtelGenAISource:
    """An OTLP JSON trace file (file exporter output or an ExportTraceServiceRequest) of GenAI spans."""

    name = "otel_genai"

    def __init__(self, path: str | Path, *, account_id: str = "", accept: tuple[str, ...] = ()):
        """Read spans from the file at path; account_id labels every record."""
        self.path, self.account_id = Path(path), account_id
        self.guard = Guard(str(self.path), accept)
        self.keyed_by_content = 0  # spans without trace and span ids, keyed by content and position

    def describe(self) -> str:
        """Say which file (and its hash) this source reads."""
        return file_describe(self.path)

    def _documents(self) -> Iterator[tuple[int | None, Any]]:
        text = read_text(self.path)
        stripped = text.strip()
        lines = stripped.splitlines()
        if len(lines) > 1 and all(ln.strip().startswith("{") and ln.strip().endswith("}") for ln in lines if ln.strip()):
            for number, line in enumerate(text.splitlines(), 1):  # JSON lines, as the collector's file exporter
                if line.strip():
                    yield number, loads_json(line, str(self.path), line_offset=number - 1)
            return
        yield None, loads_json(text, str(self.path))

    def collect(self) -> Iterator[UsageRequest]:
        """Yield one UsageRequest per GenAI span."""
        where = str(self.path)
        for line, doc in self._documents():
            if not isinstance(doc, dict) or not isinstance(doc.get("resourceSpans"), list):
                raise SourceError(where, "expected an OTLP JSON object with 'resourceSpans'", line=line,
                                  field="resourceSpans")
            for r, rs in enumerate(_list_of_objects(doc["resourceSpans"], where, line, "resourceSpans")):
                res = rs.get("resource") or {}
                resource = attributes(res.get("attributes") if isinstance(res, dict) else None)
                scopes = rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans")
                for s, ss in enumerate(_list_of_objects(scopes, where, line, f"resourceSpans[{r}].scopeSpans")):
                    spans = _list_of_objects(ss.get("spans"), where, line, f"resourceSpans[{r}].scopeSpans[{s}].spans")
                    for n, span in enumerate(spans):
                        path = f"resourceSpans[{r}].scopeSpans[{s}].spans[{n}]"
                        record = self._span(span, resource, where, line, path)
                        if record is not None:
                            yield record

    def _span(self, span: dict, resource: dict, where: str, line: int | None, path: str) -> UsageRequest | None:
        attrs = attributes(span.get("attributes"))
        if not any(k.startswith(("gen_ai.request.model", "gen_ai.response.model", "gen_ai.usage.")) for k in attrs):
            return None

        def count(names: tuple[str, ...]) -> int:
            name, value = _first(attrs, names)
            return token_count(value, where, field=f"{path}.attributes.{name}", line=line, guard=self.guard,
                               kind="tokens")

        start = unix_time(span.get("startTimeUnixNano"), where, field=f"{path}.startTimeUnixNano", line=line,
                          guard=self.guard)
        latency = None
        if span.get("endTimeUnixNano") not in (None, "", "0", 0):
            end = unix_time(span["endTimeUnixNano"], where, field=f"{path}.endTimeUnixNano", line=line,
                            guard=self.guard)
            latency = (end - start).total_seconds() * 1000.0
            if latency < 0:
                raise SourceError(where, "span ends before it starts", line=line, field=f"{path}.endTimeUnixNano")
            self.guard.check("latency_ms", latency, field=f"{path}.endTimeUnixNano", line=line)
        status = span.get("status") or {}
        is_error = status.get("code") in (2, "2", "STATUS_CODE_ERROR") or attrs.get("error.type") is not None
        code = attrs.get("http.response.status_code")
        merged = {**resource, **attrs}
        tags = {k: merged[k] for k in _TAG_KEYS if merged.get(k) is not None}
        tags["status"] = "error" if is_error else "ok"
        if status.get("message"):
            tags["status_message"] = status["message"]
        provider = str(merged.get("gen_ai.provider.name") or merged.get("gen_ai.system") or "")
        model = str(attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model") or "")
        if attrs.get("gen_ai.request.model") and attrs.get("gen_ai.response.model"):
            tags["request_model"] = attrs["gen_ai.request.model"]
        kind = str(merged.get("hybridcost.endpoint_kind") or ("local" if provider.lower() in LOCAL_PROVIDERS else "api"))
        trace_id, span_id = str(span.get("traceId") or ""), str(span.get("spanId") or "")
        if trace_id or span_id:
            request_id = f"{trace_id}:{span_id}"
        else:  # no identity of its own: its content and place in the file, so two such spans never collapse
            self.keyed_by_content += 1
            request_id = "content:" + stable_key(json.dumps(span, sort_keys=True, default=str), line, path)
        input_tokens, output_tokens = count(_INPUT), count(_OUTPUT)
        total_name, total = _first(attrs, _TOTAL)
        total_tokens = token_count(total, where, field=f"{path}.attributes.{total_name}", line=line,
                                   guard=self.guard, kind="tokens")
        return UsageRequest(
            source="otel",
            request_id=request_id,
            started_at=start,
            provider=provider,
            model=model,
            account_id=self.account_id,
            endpoint_kind=kind,
            project_id=str(merged.get("hybridcost.project") or ""),
            user_id=str(merged.get("user.id") or merged.get("enduser.id") or ""),
            team=str(merged.get("hybridcost.team") or ""),
            workload_tag=str(merged.get("hybridcost.workload") or ""),
            tags=tags,
            input_tokens=input_tokens,
            cached_input_tokens=count(_CACHE_READ),
            output_tokens=output_tokens,
            reasoning_tokens=count(_REASONING),
            other_tokens=max(total_tokens - input_tokens - output_tokens, 0),
            latency_ms=latency,
            status_code=int(code) if isinstance(code, int) or str(code or "").isdigit() else None,
            is_batch=bool(merged.get("hybridcost.batch", False)),
        )
