"""Loads of frames (the column-wise path) write, count and refuse exactly as loads of records do."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from ingest.loader import LoadError, load
from ingest.sources import litellm_frames
from ingest.sources.litellm import LiteLLMSpendLogsSource

COLUMNS = ("source, request_id, started_at, provider, model, project_id, api_key_id, user_id, team, workload_tag, tags, "
           "input_tokens, output_tokens, other_tokens, latency_ms, reported_cost_usd, is_demo")


def _line(i: int, **extra) -> str:
    row = {"request_id": f"r{i}", "startTime": f"2026-01-05 {9 + i % 3:02d}:{i % 60:02d}:02.118",
           "endTime": f"2026-01-05 {9 + i % 3:02d}:{i % 60:02d}:04.000", "model": "gpt-4o-mini",
           "custom_llm_provider": "openai", "spend": 0.0003 * (i + 1), "prompt_tokens": 100 + i,
           "completion_tokens": 20, "total_tokens": 125 + i, "team_id": f"t{i % 2}", "request_tags": ["workload:w"]}
    return json.dumps({**row, **extra})


def _load(engine, path, *, frames: bool):
    src = LiteLLMSpendLogsSource(path)
    result = load(engine, src.collect_batches() if frames else src.collect(), source="litellm", target=src.describe(),
                  where=str(path))
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT {COLUMNS} FROM usage_requests ORDER BY request_id")).all()
        hourly = conn.execute(sa.text("SELECT hour_at, team, requests, input_tokens, reported_cost_usd "
                                      "FROM request_hourly ORDER BY 1, 2")).all()
    return (result.rows_read, result.rows_written, result.rows_skipped), rows, hourly


def _reset(engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM usage_requests; DELETE FROM request_hourly; "
                             "DELETE FROM request_discipline_hourly")


@pytest.mark.parametrize("chunk_bytes", [1 << 20, 600])
def test_frames_load_as_records_do(engine, tmp_path, monkeypatch, chunk_bytes):
    monkeypatch.setattr(litellm_frames, "CHUNK_BYTES", chunk_bytes)
    first = tmp_path / "a.jsonl"
    first.write_text("\n".join(_line(i) for i in range(30)) + "\n")
    # a re-load with changes: some rows moved to another hour, a key repeated (the last wins), new keys
    second = tmp_path / "b.jsonl"
    second.write_text("\n".join([_line(i, startTime="2026-01-05 15:00:00", endTime=None) for i in range(5)]
                                + [_line(40), _line(41), _line(40, spend=9.5)]
                                + [_line(i) for i in range(5, 30)]) + "\n")
    outcomes = {}
    for frames in (False, True):
        _reset(engine)
        outcomes[frames] = [_load(engine, first, frames=frames), _load(engine, first, frames=frames),
                            _load(engine, second, frames=frames)]
    assert outcomes[True] == outcomes[False]
    counts = [o[0] for o in outcomes[True]]
    assert counts[0] == (30, 30, 0) and counts[1] == (30, 0, 0) and counts[2][1] == 7


def test_a_key_repeated_across_frames_of_a_fresh_file_counts_once(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(litellm_frames, "CHUNK_BYTES", 600)
    path = tmp_path / "dup.jsonl"
    path.write_text("\n".join([_line(i) for i in range(12)] + [_line(3, spend=1.25)] + [_line(i) for i in range(12, 20)])
                    + "\n")
    outcomes = {}
    for frames in (False, True):
        _reset(engine)
        outcomes[frames] = _load(engine, path, frames=frames)
    assert outcomes[True] == outcomes[False] and outcomes[True][0] == (21, 20, 1)


def test_a_nul_inside_a_json_string_is_refused_naming_the_record(engine, tmp_path):
    path = tmp_path / "nul.jsonl"
    path.write_text("\n".join([_line(0), _line(1), _line(2, model="gpt\u0000x")]) + "\n")
    messages = []
    for frames in (False, True):
        with pytest.raises(LoadError) as err:
            _load(engine, path, frames=frames)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "record 3" in messages[0]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM usage_requests")).scalar() == 0
