"""Token spend as FOCUS 1.2 rows with real token counts (input, cached input and output rows).

Each row of `allocated_daily` (provider, account, UTC day, model, workload, team) becomes up to
three rows, one per token kind, with ConsumedQuantity in tokens. Its cost is split between
them by tokens x the price in effect (by tokens where the model is unpriced), rounded to 1e-10
USD, and the last row takes the remainder: the sum of BilledCost equals `spend` exactly.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from app.reports.csv_writer import write_dicts
from models.prices import applied_price_history
from models.queries.spend import allocated_daily

# Every FOCUS 1.2 column (x_ provider extensions left out), in the order of the 1.2-preview metadata.
FOCUS_COLUMNS = [
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType", "BillingCurrency",
    "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId", "CapacityReservationStatus",
    "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd",
    "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType", "CommitmentDiscountUnit",
    "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice", "EffectiveCost", "InvoiceId",
    "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory", "PricingCurrency", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName",
    "ResourceType", "ServiceCategory", "ServiceName", "ServiceSubcategory", "SkuId", "SkuMeter",
    "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName", "SubAccountType", "Tags",
]
# Columns FOCUS 1.2 says must not be null (for usage rows like these); every other column may be empty.
NOT_NULL = {
    "BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
    "ChargeCategory", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "ProviderName", "PublisherName",
    "ServiceCategory", "ServiceName", "ServiceSubcategory",
}
PROVIDER_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic", "azure": "Microsoft", "aws": "AWS",
                  "gcp": "Google Cloud", "google": "Google", "mistral": "Mistral AI"}
TOKEN_KINDS = [("input", "Input tokens"), ("cached_input", "Cached input tokens"), ("output", "Output tokens")]
STEP = Decimal("1e-10")


def provider_name(provider: str) -> str:
    """The provider's display name for ProviderName, PublisherName and InvoiceIssuerName."""
    return PROVIDER_NAMES.get(provider.lower(), provider)




def _weights(row: dict[str, Any], price: tuple | None) -> list[tuple[str, str, int, Decimal]]:
    """(kind, meter, tokens, weight) per token kind with tokens; weight by price, else by tokens."""
    counts = {"input": row["input_tokens"] - row["cached_input_tokens"], "cached_input": row["cached_input_tokens"],
              "output": row["output_tokens"]}
    rates = None
    if price and price[1] is not None and price[3] is not None:
        rates = {"input": price[1], "cached_input": price[2] if price[2] is not None else price[1],
                 "output": price[3]}
    parts = [(k, meter, max(counts[k], 0)) for k, meter in TOKEN_KINDS if counts[k] > 0]
    weights = [Decimal(n) * (rates[k] if rates else 1) for k, _, n in parts]
    if not any(weights):
        weights = [Decimal(n) for _, _, n in parts]
    return [(k, m, n, w) for (k, m, n), w in zip(parts, weights)]


def split(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Shares of `amount` in proportion to `weights`, rounded to 1e-10; the last takes the remainder."""
    total = sum(weights)
    shares = [(amount * w / total).quantize(STEP, ROUND_HALF_EVEN) if total else Decimal(0) for w in weights[:-1]]
    return shares + [amount - sum(shares, Decimal(0))]


def _ts(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(value: Decimal | int | None) -> str:
    return "" if value is None else format(Decimal(value).normalize(), "f") if value else "0"


def focus_rows(conn: Connection, *, since: datetime, until: datetime) -> list[dict[str, str]]:
    """FOCUS 1.2 rows (every value as CSV text) for the token spend of the period."""
    daily = allocated_daily(conn, since=since, until=until).sort(
        ["day", "provider", "account_id", "model", "workload", "team"])
    prices = applied_price_history(conn)
    out: list[dict[str, str]] = []
    for row in daily.iter_rows(named=True):
        day: date = row["day"]
        start = datetime.combine(day, time(0), tzinfo=timezone.utc)
        month = date(day.year, day.month, 1)
        next_month = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        price = next((p for p in prices.get((row["provider"], row["model"]), []) if p[0] <= day), None)
        parts = _weights(row, price) or [("", "", None, Decimal(1))]
        cost = Decimal(row["cost_usd"])
        name = provider_name(row["provider"])
        for (kind, meter, count, _), share in zip(parts, split(cost, [w for *_, w in parts])):
            money = _num(share)
            quantity, unit = ("", "") if count is None else (str(count), "Tokens")
            what = f"{row['model'] or 'unattributed'} {meter.lower() or 'charges without usage'}"
            out.append({c: "" for c in FOCUS_COLUMNS} | {
                "BilledCost": money, "EffectiveCost": money, "ListCost": money, "ContractedCost": money,
                "BillingAccountId": row["account_id"] or row["provider"], "BillingCurrency": "USD",
                "BillingPeriodStart": _ts(datetime.combine(month, time(0), tzinfo=timezone.utc)),
                "BillingPeriodEnd": _ts(datetime.combine(next_month, time(0), tzinfo=timezone.utc)),
                "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based",
                "ChargeDescription": f"{what} (workload {row['workload']}, basis {row['cost_basis'] or 'unpriced'})",
                "ChargePeriodStart": _ts(start), "ChargePeriodEnd": _ts(start + timedelta(days=1)),
                "ConsumedQuantity": quantity, "ConsumedUnit": unit, "PricingQuantity": quantity, "PricingUnit": unit,
                "PricingCategory": "Standard", "PricingCurrency": "USD",
                "InvoiceIssuerName": name, "ProviderName": name, "PublisherName": name,
                "ServiceCategory": "AI and Machine Learning", "ServiceSubcategory": "Generative AI",
                "ServiceName": f"{name} API", "SkuId": row["model"], "SkuMeter": meter,
                "SubAccountId": row["account_id"],
                "Tags": json.dumps({"workload": row["workload"], "team": row["team"], "token_type": kind or "none"},
                                   sort_keys=True),
            })
    return out


def write_focus_csv(conn: Connection, path: Path, *, since: datetime, until: datetime) -> int:
    """Write the FOCUS CSV for the period; returns the number of rows written."""
    rows = focus_rows(conn, since=since, until=until)
    with path.open("w", newline="", encoding="utf-8") as fh:
        write_dicts(fh, FOCUS_COLUMNS, rows)  # formula-leading names (=HYPERLINK...) are written as text
    return len(rows)
