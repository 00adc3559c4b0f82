"""Langfuse trace exports ({trace, observations}) as UsageRequest rows, one per GENERATION.

``usageDetails`` is an open map. Langfuse SDKs write it two ways: with cache-read and
reasoning counts as *parts* of input/output (OTel ingestion: Gemini's output 2055 holds its
1104 reasoning tokens) or *beside* them (the OpenAI integration subtracts them). When
``total`` is present it tells the two apart; without it we take the parts as beside. A total
beyond its parts keeps the rest: as thinking (reasoning, billed as output) for Gemini, whose
thoughts Vertex counts outside the output, and as other tokens for anything else. An observation
without an ``id`` is keyed by its content and position in the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingest.base import SourceError
from ingest.records import UsageRequest
from ingest.sources._common import file_describe, load_json_file, parse_decimal, parse_utc, stable_key, token_count
from models.bounds import Guard

CACHE_READ_KEYS = ("prompt_details.cache_read", "input_cached_tokens", "cache_read_input_tokens",
                   "input_cache_read", "prompt_tokens_details.cached_tokens")
REASONING_KEYS = ("completion_details.reasoning", "output_reasoning_tokens", "output_reasoning",
                  "completion_tokens_details.reasoning_tokens")
_MODEL_PROVIDERS = (("gpt-", "openai"), ("o1", "openai"), ("o3", "openai"), ("o4", "openai"),
                    ("claude", "anthropic"), ("gemini", "google"), ("mistral", "mistral"), ("command", "cohere"))


def _meta(value: Any) -> dict:
    """Observation/trace metadata: a dict, or JSON text of one; anything else counts as empty."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _provider(obs: dict, trace: dict, model: str) -> str:
    """The provider an observation names (its or its resource's attributes, then the trace's), else the model's."""
    for meta in (_meta(obs.get("metadata")), _meta(trace.get("metadata"))):
        for part in ("attributes", "resourceAttributes"):
            attrs = _meta(meta.get(part))
            for key in ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"):
                if attrs.get(key):
                    return str(attrs[key])
    # Model paths such as "vertex_ai/gemini-2.5-pro" or ".../publishers/google/models/gemini-2.5-pro".
    lowered = model.lower().rsplit("/", 1)[-1]
    return next((p for prefix, p in _MODEL_PROVIDERS if lowered.startswith(prefix)), "")


def usage_parts(details: dict, where: str, field: str, *, guard: Guard | None = None,
                thinking: bool = False) -> tuple[int, int, int, int, int]:
    """(input incl. cached, cached, output incl. reasoning, reasoning, other) from a usageDetails map.

    A `total` above the parts keeps the difference: as reasoning inside the output when
    `thinking` (Gemini's thoughts), else as other tokens; it is never dropped.
    """
    base_in, cached, base_out, reasoning = split_usage(details, where, field, guard=guard)
    total = details.get("total")
    rest = token_count(total, where, field=f"{field}.total", guard=guard, kind="tokens") - base_in - base_out \
        if total is not None else 0
    if rest <= 0:
        return base_in, cached, base_out, reasoning, 0
    if thinking:
        return base_in, cached, base_out + rest, reasoning + rest, 0
    return base_in, cached, base_out, reasoning, rest


def split_usage(details: dict, where: str, field: str, *, guard: Guard | None = None) -> tuple[int, int, int, int]:
    """(input incl. cached, cached, output incl. reasoning, reasoning) from a usageDetails map."""
    def get(key: str) -> int:
        return token_count(details.get(key), where, field=f"{field}.{key}", guard=guard, kind="tokens")

    base_in = get("input") if "input" in details else get("promptTokens")
    base_out = get("output") if "output" in details else get("completionTokens")
    cached = sum(get(k) for k in CACHE_READ_KEYS if k in details)
    reasoning = sum(get(k) for k in REASONING_KEYS if k in details)
    total = get("total") if details.get("total") is not None else None
    parts_inside = total is not None and total == base_in + base_out and (cached or reasoning)
    if parts_inside:
        return base_in, cached, base_out, reasoning
    return base_in + cached, cached, base_out + reasoning, reasoning


class LangfuseSource:
    """A Langfuse export file: {trace, observations}, a list of those, or {data: [observations]}."""

    name = "langfuse"

    def __init__(self, path: str | Path, *, account_id: str = "", accept: tuple[str, ...] = ()):
        """Read the JSON file at path; account_id defaults to each trace's projectId."""
        self.path, self.account_id = Path(path), account_id
        self.guard = Guard(str(self.path), accept)
        self.keyed_by_content = 0  # observations without an id, keyed by content and position

    def describe(self) -> str:
        """Say which file (and its hash) this source reads."""
        return file_describe(self.path)

    def _groups(self, doc: Any) -> Iterator[tuple[str, dict, list]]:
        where = str(self.path)
        if isinstance(doc, dict) and "observations" in doc:
            yield "", doc.get("trace") or {}, doc["observations"]
        elif isinstance(doc, dict) and isinstance(doc.get("data"), list):
            yield "data", {}, doc["data"]
        elif isinstance(doc, list):
            for i, item in enumerate(doc):
                if not isinstance(item, dict) or "observations" not in item:
                    raise SourceError(where, "expected {trace, observations}", field=f"[{i}]")
                yield f"[{i}]", item.get("trace") or {}, item["observations"]
        else:
            raise SourceError(where, "expected {trace, observations} or {data: [...]}", field="observations")

    def collect(self) -> Iterator[UsageRequest]:
        """Yield one UsageRequest per GENERATION observation."""
        where = str(self.path)
        for prefix, trace, observations in self._groups(load_json_file(self.path)):
            if not isinstance(observations, list):
                raise SourceError(where, "observations is not a list", field=f"{prefix}.observations".lstrip("."))
            for i, obs in enumerate(observations):
                path = f"{prefix}.observations[{i}]".lstrip(".") if prefix != "data" else f"data[{i}]"
                if isinstance(obs, dict) and obs.get("type") == "GENERATION":
                    yield self._record(obs, trace, where, path)

    def _record(self, obs: dict, trace: dict, where: str, path: str) -> UsageRequest:
        start = self.guard.time("observed_at", parse_utc(obs.get("startTime"), where, field=f"{path}.startTime"),
                                field=f"{path}.startTime")
        details = obs.get("usageDetails")
        if details is None:  # older exports: the deprecated usage object
            old = obs.get("usage") or {}
            details = {"input": old.get("input", obs.get("promptTokens")),
                       "output": old.get("output", obs.get("completionTokens")), "total": old.get("total")}
        if not isinstance(details, dict):
            raise SourceError(where, "usageDetails is not an object", field=f"{path}.usageDetails")
        model = str(obs.get("model") or "")
        provider = _provider(obs, trace, model)
        thinking = "gemini" in model.lower() or provider.lower() in ("google", "gemini", "vertex_ai", "vertex")
        input_tokens, cached, output_tokens, reasoning, other = usage_parts(
            details, where, f"{path}.usageDetails", guard=self.guard, thinking=thinking)
        latency = None
        if obs.get("endTime"):
            latency = (parse_utc(obs["endTime"], where, field=f"{path}.endTime") - start).total_seconds() * 1000.0
        elif obs.get("latency") is not None:
            latency = float(parse_decimal(obs["latency"], where, field=f"{path}.latency"))  # ms in observations
        self.guard.check("latency_ms", latency, field=f"{path}.latency")
        cost = None
        cost_details = obs.get("costDetails") or {}
        for field, value in ((f"{path}.costDetails.total", cost_details.get("total")),
                             (f"{path}.totalCost", obs.get("totalCost")),
                             (f"{path}.calculatedTotalCost", obs.get("calculatedTotalCost"))):
            if value is not None:
                cost = parse_decimal(value, where, field=field)
                break
        if cost is None and cost_details:
            cost = sum((parse_decimal(v, where, field=f"{path}.costDetails.{k}") for k, v in cost_details.items()),
                       Decimal(0))
        self.guard.check("amount", cost, field=f"{path}.costDetails")
        tags: dict[str, Any] = {"trace_id": obs.get("traceId") or trace.get("id") or ""}
        for key, value in (("trace_name", trace.get("name")), ("session_id", trace.get("sessionId")),
                           ("environment", obs.get("environment")), ("name", obs.get("name")),
                           ("level", obs.get("level")), ("status_message", obs.get("statusMessage"))):
            if value:
                tags[key] = value
        trace_tags = trace.get("tags") or []
        if trace_tags:
            tags["langfuse_tags"] = list(trace_tags)
        prefixed = {t.split(":", 1)[0]: t.split(":", 1)[1] for t in trace_tags if isinstance(t, str) and ":" in t}
        request_id = str(obs.get("id") or "")
        if not request_id:  # no identity of its own: its content and place in the file, so none collapse
            self.keyed_by_content += 1
            request_id = "content:" + stable_key(json.dumps(obs, sort_keys=True, default=str), path)
        return UsageRequest(
            source="langfuse",
            request_id=request_id,
            started_at=start,
            provider=provider,
            model=model,
            account_id=self.account_id or str(obs.get("projectId") or trace.get("projectId") or ""),
            user_id=str(trace.get("userId") or ""),
            team=prefixed.get("team", ""),
            workload_tag=prefixed.get("workload", ""),
            tags=tags,
            input_tokens=input_tokens,
            cached_input_tokens=cached,
            output_tokens=output_tokens,
            reasoning_tokens=reasoning,
            other_tokens=other,
            latency_ms=latency,
            status_code=None,
            reported_cost_usd=cost,
        )
