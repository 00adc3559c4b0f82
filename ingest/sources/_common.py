"""Small parsing helpers shared by the token-side sources: times, numbers, hashes, JSON."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ingest.base import SourceError
from models import bounds

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
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
# Longest first: a UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_SNIFF_BYTES = 4096
BIGINT_MAX = 2**63 - 1


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


# -- reading text files: one reader for every file source ----------------------------------------

def sniff_encoding(head: bytes) -> tuple[str, int]:
    """(encoding, BOM length) from a file's first bytes: a BOM, UTF-16 without one (zeros between), else UTF-8."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, len(bom)
    sample = head[:_SNIFF_BYTES - _SNIFF_BYTES % 2]
    if len(sample) >= 4:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        half = len(sample) // 2
        # ASCII text in UTF-16 has a zero in (nearly) every other byte and none in the rest.
        if odd > 0.4 * half and even < 0.05 * half:
            return "utf-16-le", 0
        if even > 0.4 * half and odd < 0.05 * half:
            return "utf-16-be", 0
    return "utf-8", 0


def _convert_hint(path: str, raw: bytes) -> str:
    try:
        raw.decode("cp1252")
        source = "WINDOWS-1252"  # Latin-1 and Excel's "CSV" on Windows decode as this
    except UnicodeDecodeError:
        source = "YOUR-ENCODING"
    return (f"convert it to UTF-8 first, e.g. `iconv -f {source} -t UTF-8 '{path}' > '{path}.utf8.csv'` "
            "(in Excel: Save As 'CSV UTF-8')")


def _not_text(where: str, raw: bytes, offset: int, encoding: str, problem: str) -> SourceError:
    line = raw.count(b"\n", 0, offset) + 1 if encoding == "utf-8" else None
    at = f"byte offset {offset}" + ("" if line is not None else f" ({encoding})")
    return SourceError(where, f"{problem} at {at}: {_convert_hint(where, raw[:65536])}", line=line)


def decode_text(raw: bytes, where: str) -> str:
    """Text from a file's bytes: BOMs and UTF-16 detected, anything else must be UTF-8; NUL bytes are refused."""
    encoding, skip = sniff_encoding(raw[:_SNIFF_BYTES])
    try:
        text = raw[skip:].decode(encoding)
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        byte = raw[offset:offset + 1].hex()
        kind = "a UTF-8 text file" if encoding == "utf-8" else f"{encoding.upper()} text"
        raise _not_text(where, raw, offset, encoding, f"not {kind}: byte 0x{byte}") from None
    nul = text.find("\x00")
    if nul >= 0:
        offset = raw.find(b"\x00") if encoding == "utf-8" else skip + len(text[:nul].encode(encoding))
        line = text.count("\n", 0, nul) + 1
        raise SourceError(where, f"a NUL byte at byte offset {offset}: this is a binary file, not text "
                          "(PostgreSQL cannot store NUL in text either)", line=line)
    return text


def read_text(path: str | Path) -> str:
    """A whole text file decoded by `decode_text`; errors name the file (and the line and byte offset)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    return decode_text(raw, str(path))


def text_lines(path: str | Path) -> Iterator[str]:
    """The lines of a text file (newlines kept, for csv), streamed; same rules and errors as `decode_text`."""
    where = str(path)
    try:
        # a .gz file (cloud exports are often compressed) is read through gzip, with the same rules
        fh = gzip.open(path, "rb") if where.lower().endswith(".gz") else open(path, "rb")
    except OSError as exc:
        raise SourceError(where, f"cannot read file: {exc.strerror or exc}") from exc
    with fh:
        head = fh.read(_SNIFF_BYTES)
        encoding, skip = sniff_encoding(head)
        fh.seek(skip)
        if encoding != "utf-8":  # UTF-16/32 files (Excel's "Unicode text") are small: decode them whole
            yield from io.StringIO(decode_text(head[:skip] + fh.read(), where), newline="")
            return
        offset = skip
        for number, raw in enumerate(fh, start=1):
            yield checked_line(raw, where, number, offset)
            offset += len(raw)


def checked_line(raw: bytes, where: str, number: int, offset: int) -> str:
    """One line of a UTF-8 file as text; a NUL byte or bad UTF-8 is refused naming the line and byte offset."""
    if b"\x00" in raw:
        raise SourceError(where, f"a NUL byte at byte offset {offset + raw.index(0)}: this is a binary "
                          "file, not text (PostgreSQL cannot store NUL in text either)", line=number)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(where, f"not a UTF-8 text file: byte 0x{raw[exc.start:exc.start + 1].hex()} at byte "
                          f"offset {offset + exc.start}: {_convert_hint(where, raw)}", line=number) from None


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
        text = str(value).strip()
        # Decimal() also reads '1_000' and non-ASCII digits; an amount in a file is plain ASCII or an error.
        if not _PLAIN_NUMBER.match(text) and text.lower().lstrip("+-") not in ("nan", "inf", "infinity", "snan"):
            raise SourceError(where, f"not a number: {value!r}", line=line, field=field)
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise SourceError(where, f"not a number: {value!r}", line=line, field=field) from None
    if not result.is_finite():
        raise SourceError(where, f"not a finite number: {value!r}", line=line, field=field)
    return result


def token_count(value: Any, where: str, *, field: str, line: int | None = None, guard: Any = None,
                kind: str = "bucket_tokens") -> int:
    """A non-negative integer token count within its bound; None means 0; '12' and 12.0 are accepted.

    Without a guard the count is still checked against the `bucket_tokens` bound, so no count
    can overflow the database's BIGINT; request logs pass their guard and kind `tokens`.
    """
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise SourceError(where, f"token count is a boolean: {value!r}", line=line, field=field)
    text = str(value).strip()
    if not _PLAIN_NUMBER.match(text):
        raise SourceError(where, f"token count is not a number: {value!r}", line=line, field=field)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise SourceError(where, f"token count is not a number: {value!r}", line=line, field=field) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise SourceError(where, f"token count is not a whole number: {value!r}", line=line, field=field)
    if number < 0:
        raise SourceError(where, f"token count is negative: {value!r}", line=line, field=field)
    if number > BIGINT_MAX:
        raise SourceError(where, f"token count {value!r} exceeds what the database can store (2^63 - 1)", line=line,
                          field=field)
    if guard is not None:
        guard.check(kind, number, field=field, line=line)
    else:
        bounds.check(kind, number, field=field, where=where, line=line)
    return int(number)


def currency_code(value: Any, where: str, *, field: str, line: int | None = None) -> str:
    """An upper-case ISO 4217 code; lower-case input (OpenAI's 'usd') is accepted."""
    code = str(value or "").strip().upper()
    if code not in ISO_4217:
        raise SourceError(where, f"unknown currency {value!r} (not an ISO 4217 code)", line=line, field=field)
    return code


def load_json_file(path: str | Path) -> Any:
    """Load a whole JSON file with floats as Decimal; errors name the file and line."""
    return loads_json(read_text(path), str(path))


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
