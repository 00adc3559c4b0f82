"""The spool: exact round trip, order, crash mid-flush, exactly-once delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.records import GpuSample, InferenceSample
from ingest.sources.spool import Spool, decode_record, encode_record

T0 = datetime(2026, 7, 14, 8, 0, 0, 123456, tzinfo=UTC)


def gpu(i: int) -> GpuSample:
    return GpuSample(sampled_at=T0 + timedelta(seconds=5 * i), host="h", gpu_uuid=f"GPU-{i % 3}", source="nvml",
                     utilization_pct=float(i) + 0.1, memory_used_bytes=i * 1024**3, power_watts=631.95,
                     energy_mj=1e12 + i, temperature_c=None)


def test_round_trip_exact_both_types():
    inf = InferenceSample(sampled_at=T0, endpoint="http://x/metrics", model_name="m", engine="0",
                          prompt_tokens_total=148.0, generation_tokens_total=None, kv_cache_usage_frac=0.123456789)
    for record in (gpu(7), inf):
        back = decode_record(encode_record(record))
        assert back == record and back.sampled_at.utcoffset() == timedelta(0)


@settings(max_examples=50, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(min_value=0, max_value=2**63),
       st.datetimes(timezones=st.just(UTC)))
def test_round_trip_property(value, number, at):
    record = GpuSample(sampled_at=at, host="h", gpu_uuid="g", source="s", power_watts=value, memory_used_bytes=number)
    assert decode_record(encode_record(record)) == record


def test_append_pending_in_order_and_survives_reopen(tmp_path):
    spool = Spool(tmp_path, "node/a")
    spool.append([gpu(i) for i in range(5)])
    spool.append([gpu(5)])
    again = Spool(tmp_path, "node/a")
    assert list(again.pending()) == [gpu(i) for i in range(6)]
    assert [seq for seq, _ in again.pending_pairs()] == list(range(6))


def test_flush_exactly_once_and_compacts(tmp_path):
    spool = Spool(tmp_path, "h")
    spool.append([gpu(i) for i in range(7)])
    got: list = []
    assert spool.flush(got.extend, batch_size=3) == 7
    assert [seq for seq, _ in got] == list(range(7)) and [r for _, r in got] == [gpu(i) for i in range(7)]
    assert spool.flush(got.extend) == 0 and list(spool.pending()) == []
    assert spool.path.stat().st_size == 0
    spool.append([gpu(7)])
    assert [seq for seq, _ in Spool(tmp_path, "h").pending_pairs()] == [7]  # ids are never reused


def test_writer_raising_mid_flush_loses_and_duplicates_nothing(tmp_path):
    spool = Spool(tmp_path, "h")
    spool.append([gpu(i) for i in range(10)])
    delivered: list = []
    calls = {"n": 0}

    def flaky(batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("database went away")
        delivered.extend(batch)

    with pytest.raises(ConnectionError):
        spool.flush(flaky, batch_size=4)
    assert [seq for seq, _ in delivered] == [0, 1, 2, 3]
    spool.append([gpu(10)])
    reopened = Spool(tmp_path, "h")  # as after a crash
    reopened.flush(delivered.extend, batch_size=4)
    assert [seq for seq, _ in delivered] == list(range(11))
    assert [r for _, r in delivered] == [gpu(i) for i in range(11)]


def test_crash_after_writer_before_commit_redelivers_same_seq(tmp_path, monkeypatch):
    spool = Spool(tmp_path, "h")
    spool.append([gpu(i) for i in range(3)])
    seen: dict[int, GpuSample] = {}  # an idempotent writer: keyed by seq

    def crash(*_a, **_k):
        raise SystemExit("killed between write and commit")

    monkeypatch.setattr(spool, "_commit", crash)
    with pytest.raises(SystemExit):
        spool.flush(lambda batch: seen.update(batch))
    again = Spool(tmp_path, "h")
    redelivered = []
    again.flush(lambda batch: (redelivered.extend(batch), seen.update(batch)))
    assert [seq for seq, _ in redelivered] == [0, 1, 2]
    assert sorted(seen) == [0, 1, 2] and list(again.pending()) == []


def test_torn_last_line_is_dropped_not_fatal(tmp_path):
    spool = Spool(tmp_path, "h")
    spool.append([gpu(0), gpu(1)])
    with open(spool.path, "ab") as fh:
        fh.write(b'{"seq":2,"type":"GpuSample","da')  # crash mid-append
    again = Spool(tmp_path, "h")
    assert list(again.pending()) == [gpu(0), gpu(1)]
    again.append([gpu(2)])
    assert [s for s, _ in Spool(tmp_path, "h").pending_pairs()] == [0, 1, 2]


def test_non_record_rejected(tmp_path):
    with pytest.raises(TypeError):
        Spool(tmp_path, "h").append([{"not": "a record"}])
