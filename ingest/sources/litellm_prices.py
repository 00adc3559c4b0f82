"""LiteLLM's model price map (model_prices_and_context_window.json) as Price rows in USD per Mtok.

The map is in USD per *token*; we convert from the JSON text with Decimal so 2.5e-06/token
becomes exactly 2.50/Mtok. Entries without token prices (``sample_spec``, image or audio
models priced per second or per image) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingest.base import SourceError
from ingest.records import Price
from ingest.sources._common import file_describe, load_json_file, parse_decimal
from models.bounds import Guard

MTOK = Decimal(1_000_000)
FIELDS = {
    "input_usd_per_mtok": "input_cost_per_token",
    "output_usd_per_mtok": "output_cost_per_token",
    "cached_input_usd_per_mtok": "cache_read_input_token_cost",
    "cache_write_usd_per_mtok": "cache_creation_input_token_cost",
    "cache_write_1h_usd_per_mtok": "cache_creation_input_token_cost_above_1hr",
    "batch_input_usd_per_mtok": "input_cost_per_token_batches",
    "batch_output_usd_per_mtok": "output_cost_per_token_batches",
}
_TIER = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")


def per_mtok(value: Any, where: str, field: str) -> Decimal | None:
    """USD per token (JSON text or number) -> USD per Mtok as an exact, plain Decimal; None stays None."""
    if value is None:
        return None
    result = parse_decimal(value, where, field=field) * MTOK
    if result < 0:
        raise SourceError(where, f"negative price {value!r}", field=field)
    return result.quantize(Decimal(1)) if result == result.to_integral_value() else result.normalize()


class LiteLLMPriceSource:
    """LiteLLM's price map JSON: one Price per model with token prices (plus long-context tiers)."""

    name = "litellm_prices"

    def __init__(self, path: str | Path, effective_from: date, *, source: str = "litellm",
                 accept: tuple[str, ...] = ()):
        """Read the price map at path; every price takes effect on effective_from."""
        self.path, self.effective_from, self.source = Path(path), effective_from, source
        self.guard = Guard(str(self.path), accept)

    def describe(self) -> str:
        """Say which file (and its hash) this source reads."""
        return file_describe(self.path)

    def collect(self) -> Iterator[Price]:
        """Yield Price rows in USD per Mtok, skipping entries without token prices."""
        where = str(self.path)
        doc = load_json_file(self.path)
        if not isinstance(doc, dict):
            raise SourceError(where, "expected a JSON object of model -> prices")
        for model, spec in doc.items():
            if model == "sample_spec" or not isinstance(spec, dict):
                continue
            if spec.get("input_cost_per_token") is None and spec.get("output_cost_per_token") is None:
                continue
            prices = {ours: self.guard.check("usd_per_mtok", per_mtok(spec.get(theirs), where, f"{model}.{theirs}"),
                                             field=f"{model}.{theirs} (as USD per Mtok)")
                      for ours, theirs in FIELDS.items()}
            provider = str(spec.get("litellm_provider") or "")
            yield Price(provider=provider, model=model, effective_from=self.effective_from, source=self.source,
                        **prices)
            for key, value in spec.items():
                tier = _TIER.match(key)
                if not tier:
                    continue
                above = int(tier.group(1)) * 1000
                suffix = f"_above_{tier.group(1)}k_tokens"

                def tiered(base: str) -> Decimal | None:
                    name = base + suffix
                    value = per_mtok(spec.get(name), where, f"{model}.{name}") if spec.get(name) is not None else None
                    return self.guard.check("usd_per_mtok", value, field=f"{model}.{name} (as USD per Mtok)")

                yield Price(
                    provider=provider, model=model, effective_from=self.effective_from, source=self.source,
                    above_context_tokens=above,
                    input_usd_per_mtok=self.guard.check("usd_per_mtok", per_mtok(value, where, f"{model}.{key}"),
                                                        field=f"{model}.{key} (as USD per Mtok)"),
                    output_usd_per_mtok=tiered("output_cost_per_token") or prices["output_usd_per_mtok"],
                    cached_input_usd_per_mtok=tiered("cache_read_input_token_cost"),
                    cache_write_usd_per_mtok=tiered("cache_creation_input_token_cost"),
                )
