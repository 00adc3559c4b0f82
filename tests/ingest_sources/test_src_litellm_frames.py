"""The column-wise LiteLLM reader gives exactly what the row-by-row one gives: same rows, same refusals."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ingest.base import SourceError
from ingest.frames import RecordFrame, records_frame
from ingest.records import UsageRequest
from ingest.sources import litellm_frames
from ingest.sources.litellm import LiteLLMSpendLogsSource


def _row(i: int, **extra) -> dict:
    row = {"request_id": f"r{i}", "call_type": "acompletion", "api_key": f"key{i % 3}", "spend": 0.00031725 * (i + 1),
           "total_tokens": 130 + i, "prompt_tokens": 100 + i, "completion_tokens": 20, "startTime":
           f"2026-01-05 09:{i % 60:02d}:02.118", "endTime": f"2026-01-05 09:{i % 60:02d}:03.902", "model": "gpt-4o-mini",
           "custom_llm_provider": "openai", "user": f"u{i % 4}", "team_id": f"t{i % 2}",
           "metadata": {"project_id": f"p{i % 5}", "other": [1, {"x": None}]}, "cache_hit": "False",
           "request_tags": ["workload:triage", "env:prod"], "status": "success", "messages": {}, "response": {}}
    return {k: v for k, v in {**row, **extra}.items() if v != "<drop>"}


def _write(path: Path, rows: list, blank_after: int | None = None) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    if blank_after is not None:
        lines.insert(blank_after, "   ")
    path.write_text("\n".join(lines) + "\n")
    return path


def _frames(path: Path, **kwargs) -> pl.DataFrame:
    parts = list(LiteLLMSpendLogsSource(path, **kwargs).collect_batches(batch_rows=3))
    return pl.concat([p.frame if isinstance(p, RecordFrame) else records_frame(UsageRequest, [p]) for p in parts])


def _same(path: Path, **kwargs) -> None:
    """collect() and collect_batches() agree row for row (money compared as numbers: 0.0 is 0)."""
    def money(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.col("reported_cost_usd").map_elements(
            lambda v: str(Decimal(v).normalize()), return_dtype=pl.String))

    rows = records_frame(UsageRequest, LiteLLMSpendLogsSource(path, **kwargs).collect())
    assert_frame_equal(money(rows), money(_frames(path, **kwargs)))


def _count_row_by_row(monkeypatch) -> list[int]:
    seen: list[int] = []
    original = litellm_frames._row_by_row

    def counting(source, lines, *rest):
        seen.append(len(lines))
        return original(source, lines, *rest)

    monkeypatch.setattr(litellm_frames, "_row_by_row", counting)
    return seen


def test_fixture_and_generated_files_match_row_by_row(tmp_path, fixtures, monkeypatch):
    seen = _count_row_by_row(monkeypatch)
    _same(fixtures / "litellm_spendlogs.jsonl", account_id="proxy-1")
    _same(_write(tmp_path / "a.jsonl", [_row(i) for i in range(20)], blank_after=7))
    assert seen == []  # every row read column-wise


@pytest.mark.parametrize("extra", [
    {"api_key": "sk-live-secret"}, {"spend": None}, {"spend": 2.5e-06}, {"spend": 0.00031725000000000004},
    {"spend": 123456789.123}, {"spend": 999999999.5}, {"spend": 1.5e-40}, {"spend": "<drop>"}, {"spend": "0.5"}, {"spend": 12},
    {"request_duration_ms": 1784}, {"request_duration_ms": 17.25}, {"endTime": None}, {"endTime": ""},
    {"startTime": "2026-01-05T09:00:00Z"}, {"startTime": "2026-01-05T10:00:00+01:00"},
    {"startTime": "2026-01-05 09:00:00.1234567"}, {"team_id": None, "metadata": {"user_api_key_team_alias": "cx"}},
    {"team_id": "", "request_tags": ["team:ops", "team:dev"]}, {"request_tags": None}, {"request_tags": []},
    {"request_tags": [None, "x"]}, {"request_tags": [1, "workload:w"]}, {"metadata": None}, {"metadata": "{}"},
    {"metadata": '{"project_id": "from-text"}'}, {"metadata": {"project_id": 0}}, {"cache_hit": False},
    {"request_id": 17}, {"requestId": "other-spelling"}, {"start_time": "2026-01-05 09:00:00"},
    {"prompt_tokens": 12.0}, {"prompt_tokens": "12"}, {"total_tokens": None}, {"total_tokens": 5},
    {"user": None, "custom_llm_provider": None}, {"end_user": "é\"\\\n\t"}, {"model_group": ""},
])
def test_unusual_rows_match_row_by_row(tmp_path, extra):
    rows = [_row(i) for i in range(8)]
    rows[4] = _row(4, **extra)
    _same(_write(tmp_path / "x.jsonl", rows))


def _refusal(call) -> str:
    with pytest.raises(SourceError) as err:
        call()
    return str(err.value)


@pytest.mark.parametrize("line", [
    _row(5, request_id=None), _row(5, request_id=""), _row(5, model="<drop>"), _row(5, startTime="yesterday"),
    _row(5, startTime="2026-02-30 09:00:00"), _row(5, startTime="1970-01-01 00:00:00"),
    _row(5, startTime="2099-01-01 00:00:00"), _row(5, prompt_tokens=-10), _row(5, completion_tokens=10**9),
    _row(5, total_tokens=2**64), _row(5, completion_tokens="n/a"), _row(5, spend="free"), _row(5, spend=1e10),
    _row(5, spend=-1e10), _row(5, spend=10**40), _row(5, spend=1.7e38), _row(5, endTime="2026-01-05 08:00:00"), _row(5, request_duration_ms=-1),
    _row(5, request_duration_ms=1e12), _row(5, endTime="later"), _row(5, metadata="{oops"), _row(5, metadata=[1]),
    _row(5, request_tags="nope"), _row(5, prompt_tokens=True), '{"request_id": "cut', "[1, 2]", "17",
    '{"request_id": "r5", "request_id": "again"}', '{"spend": NaN, "request_id": "r", "startTime": "x", "model": "m"}',
])
def test_hostile_rows_are_refused_with_the_same_message(tmp_path, line):
    path = _write(tmp_path / "bad.jsonl", [_row(i) for i in range(5)] + [line] + [_row(i) for i in range(6, 9)])
    expected = _refusal(lambda: list(LiteLLMSpendLogsSource(path).collect()))
    assert _refusal(lambda: _frames(path)) == expected
    assert "line 6" in expected


@pytest.mark.parametrize("raw", [b"\x00", b"\xff\xfe", b"caf\xe9"])
def test_bad_bytes_are_refused_with_the_same_message(tmp_path, raw):
    good = _write(tmp_path / "good.jsonl", [_row(i) for i in range(6)]).read_bytes()
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(good + b'{"request_id": "' + raw + b'"}\n')
    expected = _refusal(lambda: list(LiteLLMSpendLogsSource(path).collect()))
    assert _refusal(lambda: _frames(path)) == expected


def test_naive_times_refused_when_asked(tmp_path):
    path = _write(tmp_path / "n.jsonl", [_row(i) for i in range(4)])
    expected = _refusal(lambda: list(LiteLLMSpendLogsSource(path, naive_is_utc=False).collect()))
    assert _refusal(lambda: _frames(path, naive_is_utc=False)) == expected
    _same(_write(tmp_path / "z.jsonl", [_row(i, startTime="2026-01-05T09:00:00Z", endTime=None) for i in range(4)]),
          naive_is_utc=False)


def test_accepted_implausible_values_are_audited_alike(tmp_path):
    rows = [_row(i) for i in range(9)]
    rows[2], rows[7] = _row(2, prompt_tokens=2 * 10**8, total_tokens=2 * 10**8), _row(7, spend=2e9)
    path = _write(tmp_path / "acc.jsonl", rows)
    slow = LiteLLMSpendLogsSource(path, accept=("tokens", "amount"))
    fast = LiteLLMSpendLogsSource(path, accept=("tokens", "amount"))
    rows_slow = records_frame(UsageRequest, slow.collect())
    parts = list(fast.collect_batches(batch_rows=4))
    assert sum(p.height for p in parts) == rows_slow.height == 9
    assert fast.guard.accepted == slow.guard.accepted and len(slow.guard.accepted) == 3


def test_other_layouts_are_read_row_by_row(fixtures):
    for name in ("litellm_spendlogs.csv",):
        parts = list(LiteLLMSpendLogsSource(fixtures / name).collect_batches())
        assert parts == list(LiteLLMSpendLogsSource(fixtures / name).collect())


def test_a_file_larger_than_a_chunk_streams_in_frames(tmp_path, monkeypatch):
    monkeypatch.setattr(litellm_frames, "CHUNK_BYTES", 4096)
    path = _write(tmp_path / "big.jsonl", [_row(i) for i in range(200)], blank_after=50)
    seen = _count_row_by_row(monkeypatch)
    parts = list(LiteLLMSpendLogsSource(path).collect_batches(batch_rows=10))
    assert len(parts) > 5 and all(isinstance(p, RecordFrame) for p in parts) and seen == []
    _same(path)
    bad = _write(tmp_path / "late.jsonl", [_row(i) for i in range(150)] + [_row(150, prompt_tokens=-1)])
    assert _refusal(lambda: _frames(bad)) == _refusal(lambda: list(LiteLLMSpendLogsSource(bad).collect()))
