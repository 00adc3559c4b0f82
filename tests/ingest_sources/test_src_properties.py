"""Property tests: exact unit conversions and FOCUS sums for arbitrary decimal text."""

from __future__ import annotations

import csv
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.sources.anthropic_usage import cost_records
from ingest.sources.focus import FocusSource
from ingest.sources.litellm_prices import per_mtok

money = st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e6"), places=11, allow_nan=False,
                    allow_infinity=False)


@given(st.decimals(min_value=0, max_value=Decimal("0.01"), places=14, allow_nan=False))
def test_per_mtok_is_exact(per_token):
    assert per_mtok(str(per_token), "f", "x") == per_token * 1_000_000


@given(st.decimals(min_value=0, max_value=Decimal("1e9"), places=7, allow_nan=False))
def test_anthropic_cents_exact(cents):
    bucket = {"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z",
              "results": [{"amount": str(cents), "currency": "USD"}]}
    [line] = list(cost_records([bucket], "p", "a"))
    assert line.billed_cost * 100 == cents


@settings(max_examples=25, deadline=None)
@given(st.lists(money, min_size=1, max_size=30))
def test_focus_sum_matches(tmp_path_factory, amounts):
    path = tmp_path_factory.mktemp("focus") / "f.csv"
    header = ["BilledCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd", "ProviderName",
              "BillingAccountId", "BillingPeriodStart", "ChargeCategory", "ServiceCategory"]
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for amount in amounts:
            writer.writerow([str(amount), "USD", "2024-09-01 00:00:00", "2024-09-02 00:00:00", "AWS", "123",
                             "2024-09-01 00:00:00", "Usage", "Compute"])
    lines = list(FocusSource(path).collect())
    assert sum((x.billed_cost for x in lines), Decimal(0)) == sum(amounts, Decimal(0))
    assert len({x.source_line_key for x in lines}) == len(amounts)
