"""Generic invoice CSVs, described by a YAML mapping file, as CostLine rows (basis invoice).

Mapping keys (see docs/ingest.md): ``columns`` maps our names to the file's headers
(date or period_start/period_end, amount, currency, provider, account, description, model,
project, category, line_id); ``defaults`` gives constants for unmapped ones; ``date_format``
is a strptime format (ISO when absent); ``amount_unit`` is ``dollars`` (major units) or ``cents``;
``decimal_separator`` (``.`` or ``,``) or ``locale`` (``de-DE``) says how amounts are written: without
one an amount is read only when it has a single reading (docs/ingest.md, "Amounts").
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ingest.base import SourceError
from ingest.records import CostLine
from ingest.sources._amounts import AmountReader, decimal_separator_of
from ingest.sources._common import currency_code, file_describe, parse_utc, read_text, stable_key, text_lines
from models.bounds import Guard

KNOWN_COLUMNS = {"date", "period_start", "period_end", "amount", "currency", "provider", "account", "description",
                 "model", "project", "category", "line_id"}
CATEGORIES = {"usage", "purchase", "credit", "refund", "tax", "adjustment"}


def load_mapping(path: str | Path) -> dict[str, Any]:
    """Read and check a YAML invoice mapping; errors name the mapping file and key."""
    where = str(path)
    try:
        mapping = yaml.safe_load(read_text(path)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SourceError(where, f"invalid YAML: {exc}", line=mark.line + 1 if mark else None) from None
    if not isinstance(mapping, dict) or not isinstance(mapping.get("columns"), dict):
        raise SourceError(where, "mapping needs a 'columns' table", field="columns")
    columns, defaults = mapping["columns"], mapping.setdefault("defaults", {}) or {}
    unknown = set(columns) - KNOWN_COLUMNS
    if unknown:
        raise SourceError(where, f"unknown mapping key {sorted(unknown)[0]!r}", field=f"columns.{sorted(unknown)[0]}")
    if "amount" not in columns:
        raise SourceError(where, "columns.amount is required", field="columns.amount")
    if "date" not in columns and "period_start" not in columns:
        raise SourceError(where, "give columns.date or columns.period_start", field="columns.date")
    if "provider" not in columns and not defaults.get("provider"):
        raise SourceError(where, "give columns.provider or defaults.provider", field="defaults.provider")
    if mapping.get("amount_unit", "dollars") not in ("dollars", "cents"):
        raise SourceError(where, "amount_unit must be 'dollars' or 'cents'", field="amount_unit")
    decimal_separator_of(mapping.get("locale"), mapping.get("decimal_separator"), where, "decimal_separator")
    return mapping


class InvoiceCsvSource:
    """An invoice CSV read through a YAML column mapping, one CostLine per row."""

    name = "invoice"

    def __init__(self, path: str | Path, mapping: str | Path | dict[str, Any], *, decimal_separator: str | None = None,
                 locale: str | None = None, accept: tuple[str, ...] = ()):
        """Read the CSV at path with a mapping (a YAML file path or an already loaded dict).

        `decimal_separator` or `locale` (the command's options) win over the mapping's own;
        `accept` names bounds the user says to let through (--accept-implausible).
        """
        self.path = Path(path)
        self.mapping_where = "mapping" if isinstance(mapping, dict) else str(mapping)
        self.mapping = mapping if isinstance(mapping, dict) else load_mapping(mapping)
        declared = decimal_separator_of(locale, decimal_separator, "--decimal-separator", "decimal_separator")
        self.decimal = declared or decimal_separator_of(self.mapping.get("locale"),
                                                        self.mapping.get("decimal_separator"),
                                                        self.mapping_where, "decimal_separator")
        self.guard = Guard(str(self.path), accept)

    def describe(self) -> str:
        """Say which file (and its hash) this source reads."""
        return file_describe(self.path)

    def _date(self, text: str | None, line: int, field: str) -> datetime:
        where, fmt = str(self.path), self.mapping.get("date_format")
        if not text:
            raise SourceError(where, "missing date", line=line, field=field)
        if fmt:
            try:
                parsed = datetime.strptime(text.strip(), fmt)
            except ValueError:
                raise SourceError(where, f"date {text!r} does not match {fmt!r}", line=line, field=field) from None
            return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
        return parse_utc(text, where, field=field, line=line, naive_is_utc=True) if "T" in text or " " in text \
            else parse_utc(text + "T00:00:00", where, field=field, line=line, naive_is_utc=True)

    def collect(self) -> Iterator[CostLine]:
        """Yield one CostLine (basis invoice) per invoice row."""
        where, cols = str(self.path), self.mapping["columns"]
        defaults = self.mapping.get("defaults") or {}
        cents = self.mapping.get("amount_unit", "dollars") == "cents"
        amounts = AmountReader(where, self.decimal)
        reader = csv.DictReader(text_lines(self.path), delimiter=self.mapping.get("delimiter", ","))
        try:
            header = reader.fieldnames or []
        except csv.Error as exc:
            raise SourceError(where, f"bad CSV: {exc}", line=1) from None
        for ours, theirs in cols.items():
            if theirs not in header:
                raise SourceError(where, f"missing column {theirs!r} (mapped as {ours})", line=1, field=theirs)
        seen: dict[str, int] = {}
        for row in _rows(reader, where):
            line = reader.line_num

            def get(key: str) -> str:
                value = row.get(cols[key]) if key in cols else None
                return (value if value not in (None, "") else str(defaults.get(key, "") or "")).strip()

            written = amounts.parse(get("amount"), field=cols["amount"], line=line)
            amount = written / Decimal(100) if cents else written
            self.guard.check("amount", amount, field=cols["amount"], line=line)
            start_field = cols.get("period_start", cols.get("date"))
            start = self.guard.time("charge_period_at", self._date(get("period_start") or get("date"), line,
                                                                    start_field), field=start_field, line=line)
            end = self._date(get("period_end"), line, cols["period_end"]) if get("period_end") \
                else start + timedelta(days=1)
            self.guard.time("charge_period_at", end, field=cols.get("period_end", start_field), line=line)
            self.guard.period(start, end, field=cols.get("period_end", start_field), line=line)
            currency = currency_code(get("currency") or "USD", where, field=cols.get("currency", "currency"),
                                     line=line)
            category = (get("category") or "usage").lower()
            if category not in CATEGORIES:
                raise SourceError(where, f"unknown category {category!r}", line=line, field=cols.get("category"))
            provider = get("provider").lower()
            base = get("line_id") or stable_key(provider, get("account"), start.isoformat(), end.isoformat(),
                                                get("description"), get("model"), get("project"), str(written))
            seen[base] = seen.get(base, 0) + 1
            yield CostLine(
                basis="invoice",
                provider=provider,
                account_id=get("account"),
                source_line_key=base if seen[base] == 1 else f"{base}#{seen[base]}",
                charge_period_start_at=start,
                charge_period_end_at=end,
                billed_cost=amount,
                currency=currency,
                charge_category=category,
                ai_class=str(defaults.get("ai_class", "token")),
                project_id=get("project"),
                model=get("model"),
                line_item=get("description"),
            )


def _rows(reader: csv.DictReader, where: str) -> Iterator[dict[str, Any]]:
    """The reader's rows; a CSV syntax error names its line."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SourceError(where, f"bad CSV: {exc}", line=reader.line_num) from None
