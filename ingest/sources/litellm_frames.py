"""LiteLLM SpendLogs JSON lines read column-wise: frames of UsageRequest rows, same rules as row by row.

`LiteLLMSpendLogsSource.record` is the rule book; this reader only decides, for each row, that
`record` would accept it and what it would make of it, with vectorised checks:

- pyarrow's JSON reader parses a chunk of lines against a strict schema. A string where a number
  belongs, a float token count, a duplicate key or broken JSON fails the whole chunk, which is then
  read line by line by `record` (so the refusal, its line and field are the ones `collect` gives).
- polars expressions flag every row the fast rules cannot vouch for: a missing required value, a
  time that is not plain ISO 8601 in UTC, a value near or outside its bound (`models.bounds`), a
  fractional request_duration_ms. Only flagged rows go through `record`, in file order, so the
  first refusal is the one `collect` raises and --accept-implausible values are audited the same.
- attribution (team, workload, tags) and raw-key hashing run `record`'s own functions once per
  distinct combination of their inputs, not once per row.

Money is read as a decimal (exact) and written as decimal text; a spend given as a JSON string,
with more than 28 decimals or 10 integer digits, is left to `record`. Files that are not UTF-8 JSON lines (CSV, a
JSON array, gzip, UTF-16) are read by `collect` as they always were.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pj

from ingest.base import SourceError
from ingest.frames import _JSON, RecordFrame, frame_schema, records_frame
from ingest.records import UsageRequest
from ingest.sources._common import checked_line, loads_json, sniff_encoding, text_lines
from ingest.sources.litellm import REQUIRED, TAG_COLUMNS, _norm, attribution, hashed_key
from models import bounds

CHUNK_BYTES = 16 << 20
SPEND_SCALE = 28  # decimals of spend read exactly (a float's 17 digits down to 1e-11 USD)
META = ("project_id", "workload", "user_api_key_team_alias")
TOKENS = ("prompt_tokens", "completion_tokens", "total_tokens")
SCHEMA = pa.schema(
    [(c, pa.string()) for c in ("request_id", "startTime", "endTime", "model", "api_key", "custom_llm_provider",
                                "user", "team_id", *TAG_COLUMNS)]
    + [("request_duration_ms", pa.float64()), ("spend", pa.decimal128(38, SPEND_SCALE)),
       ("metadata", pa.struct([(m, pa.string()) for m in META])), ("request_tags", pa.list_(pa.string()))]
    + [(t, pa.int64()) for t in TOKENS])
# Other fields are inferred, so the column names list every top-level key; when their types vary
# between rows (nested metadata often does) they are ignored and the keys are listed by a regex.
_PARSE = pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="infer")
_PARSE_KNOWN = pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore")
_KEY = r'"([^"\\]{1,64})"\s*:'
# Keys `record` reads (compared with case and underscores ignored): another spelling of one goes row by row.
_READ_KEYS = {_norm(k) for k in SCHEMA.names} | {_norm(c) for c in REQUIRED}
# pyarrow refuses a spend with more decimals than the scale but wraps one too large for 128 bits
# without a word: a spend given as text, or with 10+ integer digits or a positive exponent, goes row by row.
_SPEND_ROW_BY_ROW = re.compile(rb'"spend"\s*:\s*("|-?(\d{10}|[\d.]+[eE]\+?\d))')
_ISO = r"^\d{4}-\d{2}-\d{2}[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
_UTC_SUFFIX = r"(Z|z|\+00:00)$"
_AMOUNT_MAX = 999_999_999  # below the `amount` bound, so a float's rounding never decides a refusal
_LATENCY_MAX = float(bounds.BOUNDS["latency_ms"].high) - 1


def batches(source: Any, batch_rows: int) -> Iterator[RecordFrame | UsageRequest]:
    """Frames for a UTF-8 JSON-lines file; otherwise `source.collect()`'s records, unchanged."""
    if not _fast_file(source):
        yield from source.collect()
        return
    where, offset, first = str(source.path), 0, 1
    with open(source.path, "rb") as fh:
        rest = b""
        while True:
            block = fh.read(max(CHUNK_BYTES, batch_rows * 64))
            chunk = rest + block
            if not block:
                rest = b""
            else:
                cut = chunk.rfind(b"\n") + 1
                chunk, rest = (chunk[:cut], chunk[cut:]) if cut else (b"", chunk)
            if chunk and b"\\u0000" in chunk:
                # A NUL escaped inside a JSON string: records, so the database's refusal names the record and field.
                yield from _row_by_row(source, *_numbered(chunk, first, offset))
            elif chunk:
                yield RecordFrame(UsageRequest, _chunk_frame(source, chunk, first, offset, where))
                first += chunk.count(b"\n")
                offset += len(chunk)
            if not block:
                return


def _fast_file(source: Any) -> bool:
    path = Path(source.path)
    if path.suffix.lower() in (".csv", ".gz"):
        return False
    try:
        with open(path, "rb") as fh:
            if sniff_encoding(fh.read(4096)) != ("utf-8", 0):
                return False
    except OSError:
        return False  # `collect` says so, with its own message
    lines = text_lines(path)
    try:
        head = next((ln for ln in lines if ln.strip()), "")
    finally:
        lines.close()
    return source.is_json_lines(head)


def _row_by_row(source: Any, lines: list[bytes], numbers: list[int], offsets: list[int]) -> list[UsageRequest]:
    """`collect`'s reading of these lines (numbers and byte offsets in the file)."""
    where, out = str(source.path), []
    for raw, number, offset in zip(lines, numbers, offsets):
        text = checked_line(raw, where, number, offset)
        if text.strip():
            row = loads_json(text, where, line_offset=number - 1)
            if not isinstance(row, dict):
                raise SourceError(where, "line is not a JSON object", line=number)
            out.append(source.record(number, "", {_norm(k): v for k, v in row.items()}))
    return out


def _numbered(chunk: bytes, first: int, offset: int) -> tuple[list[bytes], list[int], list[int]]:
    """The chunk's lines (newlines kept, as a file iterates), their numbers and byte offsets."""
    parts = chunk.split(b"\n")
    tail = parts.pop()  # b"" when the chunk ends with a newline
    lines = [part + b"\n" for part in parts] + ([tail] if tail else [])
    offsets, at = [], offset
    for ln in lines:
        offsets.append(at)
        at += len(ln)
    return lines, list(range(first, first + len(lines))), offsets


def _chunk_frame(source: Any, chunk: bytes, first: int, offset: int, where: str) -> pl.DataFrame:
    lines, numbers, offsets = _numbered(chunk, first, offset)
    table = _strict_table(chunk)
    kept = [i for i, ln in enumerate(lines) if ln.strip()]
    if table is None or table.num_rows != len(kept) or _SPEND_ROW_BY_ROW.search(chunk):
        return records_frame(UsageRequest, _row_by_row(source, lines, numbers, offsets))
    frame = pl.from_arrow(table).with_columns(_line=pl.Series([numbers[i] for i in kept], dtype=pl.Int64))
    frame = _derive(source, frame)
    flagged = frame.filter(pl.col("_flag"))["_line"].to_list()
    rows = frame.filter(~pl.col("_flag")).select([*frame_schema(UsageRequest), "_line"])
    if not flagged:
        return rows.drop("_line")
    at_ = [n - first for n in flagged]
    slow = _row_by_row(source, [lines[i] for i in at_], [numbers[i] for i in at_], [offsets[i] for i in at_])
    slow_frame = records_frame(UsageRequest, slow).with_columns(_line=pl.Series(flagged, dtype=pl.Int64))
    return pl.concat([rows, slow_frame]).sort("_line").drop("_line")


def _strict_table(chunk: bytes) -> pa.Table | None:
    """The chunk parsed against SCHEMA; None when it does not fit (a wrong type, a duplicate key, bad JSON, bad text)."""
    if b"\x00" in chunk:
        return None
    options = pj.ReadOptions(block_size=len(chunk) + 1)
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        table = pj.read_json(io.BytesIO(chunk), read_options=options, parse_options=_PARSE)
        keys = set(table.column_names)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        try:
            table = pj.read_json(io.BytesIO(chunk), read_options=options, parse_options=_PARSE_KNOWN)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        keys = set(pl.Series([text]).str.extract_all(_KEY).explode().str.extract(_KEY).unique().drop_nulls())
    if any(_norm(name) in _READ_KEYS for name in keys - set(SCHEMA.names)):
        return None  # e.g. 'startTime' spelled 'start_time': `record` matches spellings
    return table


def _utc(column: str, naive_is_utc: bool) -> tuple[pl.Expr, pl.Expr]:
    """(time, bad) of an ISO 8601 text column: bad when the fast rules cannot read it as `parse_utc` would."""
    text = pl.col(column)
    zoned = text.str.contains(_UTC_SUFFIX)
    plain = text.str.replace(_UTC_SUFFIX, "").str.replace(" ", "T", literal=True)
    parsed = plain.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False).dt.replace_time_zone("UTC")
    bad = ~text.str.contains(_ISO + r"(Z|z|\+00:00)?$") | parsed.is_null()
    if not naive_is_utc:
        bad = bad | ~zoned
    return parsed, bad.fill_null(True)


def _attribution(frame: pl.DataFrame) -> pl.DataFrame:
    """team, workload_tag, project_id and tags (JSON text) per distinct input, by `record`'s own function."""
    keys = ["team_id", *(f"_m_{m}" for m in META), "request_tags", *TAG_COLUMNS]
    combos = frame.select(keys).unique(maintain_order=True)
    out = {"team": [], "workload_tag": [], "project_id": [], "tags": []}
    for row in combos.iter_rows(named=True):
        metadata = {m: row[f"_m_{m}"] for m in META}
        normed = {_norm(c): row[c] for c in TAG_COLUMNS} | {"teamid": row["team_id"]}
        team, workload, tags = attribution(normed, metadata, row["request_tags"] or [])
        out["team"].append(team)
        out["workload_tag"].append(workload)
        out["project_id"].append(str(metadata.get("project_id") or ""))
        out["tags"].append(_JSON.encode(tags) if tags else "{}")
    return combos.with_columns(**{k: pl.Series(v, dtype=pl.String) for k, v in out.items()})


def _derive(source: Any, frame: pl.DataFrame) -> pl.DataFrame:
    """The UsageRequest columns of parsed rows, and `_flag` for the rows `record` must read itself."""
    frame = frame.with_columns(pl.col("metadata").struct.field(m).alias(f"_m_{m}") for m in META)
    start, start_bad = _utc("startTime", source.naive_is_utc)
    end, end_bad = _utc("endTime", source.naive_is_utc)
    low, high = bounds.time_window("observed_at")
    margin = timedelta(minutes=1)
    duration = pl.col("request_duration_ms")
    has_end = pl.col("endTime").is_not_null() & (pl.col("endTime") != "")
    from_times = (end - start).dt.total_microseconds().cast(pl.Float64) / 1e6 * 1000.0
    latency = pl.when(duration.is_not_null()).then(duration).when(has_end).then(from_times).otherwise(None)
    tokens = {t: pl.col(t).fill_null(0) for t in TOKENS}
    spend = pl.col("spend").cast(pl.Float64)
    flags = [pl.col(c).is_null() | (pl.col(c) == "") for c in ("request_id", "startTime", "model")]
    flags += [start_bad, start < _aware(low) + margin, start > _aware(high) - margin]
    flags += [duration.is_not_null() & ((duration != duration.round(0)) | (duration.abs() > 2.0**53)),
              duration.is_null() & has_end & end_bad,
              latency.is_not_null() & ((latency < 0) | (latency > _LATENCY_MAX))]
    flags += [(t < 0) | (t > int(bounds.BOUNDS["tokens"].high)) for t in tokens.values()]
    flags += [spend.is_not_null() & (spend.abs() >= _AMOUNT_MAX)]
    frame = frame.with_columns(_flag=pl.any_horizontal(flags).fill_null(True), _start=start, _latency=latency)
    combos = _attribution(frame)
    keys = [c for c in combos.columns if c not in ("team", "workload_tag", "project_id", "tags")]
    frame = frame.join(combos, on=keys, how="left", nulls_equal=True, maintain_order="left")
    raw_keys = frame.filter(pl.col("api_key").str.starts_with("sk-"))["api_key"].unique().to_list()
    api_key = pl.col("api_key").fill_null("")
    if raw_keys:
        api_key = api_key.replace({k: hashed_key(k) for k in raw_keys})
    money = pl.col("spend").cast(pl.String).str.replace(r"(\.\d*?)0+$", "$1").str.replace(r"\.$", "")
    schema = frame_schema(UsageRequest)
    columns = {
        "source": pl.lit("litellm"), "request_id": pl.col("request_id"), "started_at": pl.col("_start"),
        "provider": pl.col("custom_llm_provider").fill_null(""), "model": pl.col("model"),
        "account_id": pl.lit(source.account_id), "endpoint_kind": pl.lit("api"), "project_id": pl.col("project_id"),
        "api_key_id": api_key, "user_id": pl.col("user").fill_null(""), "team": pl.col("team"),
        "workload_tag": pl.col("workload_tag"), "tags": pl.col("tags"), "input_tokens": tokens["prompt_tokens"],
        "cached_input_tokens": pl.lit(0), "output_tokens": tokens["completion_tokens"], "reasoning_tokens": pl.lit(0),
        "other_tokens": pl.max_horizontal(tokens["total_tokens"] - tokens["prompt_tokens"]
                                          - tokens["completion_tokens"], pl.lit(0)),
        "latency_ms": pl.col("_latency"), "status_code": pl.lit(None), "is_batch": pl.lit(False),
        "fingerprint": pl.lit(""), "reported_cost_usd": money,
    }
    return frame.select(*(expr.cast(schema[name]).alias(name) for name, expr in columns.items()), "_line", "_flag")


def _aware(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
