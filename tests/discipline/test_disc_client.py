"""The instrumented client: the real openai SDK against a local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json

import openai
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

import disc_server
from ingest.client import Recorder, instrument

KEY = b"test-fingerprint-key"
MESSAGES = [{"role": "user", "content": "Classify this ticket: printer on fire"}]


@pytest.fixture
def server():
    srv = disc_server.start()
    yield srv
    srv.shutdown()


def _base(server, prefix: str = "") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{prefix}/v1"


def _rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT * FROM usage_requests ORDER BY started_at, id"))]


@pytest.fixture
def recorder(engine, tmp_path):
    rec = Recorder(engine, spool_dir=tmp_path / "spool", flush_interval_s=0.2)
    yield rec
    rec.close()


def test_disc_client_records_chat_responses_and_stream(server, engine, recorder):
    client = instrument(openai.OpenAI(base_url=_base(server), api_key="sk-test"), workload="support-assistant",
                        team="cs", recorder=recorder, fingerprint_key=KEY, provider="openai")
    for _ in range(3):
        reply = client.chat.completions.create(model="gpt-4.1", messages=MESSAGES, user="alice")
        assert reply.choices[0].message.content == "ok"
    client.responses.create(model="o3", input="Summarise the ticket")
    stream = client.chat.completions.create(model="gpt-4.1-mini", messages=MESSAGES, stream=True,
                                            stream_options={"include_usage": True})
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "ok"
    assert recorder.flush()
    rows = _rows(engine)
    assert len(rows) == 5
    assert {(r["workload_tag"], r["team"], r["endpoint_kind"], r["provider"], r["source"]) for r in rows} == {
        ("support-assistant", "cs", "api", "openai", "client")}
    chats = [r for r in rows if r["model"] == "gpt-4.1"]
    assert len(chats) == 3 and all(r["user_id"] == "alice" for r in chats)
    assert all((r["input_tokens"], r["cached_input_tokens"], r["output_tokens"], r["reasoning_tokens"])
               == (120, 100, 40, 25) for r in chats)
    assert len({r["fingerprint"] for r in chats}) == 1  # the same prompt three times
    resp = next(r for r in rows if r["model"] == "o3")
    assert (resp["input_tokens"], resp["cached_input_tokens"], resp["output_tokens"], resp["reasoning_tokens"]) == (
        70, 20, 30, 10)
    streamed = next(r for r in rows if r["model"] == "gpt-4.1-mini")
    assert (streamed["input_tokens"], streamed["output_tokens"]) == (120, 40)
    assert all(r["status_code"] == 200 and r["latency_ms"] > 0 and not r["is_batch"] for r in rows)
    assert all(r["api_key_id"].startswith("key-") and "sk-test" not in json.dumps(r, default=str) for r in rows)
    assert all("request" not in r["tags"] and "printer" not in json.dumps(r["tags"]) for r in rows)  # no prompts


def test_disc_client_records_429_and_retry(server, engine, recorder):
    client = instrument(openai.OpenAI(base_url=_base(server, "/flaky"), api_key="sk-test", max_retries=2),
                        workload="labeling", team="data", recorder=recorder, fingerprint_key=KEY)
    reply = client.chat.completions.create(model="gpt-4.1", messages=MESSAGES)
    assert reply.usage.prompt_tokens == 120
    assert server.flaky_calls == 2  # the SDK retried on its own
    assert recorder.flush()
    rows = _rows(engine)
    assert [r["status_code"] for r in rows] == [429, 200]
    assert rows[0]["input_tokens"] == 0 and rows[1]["input_tokens"] == 120
    assert rows[0]["fingerprint"] == rows[1]["fingerprint"] != ""


def test_disc_client_survives_database_outage(server, engine, db_url, pg_admin_url, tmp_path):
    name = make_url(db_url).database
    rec = Recorder(database_url=db_url, spool_dir=tmp_path / "spool", flush_interval_s=0.2, retry_interval_s=60)
    client = instrument(openai.OpenAI(base_url=_base(server), api_key="sk-test"), workload="w", team="t",
                        recorder=rec, fingerprint_key=KEY)
    client.chat.completions.create(model="gpt-4.1", messages=MESSAGES)
    assert rec.flush()  # the recorder's pool now holds a live connection
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
        for i in range(3):  # the caller never notices
            reply = client.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": f"q{i}"}])
            assert reply.usage.total_tokens == 160
        assert rec.flush() is False
        assert rec.pending_spooled() == 3
        spooled = list((tmp_path / "spool").glob("client-*.jsonl"))
        assert spooled and sum(len(p.read_text().splitlines()) for p in spooled) == 3
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    assert rec.flush()
    assert rec.pending_spooled() == 0
    rec.close()
    engine.dispose()
    assert len(_rows(engine)) == 4


def test_disc_client_never_fails_when_recording_fails(server, tmp_path):
    class Broken:
        def submit(self, item):
            raise RuntimeError("recorder exploded")

    client = instrument(openai.OpenAI(base_url=_base(server), api_key="sk-test"), workload="w",
                        recorder=Broken(), fingerprint_key=KEY)
    assert client.chat.completions.create(model="gpt-4.1", messages=MESSAGES).usage.total_tokens == 160

    def sink(records):
        raise RuntimeError("database exploded")

    rec = Recorder(sink=sink, spool_dir=tmp_path / "spool", flush_interval_s=0.1)
    client = instrument(openai.OpenAI(base_url=_base(server), api_key="sk-test"), workload="w",
                        recorder=rec, fingerprint_key=KEY)
    assert client.chat.completions.create(model="gpt-4.1", messages=MESSAGES).usage.total_tokens == 160
    assert rec.flush() is False and rec.pending_spooled() == 1
    rec.close(timeout=2)


def test_disc_async_client_and_store_prompts(server, engine, recorder):
    async def call():
        client = instrument(openai.AsyncOpenAI(base_url=_base(server), api_key="sk-test"), workload="agent",
                            team="ml", endpoint_kind="local", recorder=recorder, fingerprint_key=KEY,
                            store_prompts=True)
        reply = await client.chat.completions.create(model="llama-3.1-8b", messages=MESSAGES)
        await client.close()
        return reply

    assert asyncio.run(call()).usage.completion_tokens == 40
    assert recorder.flush()
    (row,) = _rows(engine)
    assert (row["endpoint_kind"], row["provider"], row["workload_tag"]) == ("local", "local", "agent")
    assert row["output_tokens"] == 40 and "printer on fire" in row["tags"]["request"]


def test_disc_per_request_workload_override(server, engine, recorder):
    client = instrument(openai.OpenAI(base_url=_base(server), api_key="sk-test"), workload="default",
                        recorder=recorder, fingerprint_key=KEY)
    client.chat.completions.create(model="gpt-4.1", messages=MESSAGES,
                                   extra_headers={"X-Hybridcost-Workload": "nightly-eval"})
    assert recorder.flush()
    assert [r["workload_tag"] for r in _rows(engine)] == ["nightly-eval"]
    assert all("x-hybridcost-workload" not in {k.lower() for k in b} for _, b in server.seen)


def test_disc_connection_error_recorded_not_served(engine, recorder):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = instrument(openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test", max_retries=1),
                        workload="w", team="t", recorder=recorder, fingerprint_key=KEY)
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="gpt-4.1", messages=MESSAGES)
    assert recorder.flush()
    rows = _rows(engine)
    assert len(rows) == 2 and all(r["status_code"] is None and r["tags"]["error"] for r in rows)
    from datetime import timedelta

    from models.discipline import as_json, scorecard

    with engine.connect() as conn:
        start = rows[0]["started_at"] - timedelta(hours=1)
        (row,) = as_json(scorecard(conn, since=start, until=start + timedelta(hours=2)))
    assert row["attempts"] == 2 and row["requests"] == 0
