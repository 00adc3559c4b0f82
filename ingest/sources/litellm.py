"""LiteLLM proxy ``LiteLLM_SpendLogs`` exports (CSV, JSON lines or a JSON array) as UsageRequest rows.

Column names mix camelCase and snake_case (``startTime``, ``request_id``); we match them with
case and underscores ignored. ``spend`` is the proxy's USD estimate, kept as Decimal from the text.
Naive timestamps are UTC (Prisma stores them so); pass ``naive_is_utc=False`` to refuse them.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import itertools
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingest.base import SourceError
from ingest.records import UsageRequest
from ingest.sources._common import (
    file_describe,
    loads_json,
    parse_decimal,
    parse_utc,
    read_text,
    text_lines,
    token_count,
)
from models.bounds import Guard

REQUIRED = ("request_id", "startTime", "model")


@functools.lru_cache(maxsize=4096)  # column names repeat on every row
def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def _json_cell(value: Any, where: str, line: int | None, field: str) -> Any:
    """JSON columns arrive as objects (JSON exports) or as text (CSV exports)."""
    if value is None or isinstance(value, (dict, list)):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise SourceError(where, f"not valid JSON: {exc.msg}", line=line, field=field) from None


TAG_COLUMNS = ("call_type", "cache_hit", "model_group", "status", "end_user", "session_id", "api_base")


def attribution(row: dict[str, Any], metadata: dict, tags_list: list) -> tuple[str, str, dict[str, Any]]:
    """(team, workload tag, tags) of a row: columns first, then metadata, then 'team:x' / 'workload:y' tags."""
    prefixed = {t.split(":", 1)[0]: t.split(":", 1)[1] for t in tags_list if isinstance(t, str) and ":" in t}
    tags: dict[str, Any] = {"request_tags": tags_list} if tags_list else {}
    for key in TAG_COLUMNS:
        if row.get(_norm(key)) not in (None, ""):
            tags[key] = str(row[_norm(key)])
    team = str(row.get("teamid") or metadata.get("user_api_key_team_alias") or prefixed.get("team") or "")
    return team, str(metadata.get("workload") or prefixed.get("workload") or ""), tags


def hashed_key(api_key: str) -> str:
    """LiteLLM's key hash as it is; a raw key ('sk-...') is never stored, only its SHA-256."""
    return hashlib.sha256(api_key.encode()).hexdigest() if api_key.startswith("sk-") else api_key


class LiteLLMSpendLogsSource:
    """A LiteLLM_SpendLogs export file: one UsageRequest per request row."""

    name = "litellm"

    def __init__(self, path: str | Path, *, account_id: str = "", naive_is_utc: bool = True,
                 accept: tuple[str, ...] = ()):
        """Read the file at path (.csv, .jsonl/.ndjson or .json: an array, one object, or {data: [...]})."""
        self.path, self.account_id, self.naive_is_utc = Path(path), account_id, naive_is_utc
        self.guard = Guard(str(self.path), accept)

    def describe(self) -> str:
        """Say which file (and its hash) this source reads."""
        return file_describe(self.path)

    def _rows(self) -> Iterator[tuple[int | None, str, dict[str, Any]]]:
        """(line, field prefix, row with normalised keys)."""
        where = str(self.path)
        lines = text_lines(self.path)
        first = next((ln for ln in lines if ln.strip()), "")
        head = first.lstrip()[:1]
        if self.path.suffix.lower() == ".csv" or head not in ("{", "["):
            yield from self._csv_rows(first, lines)
            return
        if self.is_json_lines(first):
            yield from self._json_lines()
            return
        doc = loads_json(read_text(self.path), where)  # an array, one record, or {data: [...]} (the API's answer)
        if isinstance(doc, dict):
            items, prefix = (doc["data"], "data") if isinstance(doc.get("data"), list) else ([doc], None)
        elif isinstance(doc, list):
            items, prefix = doc, ""
        else:
            raise SourceError(where, "expected a JSON object or an array of objects")
        for i, row in enumerate(items):
            if not isinstance(row, dict):
                raise SourceError(where, "row is not an object", field=f"{prefix}[{i}]")
            yield None, "" if prefix is None else f"{prefix}[{i}].", {_norm(k): v for k, v in row.items()}

    def is_json_lines(self, first: str) -> bool:
        """True when the file whose first non-blank line is `first` is JSON lines (one object a line)."""
        if self.path.suffix.lower() == ".csv" or first.lstrip()[:1] != "{":
            return False
        try:
            single_line = json.loads(first, parse_float=Decimal)
        except json.JSONDecodeError:
            return False
        return isinstance(single_line, dict) and not isinstance(single_line.get("data"), list)

    def _csv_rows(self, first: str, rest: Iterator[str]) -> Iterator[tuple[int | None, str, dict[str, Any]]]:
        where = str(self.path)
        reader = csv.DictReader(itertools.chain([first], rest) if first else iter(()))
        try:
            fields = reader.fieldnames or []
            missing = [c for c in REQUIRED if _norm(c) not in {_norm(h) for h in fields}]
            if missing:
                raise SourceError(where, f"missing column {missing[0]!r}", line=1, field=missing[0])
            for row in reader:
                yield reader.line_num, "", {_norm(k): (v if v != "" else None) for k, v in row.items() if k}
        except csv.Error as exc:
            raise SourceError(where, f"bad CSV: {exc}", line=reader.line_num) from None

    def _json_lines(self) -> Iterator[tuple[int | None, str, dict[str, Any]]]:
        where = str(self.path)
        for number, text in enumerate(text_lines(self.path), 1):
            if text.strip():
                row = loads_json(text, where, line_offset=number - 1)
                if not isinstance(row, dict):
                    raise SourceError(where, "line is not a JSON object", line=number)
                yield number, "", {_norm(k): v for k, v in row.items()}

    def collect(self) -> Iterator[UsageRequest]:
        """Yield one UsageRequest per SpendLogs row."""
        for line, prefix, row in self._rows():
            yield self.record(line, prefix, row)

    def collect_batches(self, batch_rows: int = 50_000) -> Iterator[Any]:
        """Frames of UsageRequest rows (JSON lines parsed column-wise), else the records of `collect`.

        Same rules, messages and records as `collect` (ingest/sources/litellm_frames.py says how).
        """
        from ingest.sources.litellm_frames import batches

        yield from batches(self, batch_rows)

    def record(self, line: int | None, prefix: str, row: dict[str, Any]) -> UsageRequest:
        """The UsageRequest of one row (keys normalised); SourceError names the line and field of bad input."""
        where = str(self.path)

        def field(name: str) -> str:
            return prefix + name

        for col in REQUIRED:
            if row.get(_norm(col)) in (None, ""):
                raise SourceError(where, "required value is missing", line=line, field=field(col))
        start = parse_utc(row["starttime"], where, field=field("startTime"), line=line,
                          naive_is_utc=self.naive_is_utc)
        self.guard.time("observed_at", start, field=field("startTime"), line=line)
        latency = None
        if row.get("requestdurationms") not in (None, ""):
            latency = float(parse_decimal(row["requestdurationms"], where, field=field("request_duration_ms"),
                                          line=line))
        elif row.get("endtime"):
            end = parse_utc(row["endtime"], where, field=field("endTime"), line=line, naive_is_utc=self.naive_is_utc)
            latency = (end - start).total_seconds() * 1000.0
        self.guard.check("latency_ms", latency, field=field("endTime"), line=line)
        metadata = _json_cell(row.get("metadata"), where, line, field("metadata")) or {}
        tags_list = _json_cell(row.get("requesttags"), where, line, field("request_tags")) or []
        if not isinstance(metadata, dict):
            raise SourceError(where, "metadata is not a JSON object", line=line, field=field("metadata"))
        if not isinstance(tags_list, list):
            raise SourceError(where, "request_tags is not a JSON list", line=line, field=field("request_tags"))
        team, workload, tags = attribution(row, metadata, tags_list)
        api_key = hashed_key(str(row.get("apikey") or ""))
        spend = row.get("spend")
        cost = None if spend in (None, "") else parse_decimal(spend, where, field=field("spend"), line=line)
        self.guard.check("amount", cost, field=field("spend"), line=line)

        def tokens(key: str, name: str) -> int:
            return token_count(row.get(key), where, field=field(name), line=line, guard=self.guard, kind="tokens")

        prompt = tokens("prompttokens", "prompt_tokens")
        completion = tokens("completiontokens", "completion_tokens")
        total = tokens("totaltokens", "total_tokens")
        return UsageRequest(
            source="litellm",
            request_id=str(row["requestid"]),
            started_at=start,
            provider=str(row.get("customllmprovider") or ""),
            model=str(row["model"]),
            account_id=self.account_id,
            project_id=str(metadata.get("project_id") or ""),
            api_key_id=api_key,
            user_id=str(row.get("user") or ""),
            team=team,
            workload_tag=workload,
            tags=tags,
            input_tokens=prompt,
            output_tokens=completion,
            other_tokens=max(total - prompt - completion, 0),  # a total beyond its parts keeps the rest
            latency_ms=latency,
            reported_cost_usd=cost,
        )
