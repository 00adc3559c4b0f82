"""The instrumented client: one line to record every OpenAI-compatible request an app makes.

    from openai import OpenAI
    from ingest.client import instrument

    client = instrument(OpenAI(), workload="support-assistant", team="cs")

Works with ``OpenAI`` and ``AsyncOpenAI`` (and any OpenAI-compatible endpoint, a local
vLLM included, through ``base_url``). Prompts are never stored unless ``store_prompts=True``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, TypeVar

from ingest.client.capture import Context, wrapper_classes
from ingest.client.fingerprint import load_key
from ingest.client.recorder import Recorder

log = logging.getLogger(__name__)
T = TypeVar("T")
_default: Recorder | None = None
_default_lock = threading.Lock()


def default_recorder() -> Recorder:
    """The process-wide recorder (database and spool folder from the settings), made on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Recorder()
        return _default


def _provider_for(base_url: str, endpoint_kind: str) -> str:
    host = base_url.split("://", 1)[-1].split("/", 1)[0].lower()
    if host.endswith("openai.com"):
        return "openai"
    if host.endswith("openai.azure.com"):
        return "azure-openai"
    return "local" if endpoint_kind == "local" else host


def _http_module(http_client: Any) -> Any:
    """httpx2 (openai >= 3) or httpx (older SDKs, or a client the user passed in)."""
    import importlib

    for name in ("httpx2", "httpx"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if isinstance(http_client, (module.Client, module.AsyncClient)):
            return module
    raise TypeError(f"the client's HTTP client is neither httpx2 nor httpx: {type(http_client).__name__}")


def instrument(client: T, *, workload: str, team: str = "", endpoint_kind: str = "api",
               recorder: Recorder | None = None, fingerprint_key: bytes | str | None = None,
               store_prompts: bool = False, provider: str | None = None) -> T:
    """Instrument an OpenAI / AsyncOpenAI client in place and return it: every HTTP attempt is recorded."""
    if endpoint_kind not in ("api", "local"):
        raise ValueError(f"endpoint_kind must be 'api' or 'local', not {endpoint_kind!r}")
    http_client = getattr(client, "_client", None)
    if http_client is None or not hasattr(http_client, "_transport"):
        raise TypeError(f"instrument() takes an openai.OpenAI or AsyncOpenAI client, not {type(client).__name__}")
    key = fingerprint_key.encode() if isinstance(fingerprint_key, str) else fingerprint_key
    http = _http_module(http_client)
    context = Context(
        workload=workload, team=team, endpoint_kind=endpoint_kind,
        provider=provider or _provider_for(str(getattr(client, "base_url", "")), endpoint_kind),
        recorder=recorder or default_recorder(), key=key or load_key(), store_prompts=store_prompts, http=http,
    )
    sync_cls, async_cls = wrapper_classes(http)
    is_async = isinstance(http_client, http.AsyncClient)
    cls = async_cls if is_async else sync_cls

    def wrap(transport: Any) -> Any:
        """The transport wrapped once (a re-instrumented client gets new tags, not two wrappers)."""
        if isinstance(transport, (sync_cls, async_cls)):
            transport = transport.inner
        return cls(transport, context)

    http_client._transport = wrap(http_client._transport)
    http_client._mounts = {pattern: (wrap(t) if t is not None else None) for pattern, t in http_client._mounts.items()}
    return client


__all__ = ["instrument", "Recorder", "default_recorder"]
