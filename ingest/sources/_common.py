"""Small parsing helpers shared by the token-side sources: times, numbers, hashes, JSON."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from collections.abc import Iterator
from typing import Any

from ingest.base import SourceError

# Active ISO 4217 currency codes (ISO list one, 2024-25), with the precious-metal and test codes (XAU, XTS...) left out.
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
    KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN
    NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL
    SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES
    VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
    """.split()
)

_NAIVE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def file_describe(path: str | Path) -> str:
    """Describe a file for the run record: its path and sha256, read in chunks."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise SourceError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    return f"file {path} sha256:{digest.hexdigest()}"


def stable_key(*parts: Any) -> str:
    """A deterministic hex key from the given parts (None and '' hash alike)."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def utc_from_unix(value: Any, where: str, *, field: str, line: int | None = None) -> datetime:
    """A UTC datetime from Unix seconds (an int, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value != int(value):
        raise SourceError(where, f"expected Unix seconds as an integer, got {value!r}", line=line, field=field)
    return datetime.fromtimestamp(int(value), tz=timezone.utc)


def utc_from_nanos(value: Any, where: str, *, field: str, line: int | None = None) -> datetime:
    """A UTC datetime from Unix nanoseconds (OTLP JSON writes them as strings)."""
    try:
        nanos = int(str(value))
    except (TypeError, ValueError):
        raise SourceError(where, f"expected Unix nanoseconds, got {value!r}", line=line, field=field) from None
    if nanos <= 0:
        raise SourceError(where, f"expected positive Unix nanoseconds, got {value!r}", line=line, field=field)
    seconds, rest = divmod(nanos, 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(microsecond=rest // 1000)


def parse_utc(
    value: Any, where: str, *, field: str, line: int | None = None, naive_is_utc: bool = False
) -> datetime:
    """Parse an ISO 8601 / RFC 3339 time into aware UTC; naive times only when naive_is_utc."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip() if value is not None else ""
        if not text:
            raise SourceError(where, "missing date-time", line=line, field=field)
        norm = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        try:
            parsed = datetime.fromisoformat(norm)
        except ValueError:
            raise SourceError(where, f"not an ISO 8601 date-time: {text!r}", line=line, field=field) from None
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise SourceError(where, f"date-time {value!s} has no time zone", line=line, field=field)
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def parse_decimal(value: Any, where: str, *, field: str, line: int | None = None) -> Decimal:
    """A Decimal from JSON/CSV text or a number (floats go through their shortest repr)."""
    if isinstance(value, bool) or value is None:
        raise SourceError(where, f"expected a number, got {value!r}", line=line, field=field)
    if isinstance(value, Decimal):
        result = value
    else:
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise SourceError(where, f"not a number: {value!r}", line=line, field=field) from None
    if not result.is_finite():
        raise SourceError(where, f"not a finite number: {value!r}", line=line, field=field)
    return result


def token_count(value: Any, where: str, *, field: str, line: int | None = None) -> int:
    """A non-negative integer token count; None means 0; '12' and 12.0 are accepted."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise SourceError(where, f"token count is a boolean: {value!r}", line=line, field=field)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise SourceError(where, f"token count is not a number: {value!r}", line=line, field=field) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise SourceError(where, f"token count is not a whole number: {value!r}", line=line, field=field)
    if number < 0:
        raise SourceError(where, f"token count is negative: {value!r}", line=line, field=field)
    return int(number)


def currency_code(value: Any, where: str, *, field: str, line: int | None = None) -> str:
    """An upper-case ISO 4217 code; lower-case input (OpenAI's 'usd') is accepted."""
    code = str(value or "").strip().upper()
    if code not in ISO_4217:
        raise SourceError(where, f"unknown currency {value!r} (not an ISO 4217 code)", line=line, field=field)
    return code


def load_json_file(path: str | Path) -> Any:
    """Load a whole JSON file with floats as Decimal; errors name the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    return loads_json(text, str(path))


def loads_json(text: str, where: str, *, line_offset: int = 0) -> Any:
    """Parse JSON text with floats as Decimal; errors name where and the line."""
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise SourceError(where, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno + line_offset) from None


BUCKET_WIDTHS_S = (60, 3600, 86400)


def floor_to(moment: datetime, width_s: int) -> datetime:
    """The start of the UTC bucket of `width_s` seconds (a minute, an hour, a day) that holds `moment`."""
    ts = int(moment.timestamp())
    return datetime.fromtimestamp(ts - ts % width_s, tz=timezone.utc)


def bucket_width(spans: list[tuple[datetime, datetime]]) -> int:
    """The bucket width of a page: its longest bucket rounded up to a minute, an hour or a day.

    A page holds whole buckets plus at most a short first and last one, so the longest span
    says the width (a lone 23-minute bucket is an hourly one).
    """
    longest = max(((e - s).total_seconds() for s, e in spans), default=86400)
    return next((w for w in BUCKET_WIDTHS_S if longest <= w), 86400)


def aligned_bucket(start: datetime, width_s: int) -> tuple[datetime, datetime]:
    """The whole bucket a (possibly short) provider bucket belongs to: a re-pull replaces it whatever its start."""
    first = floor_to(start, width_s)
    return first, datetime.fromtimestamp(first.timestamp() + width_s, tz=timezone.utc)


def str_or_empty(value: Any) -> str:
    """None becomes ''; everything else its string form."""
    return "" if value is None else str(value)


def looks_naive(text: str) -> bool:
    """True for 'YYYY-MM-DD HH:MM[:SS]' text without a zone."""
    return bool(_NAIVE_RE.match(text.strip()))


class SavedResponseSource:
    """A saved API response (a page, or a list of its buckets) read with a provider's own parsers.

    Subclasses name the source and set `buckets_of(doc, where)` and `records(buckets, where,
    account_id)` as static methods; the API and file paths then share every line of parsing.
    """

    name = ""
    buckets_of: Any = None
    records: Any = None

    def __init__(self, path: str | Path, account_id: str = ""):
        """Read the JSON file at path; account_id labels the organisation."""
        self.path, self.account_id = Path(path), account_id

    def describe(self) -> str:
        """Say which file (and its hash) this source reads."""
        return file_describe(self.path)

    def collect(self) -> Iterator[Any]:
        """Yield one record per bucket result in the file."""
        where = str(self.path)
        yield from self.records(self.buckets_of(load_json_file(self.path), where), where, self.account_id)
