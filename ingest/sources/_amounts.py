"""Amounts as people write them (1,234.56 / 1.234,56 / 1 234,56 / (12.50)), parsed by a declared locale.

Never guessed: without a declared decimal separator an amount is read only when it has one
reading ("1234,56", "1,234.56", "12.5"); "1,234" or "1.234" (a thousand, or one and a bit?) is
refused with both readings, and a file whose lines disagree on the separator is refused too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ingest.base import SourceError

# Languages that write a decimal comma, and regions of them that write a point (de-CH, es-MX, ...).
COMMA_LANGUAGES = {"de", "fr", "es", "it", "pt", "nl", "da", "sv", "nb", "nn", "no", "fi", "pl", "cs", "sk", "ru",
                   "uk", "tr", "id", "ro", "hu", "el", "bg", "hr", "sl", "sr", "lt", "lv", "et", "ca", "vi", "af"}
POINT_REGIONS = {"ch", "li", "mx", "us", "pr", "gt", "do", "hn", "ni", "sv", "pa", "pe"}
GROUPING = " \u00a0\u202f'\u2019"  # spaces (plain, no-break, narrow no-break) and apostrophes group thousands
_CURRENCY = re.compile(r"^(?:[A-Za-z]{3}\s*)?[$€£¥₹₩₽¤]?\s*|\s*[$€£¥₹₩₽¤]?(?:\s*[A-Za-z]{3})?$")
_BODY = re.compile(r"^[0-9.,\u00a0\u202f' \u2019]*[0-9][0-9.,\u00a0\u202f' \u2019]*$")


def decimal_separator_of(locale: str | None, separator: str | None, where: str, field: str) -> str | None:
    """The declared decimal separator from a separator ('.' or ',') or a locale tag (de-DE, en_US, fr)."""
    if separator:
        if separator not in (".", ","):
            raise SourceError(where, f"decimal separator must be '.' or ',', not {separator!r}", field=field)
        return separator
    if not locale:
        return None
    parts = re.split(r"[-_.@]", locale.strip().lower())
    if not parts or not re.fullmatch(r"[a-z]{2,3}", parts[0]):
        raise SourceError(where, f"locale {locale!r} is not a language tag such as en-US or de-DE", field=field)
    region = parts[1] if len(parts) > 1 else ""
    return "," if parts[0] in COMMA_LANGUAGES and region not in POINT_REGIONS else "."


def _grouped(integer: str, sep: str) -> bool:
    """True when `integer` is digits grouped by `sep` in threes (or the Indian 2-2-3 way)."""
    groups = integer.split(sep)
    if len(groups) == 1:
        return integer.isdigit()
    if not all(g.isdigit() for g in groups) or not 1 <= len(groups[0]) <= 3 or len(groups[-1]) != 3:
        return False
    middle = groups[1:-1]
    return all(len(g) == 3 for g in middle) or all(len(g) == 2 for g in middle)


@dataclass
class AmountReader:
    """Reads the amounts of one file: a declared decimal separator, or the one its unambiguous lines agree on."""

    where: str
    decimal: str | None = None  # declared: '.' or ','
    _seen: tuple[str, int] | None = field(default=None, repr=False)  # (separator, line) inferred earlier

    def parse(self, text: str, *, field: str, line: int | None) -> Decimal:
        """The amount in `text` (currency symbols, grouping and accounting parentheses allowed)."""
        raw = (text or "").strip()
        if not raw:
            raise SourceError(self.where, "missing amount", line=line, field=field)
        negative, body = False, raw.replace("\u2212", "-")
        if body.startswith("(") and body.endswith(")"):
            negative, body = True, body[1:-1].strip()
        body = _CURRENCY.sub("", body).strip()
        if body[:1] in "+-":
            negative, body = negative ^ (body[0] == "-"), body[1:].strip()
        elif body[-1:] == "-":
            negative, body = not negative, body[:-1].strip()
        body = _CURRENCY.sub("", body).strip()
        if not _BODY.match(body) or body[0] in ".," and len(body) > 1 and not body[1:].isdigit():
            raise SourceError(self.where, f"not a number: {text!r} (digits with '.' or ',' and grouping only; "
                              "no exponents or underscores)", line=line, field=field)
        value = self._read(body, raw, field, line)
        return -value if negative else value

    def _read(self, body: str, raw: str, field: str, line: int | None) -> Decimal:
        plain = "".join(" " if c in GROUPING else c for c in body)
        spaced = " " in plain
        inferred = "" if self.decimal else self._infer(plain.replace(" ", ""), spaced, raw, field, line)
        decimal = self.decimal or inferred or "."
        group = "," if decimal == "." else "."
        integer, _, fraction = plain.rpartition(decimal) if decimal in plain else (plain, "", "")
        separators = {c for c in integer if not c.isdigit()}
        bad = (not fraction.isdigit() and fraction != "") or len(separators) > 1 or not separators <= {group, " "} \
            or (separators and not _grouped(integer, separators.pop()))
        if bad or (not integer and not fraction):
            hint = "" if self.decimal is None else f" with {self.decimal!r} as the declared decimal separator"
            raise SourceError(self.where, f"amount {raw!r} is not a number{hint} (digits grouped in threes, "
                              "one decimal separator)", line=line, field=field)
        try:
            value = Decimal((integer.replace(group, "").replace(" ", "") or "0") + ("." + fraction if fraction else ""))
        except InvalidOperation:
            raise SourceError(self.where, f"not a number: {raw!r}", line=line, field=field) from None
        if inferred:
            self._agree(inferred, raw, field, line)
        return value

    def _infer(self, plain: str, spaced: bool, raw: str, field: str, line: int | None) -> str:
        """The decimal separator `plain` itself shows, checked against earlier lines; refuses an ambiguous one."""
        points, commas = plain.count("."), plain.count(",")
        if points and commas:
            found = "." if plain.rfind(".") > plain.rfind(",") else ","
        elif points + commas == 0:
            return ""  # a whole number reads the same in every locale
        elif points > 1 or commas > 1:
            found = "," if points > 1 else "."  # repeated: they group thousands
        else:
            sep = "." if points else ","
            integer, fraction = plain.split(sep)
            if len(fraction) == 3 and 1 <= len(integer) <= 3 and integer.isdigit() and integer[0] != "0" \
                    and not spaced:
                other = "," if sep == "." else "."
                as_decimal, as_thousands = f"{integer}.{fraction}", f"{integer}{fraction}"
                earlier = (f"; line {self._seen[1]} used {self._seen[0]!r} as the decimal separator"
                           if self._seen else "")
                raise SourceError(
                    self.where, f"amount {raw!r} is ambiguous: {as_decimal} if {sep!r} is the decimal separator, "
                    f"{as_thousands} if it groups thousands{earlier}; declare the file's locale "
                    f"(decimal_separator: '{sep}' or '{other}' in the mapping, or --decimal-separator)",
                    line=line, field=field)
            found = sep
        return found

    def _agree(self, found: str, raw: str, field: str, line: int | None) -> None:
        """Every line of a file without a declared locale uses the same decimal separator."""
        if self._seen is None:
            self._seen = (found, line or 0)
        elif self._seen[0] != found:
            raise SourceError(self.where, f"amount {raw!r} uses {found!r} as the decimal separator but line "
                              f"{self._seen[1]} used {self._seen[0]!r}; declare the file's locale "
                              "(decimal_separator in the mapping, or --decimal-separator)", line=line, field=field)
