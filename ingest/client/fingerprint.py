"""Keyed fingerprints of normalised requests: equal for the same prompt, whatever the key order or spacing.

The fingerprint is HMAC-SHA256 over the request body as canonical JSON (sorted keys, no
spaces), after dropping fields that change between identical requests (``user``,
``metadata``, ``stream_options``, ...) and collapsing runs of whitespace in every string.
It is keyed so that a fingerprint cannot be reversed by hashing guessed prompts: the key
comes from HYBRIDCOST_FINGERPRINT_KEY, or a random key file made once per install.
Fingerprints are only comparable between processes that share a key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

KEY_ENV = "HYBRIDCOST_FINGERPRINT_KEY"
KEY_FILE_NAME = "fingerprint.key"
# Fields that differ between requests that would get the same answer from a response cache.
VOLATILE_FIELDS = frozenset({
    "user", "metadata", "stream", "stream_options", "store", "safety_identifier", "prompt_cache_key",
    "service_tier", "parallel_tool_calls", "timeout", "n_retries",
})
_SPACE = re.compile(r"\s+")


def _collapse(value: Any) -> Any:
    if isinstance(value, str):
        return _SPACE.sub(" ", value).strip()
    if isinstance(value, dict):
        return {k: _collapse(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_collapse(v) for v in value]
    return value


def normalise_request(body: dict[str, Any], path: str = "") -> str:
    """The canonical JSON text of a request body: volatile fields dropped, whitespace collapsed, keys sorted."""
    kept = {k: v for k, v in body.items() if k not in VOLATILE_FIELDS}
    if path:
        kept["_endpoint"] = path.rstrip("/").rsplit("/v1", 1)[-1]
    return json.dumps(_collapse(kept), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def fingerprint(body: dict[str, Any], key: bytes, path: str = "") -> str:
    """Hex HMAC-SHA256 of the normalised request under `key`."""
    return hmac.new(key, normalise_request(body, path).encode(), hashlib.sha256).hexdigest()


def key_id(secret: str, key: bytes) -> str:
    """A stable, non-reversible id for an API key (never the key itself)."""
    return "key-" + hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()[:16]


def load_key(key_file: Path | None = None) -> bytes:
    """The fingerprint key: HYBRIDCOST_FINGERPRINT_KEY, else a random key file made once (mode 0600)."""
    given = os.environ.get(KEY_ENV)
    if given:
        return given.encode()
    if key_file is None:
        from models.infra.settings import get_settings

        key_file = get_settings().data_dir / KEY_FILE_NAME
    try:
        return bytes.fromhex(key_file.read_text().strip())
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fresh = secrets.token_hex(32)
    try:
        # O_EXCL: two processes starting at once agree on one key (the loser reads the winner's).
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(key_file.read_text().strip())
    with os.fdopen(fd, "w") as fh:
        fh.write(fresh + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return bytes.fromhex(fresh)
