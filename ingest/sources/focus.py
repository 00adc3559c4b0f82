"""FinOps FOCUS 1.0-1.3 cost exports (CSV, gzip CSV or Parquet) as CostLine rows, streamed row by row.

Columns are found by name, never by position. ``NULL`` (and empty) cells are None; naive
date-times are UTC as the spec requires; money is Decimal; negative costs are kept. AI rows
keep what the bill says: the model (SkuPriceDetails ModelId), the token direction and cache
action, and the tokens (ConsumedQuantity in a token unit). One file is one part of an export;
``ingest.sources.focus_export`` groups parts into the export a re-issue supersedes.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingest.base import SourceError
from ingest.records import CostLine
from ingest.sources import charge_kinds
from ingest.sources._common import currency_code, file_describe, parse_decimal, parse_utc, stable_key, text_lines
from models.bounds import Guard

REQUIRED = ("BilledCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd", "ProviderName",
            "BillingAccountId", "BillingPeriodStart", "ChargeCategory", "ServiceCategory")
# FOCUS 1.3 deprecates ProviderName and PublisherName for ServiceProviderName and HostProviderName.
ALIASES = {"ProviderName": ("ServiceProviderName",), "PublisherName": ("HostProviderName",)}
CHARGE_CATEGORIES = {"usage", "purchase", "tax", "credit", "adjustment"}
IDENTIFYING = ("BillingAccountId", "SubAccountId", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory",
               "ChargeClass", "ChargeDescription", "ResourceId", "SkuId", "SkuPriceId", "CommitmentDiscountId",
               "PricingUnit", "ConsumedUnit", "RegionId", "InvoiceId", "Tags")
_TOKEN_UNIT = re.compile(r"token", re.I)
_GPU = re.compile(
    r"\bgpus?\b|\b(p3|p3dn|p4d|p4de|p5|p5e|p5en|p6|g4dn|g5|g6|g6e)\.\w+|\bND\s*\w*\s*(H100|H200|A100|MI300X)"
    r"|\bNC\w*\s*(A100|H100|T4|A10)|\bND(v[2-6]|m?_?A100|_?H100|_?H200)|\ba[234]-(high|mega|ultra|edge)gpu"
    r"|\bg2-standard|\b(H100|H200|A100|L40S|B200|GB200|MI300X)\b|\bcapacity.?block",
    re.I,
)
_GPU_FIELDS = ("SkuId", "SkuMeter", "ChargeDescription", "ResourceType", "ResourceName", "ResourceId",
               "x_SkuMeterCategory", "x_SkuMeterSubcategory", "x_SkuDescription", "CommitmentDiscountName",
               "CapacityReservationId", "SkuPriceDetails")


@functools.lru_cache(maxsize=4096)  # column names repeat on every row
def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def classify(row: dict[str, Any]) -> str:
    """token, gpu, other_ai or other, from the row's subcategory, units, SKU and descriptions."""
    return classify_kind(row)[0]


def classify_kind(row: dict[str, Any], details: dict[str, Any] | None = None) -> tuple[str, str]:
    """(ai_class, charge_kind): token lines are 'tokens'; AI rows for storage, search, images... are other_ai.

    Token-Hours (context cache storage) is storage, not tokens, whatever the subcategory.
    """
    details = details or {}
    texts = [str(row.get(k) or "") for k in ("SkuMeter", "ChargeDescription", "SkuId", "ConsumedUnit", "PricingUnit")]
    units = [str(row.get(k) or "") for k in ("ConsumedUnit", "PricingUnit")]
    generative = (row.get("ServiceSubcategory") or "").strip().lower() == "generative ai"
    token_unit = any(_TOKEN_UNIT.search(u) for u in units)
    other_kind = charge_kinds.non_token_kind(*texts)
    if "TokenDirection" in details or (token_unit and other_kind is None):
        return "token", "tokens"
    if generative or token_unit:
        return ("other_ai", other_kind) if other_kind else ("token", "tokens")
    if any(_GPU.search(str(row.get(k) or "")) for k in _GPU_FIELDS):
        return "gpu", ""
    if (row.get("ServiceCategory") or "").strip().lower() == "ai and machine learning":
        return "other_ai", other_kind or "other"
    return "other", ""


def token_type(row: dict[str, Any], details: dict[str, Any]) -> str:
    """The token type of an AI row: SkuPriceDetails TokenDirection and TokenCacheAction first, then its words."""
    direction = str(details.get("TokenDirection") or "").lower()
    action = str(details.get("TokenCacheAction") or "").lower()
    duration = str(details.get("TokenCacheDuration") or details.get("CacheDuration") or "").lower()
    if direction == "output":
        return "output"
    if action == "read":
        return "cached_input"
    if action == "write":
        long = re.search(r"1\s*h|60\s*m|hour", duration) or re.search(r"\b1\s*h(ou)?r?\b", str(row.get("SkuMeter") or ""))
        return "cache_write_1h" if long else "cache_write_5m"
    if direction == "input":
        return "input"
    return charge_kinds.token_type_from_text(str(row.get("SkuMeter") or ""), str(row.get("ChargeDescription") or ""))


class FocusSource:
    """One FOCUS file (.csv, .csv.gz or .parquet) yielding CostLine basis=focus."""

    name = "focus"

    def __init__(self, path: str | Path, *, file_format: str | None = None, batch_rows: int = 10_000,
                 accept: tuple[str, ...] = ()):
        """Read the file at path; the format comes from the extension unless given ('csv' or 'parquet')."""
        self.path = Path(path)
        suffixes = [x.lower() for x in self.path.suffixes]
        self.file_format = file_format or ("parquet" if suffixes and suffixes[-1] in (".parquet", ".pq") else "csv")
        self.guard = Guard(str(self.path), accept)
        self.batch_rows = batch_rows
        self._scopes: set[tuple[str, str, datetime]] = set()

    def describe(self) -> str:
        """Say which file (and its hash) this source reads."""
        return file_describe(self.path)

    def replacement_scopes(self) -> set[tuple[str, str, datetime]]:
        """(provider, billing account, billing period start) seen so far."""
        return set(self._scopes)

    # -- reading ---------------------------------------------------------------------------------
    def _check_header(self, header: list[str]) -> dict[str, str]:
        """Map canonical names to the file's column names; name every missing column at once."""
        present = set(header)
        by_norm = {_norm(h): h for h in header}
        mapping = {h: h for h in header}
        missing, hints = [], []
        for col in [*REQUIRED, *(c for c in ALIASES if c not in REQUIRED)]:
            if col in present:
                continue
            alias = next((a for a in ALIASES.get(col, ()) if a in present), None)
            if alias:
                mapping[col] = alias
                continue
            if col not in REQUIRED:
                continue
            missing.append(col)
            guess = by_norm.get(_norm(col))
            if guess:
                hints.append(f"found {guess!r}, which looks like a renamed {col}")
        if missing:
            names = ", ".join(repr(c) for c in missing)
            hint = f"; {'; '.join(hints)}" if hints else ""
            plural = "s" if len(missing) > 1 else ""
            raise SourceError(str(self.path), f"missing required FOCUS column{plural} {names}{hint}", line=1,
                              field=",".join(missing))
        return mapping

    def _csv_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        # The shared reader: BOMs and UTF-16 detected, gzip unpacked, other encodings refused with their line.
        reader = csv.reader(text_lines(self.path))
        try:
            header = next(reader)
        except StopIteration:
            raise SourceError(str(self.path), "empty file: no header", line=1) from None
        except (csv.Error, OSError, EOFError) as exc:
            raise SourceError(str(self.path), f"bad CSV: {exc}", line=1) from None
        mapping = self._check_header(header)
        width = len(header)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, OSError, EOFError) as exc:
                raise SourceError(str(self.path), f"bad CSV: {exc}", line=reader.line_num) from None
            if not cells:
                continue
            if len(cells) != width:
                raise SourceError(str(self.path), f"row has {len(cells)} cells, header has {width}",
                                  line=reader.line_num)
            raw = dict(zip(header, cells))
            row = {canon: (None if raw[col] in ("NULL", "") else raw[col]) for canon, col in mapping.items()}
            yield reader.line_num, row

    def _parquet_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(self.path)
        except (OSError, Exception) as exc:  # pyarrow raises ArrowInvalid for a non-Parquet file
            raise SourceError(str(self.path), f"cannot read Parquet file: {exc}") from exc
        mapping = self._check_header(list(pf.schema_arrow.names))
        number = 0
        for batch in pf.iter_batches(batch_size=self.batch_rows):
            for raw in batch.to_pylist():
                number += 1
                yield number, {canon: raw.get(col) for canon, col in mapping.items()}

    # -- mapping ---------------------------------------------------------------------------------
    def _money(self, row: dict, col: str, line: int, required: bool = False) -> Decimal | None:
        value = row.get(col)
        if value is None:
            if required:
                raise SourceError(str(self.path), "required cost is NULL", line=line, field=col)
            return None
        return self.guard.check("amount", parse_decimal(value, str(self.path), field=col, line=line), field=col,
                                line=line)

    def _time(self, row: dict, col: str, line: int) -> datetime:
        moment = parse_utc(row.get(col), str(self.path), field=col, line=line, naive_is_utc=True)
        return self.guard.time("charge_period_at", moment, field=col, line=line)

    def _json_object(self, row: dict, col: str, line: int) -> dict[str, Any]:
        value = row.get(col)
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        if isinstance(value, list):  # Parquet map columns come back as (key, value) pairs
            return dict(value)
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise SourceError(str(self.path), f"{col} is not valid JSON: {exc.msg}", line=line, field=col) from None
        if not isinstance(parsed, dict):
            raise SourceError(str(self.path), f"{col} is not a JSON object", line=line, field=col)
        return parsed

    def collect(self, seen: dict[str, int] | None = None) -> Iterator[CostLine]:
        """Yield one CostLine per row, streaming; raises SourceError naming file, line and field.

        `seen` counts identical rows across the parts of one export, so an exact repeat gets the
        same `#n` key whichever file of the export it is in.
        """
        where = str(self.path)
        rows = self._parquet_rows() if self.file_format == "parquet" else self._csv_rows()
        seen = {} if seen is None else seen
        for line, row in rows:
            billed = self._money(row, "BilledCost", line, required=True)
            currency = currency_code(row.get("BillingCurrency"), where, field="BillingCurrency", line=line)
            start, end = self._time(row, "ChargePeriodStart", line), self._time(row, "ChargePeriodEnd", line)
            self.guard.period(start, end, field="ChargePeriodEnd", line=line)
            period = self._time(row, "BillingPeriodStart", line)
            provider, account = str(row.get("ProviderName") or ""), str(row.get("BillingAccountId") or "")
            if not provider or not account:
                missing = "ProviderName" if not provider else "BillingAccountId"
                raise SourceError(where, "required value is NULL", line=line, field=missing)
            category = str(row.get("ChargeCategory") or "").strip().lower()
            if category not in CHARGE_CATEGORIES:
                raise SourceError(where, f"unknown ChargeCategory {row.get('ChargeCategory')!r}", line=line,
                                  field="ChargeCategory")
            description = str(row.get("ChargeDescription") or "")
            if category == "usage" and billed < 0 and re.search(r"refund", description, re.I):
                category = "refund"
            ident = row.get("Id")
            base = f"id:{ident}" if ident not in (None, "") else stable_key(*(row.get(c) for c in IDENTIFYING))
            seen[base] = seen.get(base, 0) + 1
            quantity = row.get("ConsumedQuantity")
            quantity = None if quantity is None else parse_decimal(quantity, where, field="ConsumedQuantity", line=line)
            unit = str(row.get("ConsumedUnit") or "")
            details = self._json_object(row, "SkuPriceDetails", line)
            ai_class, kind = classify_kind(row, details)
            is_tokens = kind == "tokens" and ai_class == "token"
            self._scopes.add((provider, account, period))
            yield CostLine(
                basis="focus",
                provider=provider,
                account_id=account,
                source_line_key=base if seen[base] == 1 else f"{base}#{seen[base]}",
                charge_period_start_at=start,
                charge_period_end_at=end,
                billed_cost=billed,
                currency=currency,
                effective_cost=self._money(row, "EffectiveCost", line),
                list_cost=self._money(row, "ListCost", line),
                billing_period_start_at=period,
                charge_category=category,
                ai_class=ai_class,
                sub_account_id=str(row.get("SubAccountId") or ""),
                model=str(details.get("ModelId") or "") if ai_class in ("token", "other_ai") else "",
                line_item=description,
                service_name=str(row.get("ServiceName") or ""),
                service_category=str(row.get("ServiceCategory") or ""),
                service_subcategory=str(row.get("ServiceSubcategory") or ""),
                sku_id=str(row.get("SkuId") or ""),
                consumed_quantity=quantity,
                consumed_unit=unit,
                tags=self._json_object(row, "Tags", line),
                charge_kind=kind,
                token_type=token_type(row, details) if is_tokens else "",
                tokens=charge_kinds.tokens_in(quantity, unit) if is_tokens and category == "usage" else 0,
            )
