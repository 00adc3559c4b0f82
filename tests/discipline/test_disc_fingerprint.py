"""Fingerprints: stable across key order, whitespace and volatile fields; different for different prompts."""

from __future__ import annotations

import os
import stat

from ingest.client.fingerprint import KEY_ENV, fingerprint, load_key, normalise_request

KEY = b"k"
BASE = {"model": "gpt-4.1", "temperature": 0,
        "messages": [{"role": "system", "content": "You label tickets."},
                     {"role": "user", "content": "Printer is on fire.\nPlease help"}]}


def test_disc_fingerprint_stable_across_key_order_and_whitespace():
    reordered = {"temperature": 0, "messages": [{"content": "  You  label\ttickets. ", "role": "system"},
                                                {"content": "Printer is on fire. \n\n Please   help", "role": "user"}],
                 "model": "gpt-4.1", "user": "someone-else", "metadata": {"run": 7}, "stream": True,
                 "stream_options": {"include_usage": True}}
    assert fingerprint(BASE, KEY) == fingerprint(reordered, KEY)
    assert normalise_request(BASE) == normalise_request(reordered)


def test_disc_fingerprint_differs_for_different_requests():
    other_prompt = {**BASE, "messages": [BASE["messages"][0], {"role": "user", "content": "Printer is fine."}]}
    other_model = {**BASE, "model": "gpt-4.1-mini"}
    other_temp = {**BASE, "temperature": 1}
    prints = {fingerprint(b, KEY) for b in (BASE, other_prompt, other_model, other_temp)}
    assert len(prints) == 4
    assert fingerprint(BASE, KEY, "/v1/chat/completions") != fingerprint(BASE, KEY, "/v1/responses")
    assert fingerprint(BASE, b"another key") != fingerprint(BASE, KEY)  # keyed: not a plain hash
    assert len(fingerprint(BASE, KEY)) == 64


def test_disc_fingerprint_key_from_env_or_file(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "from-env")
    assert load_key(tmp_path / "fp.key") == b"from-env"
    monkeypatch.delenv(KEY_ENV)
    first = load_key(tmp_path / "fp.key")
    assert len(first) == 32 and load_key(tmp_path / "fp.key") == first  # made once, then reused
    assert stat.S_IMODE(os.stat(tmp_path / "fp.key").st_mode) == 0o600


def test_disc_usage_from_a_body_cut_at_the_cap():
    """A large answer keeps only its tail: usage and model are still read from it."""
    import json

    from ingest.client.parse import _json_objects, usage_counts

    body = json.dumps({"object": "list", "data": [{"embedding": [0.1] * 50}], "model": "text-embedding-3-small",
                       "usage": {"prompt_tokens": 8, "total_tokens": 8}}).encode()
    (obj,) = _json_objects(body[40:], "application/json")
    assert obj["model"] == "text-embedding-3-small" and usage_counts(obj["usage"]) == (8, 0, 0, 0)
    assert usage_counts({"input_tokens": 5, "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 3}}) \
        == (5, 0, 7, 3)
