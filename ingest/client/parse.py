"""Turn one captured HTTP attempt into a UsageRequest record (runs on the recorder's thread)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from ingest.client.capture import Attempt
from ingest.client.fingerprint import fingerprint, key_id, normalise_request
from ingest.records import UsageRequest

SOURCE = "client"


def usage_counts(usage: dict[str, Any] | None) -> tuple[int, int, int, int]:
    """(input, cached input, output, reasoning) tokens from a Chat Completions or Responses `usage` object."""
    if not isinstance(usage, dict):
        return 0, 0, 0, 0
    input_tokens = usage.get("prompt_tokens", usage.get("input_tokens")) or 0
    output_tokens = usage.get("completion_tokens", usage.get("output_tokens")) or 0
    in_details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
    out_details = usage.get("completion_tokens_details") or usage.get("output_tokens_details") or {}
    cached = (in_details.get("cached_tokens") if isinstance(in_details, dict) else 0) or 0
    reasoning = (out_details.get("reasoning_tokens") if isinstance(out_details, dict) else 0) or 0
    return int(input_tokens), int(cached), int(output_tokens), int(reasoning)


def _json_objects(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """The JSON object of a body, or every `data:` object of a server-sent event stream."""
    text = body.decode("utf-8", errors="replace")
    if "text/event-stream" in content_type or text.lstrip().startswith(("data:", "event:")):
        found = []
        for line in text.splitlines():
            if line.startswith("data:") and line[5:].strip() not in ("", "[DONE]"):
                try:
                    found.append(json.loads(line[5:]))
                except ValueError:
                    continue  # the cap may have cut the first kept line
        return [o for o in found if isinstance(o, dict)]
    try:
        obj = json.loads(text)
    except ValueError:
        return _tail_usage(text)
    return [obj] if isinstance(obj, dict) else []


def _tail_usage(text: str) -> list[dict[str, Any]]:
    """Usage and model from a body whose head was cut off (a large embeddings answer past the cap)."""
    found: dict[str, Any] = {}
    decoder = json.JSONDecoder()
    for key in ("usage", "model"):
        at = text.rfind(f'"{key}"')
        colon = text.find(":", at) if at >= 0 else -1
        if colon < 0:
            continue
        try:
            found[key] = decoder.raw_decode(text[colon + 1:].lstrip())[0]
        except ValueError:
            continue
    return [found] if found else []


def _response_body(attempt: Attempt) -> bytes:
    http = attempt.context.http
    raw = b"".join(attempt.chunks)
    if attempt.decoded or not raw or attempt.headers is None:
        return raw
    # Chunks were teed off the wire: undo any content-encoding the way the client would.
    return http.Response(attempt.status_code or 200, headers=attempt.headers, content=raw).content


def _usage_and_model(objects: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, str, str]:
    usage, model, provider_id = None, "", ""
    for obj in objects:
        inner = obj.get("response") if isinstance(obj.get("response"), dict) else obj
        usage = inner.get("usage") or usage
        model = inner.get("model") or model
        provider_id = inner.get("id") or provider_id
    return usage, model, str(provider_id)


def to_record(attempt: Attempt) -> UsageRequest:
    """The UsageRequest for one attempt: tags, tokens, latency, status, batch flag, fingerprint."""
    ctx = attempt.context
    request = attempt.request
    path = request.url.path.rstrip("/")
    try:
        body = json.loads(request.content or b"{}")
    except Exception:  # a multipart upload or a streamed body: no prompt to fingerprint
        body = {}
    body = body if isinstance(body, dict) else {}
    objects: list[dict[str, Any]] = []
    if attempt.status_code is not None and attempt.status_code < 400:
        content_type = attempt.headers.get("content-type", "") if attempt.headers is not None else ""
        objects = _json_objects(_response_body(attempt), content_type)
    usage, model, provider_request_id = _usage_and_model(objects)
    input_tokens, cached, output_tokens, reasoning = usage_counts(usage)
    tags: dict[str, Any] = {"endpoint": path.rsplit("/v1", 1)[-1]}
    if provider_request_id:
        tags["response_id"] = provider_request_id
    header_id = attempt.headers.get("x-request-id") if attempt.headers is not None else None
    if header_id:
        tags["provider_request_id"] = header_id
    if attempt.error:
        tags["error"] = attempt.error
    if attempt.status_code is not None and attempt.status_code < 400 and usage is None and not path.endswith("/batches"):
        tags["usage_missing"] = True
    if ctx.store_prompts and body:
        tags["request"] = normalise_request(body)
    overrides = attempt.overrides or {}
    auth = request.headers.get("authorization", "")
    user = body.get("user") or body.get("safety_identifier") or ""
    return UsageRequest(
        source=SOURCE,
        request_id=uuid.uuid4().hex,
        started_at=datetime.fromtimestamp(attempt.started_at, tz=timezone.utc),
        provider=ctx.provider,
        model=str(model or body.get("model") or ""),
        endpoint_kind=ctx.endpoint_kind,
        project_id=request.headers.get("openai-project", ""),
        api_key_id=key_id(auth.removeprefix("Bearer ").strip(), ctx.key) if auth else "",
        user_id=str(user),
        team=overrides.get("team", ctx.team),
        workload_tag=overrides.get("workload", ctx.workload),
        tags=tags,
        input_tokens=input_tokens,
        cached_input_tokens=cached,
        output_tokens=output_tokens,
        reasoning_tokens=reasoning,
        latency_ms=round(attempt.latency_ms, 3) if attempt.latency_ms is not None else None,
        status_code=attempt.status_code,
        is_batch=path.endswith("/batches"),
        fingerprint=fingerprint(body, ctx.key, path) if body else "",
    )
