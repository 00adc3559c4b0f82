"""Plausibility bounds: one table of what a value may be before it is stored or used as money.

Every importer and every edit checks its values here. A value outside its bound is refused
with the field, the value and the bound; `--accept-implausible FIELD` (audited) lets one field
through when the user says the value is real. docs/ingest.md prints this table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Bound:
    """The plausible closed range [low, high] of one field, in its unit, and why."""

    field: str
    low: Decimal
    high: Decimal
    unit: str
    why: str


def _b(field: str, low: str, high: str, unit: str, why: str) -> Bound:
    return Bound(field, Decimal(low), Decimal(high), unit, why)


# Keys are the names users pass to --accept-implausible; values are checked in the unit shown.
BOUNDS: dict[str, Bound] = {b.field: b for b in (
    _b("usd_per_mtok", "0", "1000", "USD per 1M tokens",
       "the dearest public list price is about $600/Mtok; a value below $0.001 is a per-token price"),
    _b("amount_usd", "-100000000", "100000000", "USD per line",
       "one bill line above $100M is a unit or locale error"),
    _b("tokens", "0", "1000000000000000", "tokens per record", "10^15 tokens in one record is an overflow"),
    _b("utilization_pct", "0", "100", "percent", "utilisation is a share of time"),
    _b("power_watts", "0", "3000", "watts per GPU", "the largest accelerator boards draw about 1.5 kW"),
    _b("temperature_c", "-40", "150", "degrees Celsius", "GPUs throttle near 90 C and shut down by 105 C"),
    _b("fraction", "0", "1", "share", "a share of a whole"),
    _b("usd_per_gpu_hour", "0", "200", "USD per GPU-hour", "the dearest cloud GPU-hours cost about $15"),
    _b("monthly_budget_usd", "0", "100000000", "USD per month", "a monthly budget above $100M is a typo"),
)}


class ImplausibleValue(ValueError):
    """A value outside its plausibility bound; the message names the field, value, bound and override."""

    def __init__(self, field: str, value: object, bound: Bound, *, where: str = ""):
        self.field, self.value, self.bound = field, value, bound
        prefix = f"{where}: " if where else ""
        super().__init__(
            f"{prefix}{field} = {value} is outside the plausible range {bound.low}..{bound.high} {bound.unit} "
            f"({bound.why}); if it is real, pass --accept-implausible {bound.field}")


def check(kind: str, value: Decimal | float | int | None, *, field: str | None = None, where: str = "",
          accept: Iterable[str] = ()) -> None:
    """Raise ImplausibleValue when `value` is outside BOUNDS[kind], unless `kind` is accepted."""
    if value is None or kind in accept:
        return
    bound = BOUNDS[kind]
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite() or number < bound.low or number > bound.high:
        raise ImplausibleValue(field or kind, value, bound, where=where)


def markdown_table() -> str:
    """The bounds as a Markdown table (docs/ingest.md embeds it; a test keeps them equal)."""
    rows = ["| field (`--accept-implausible`) | low | high | unit | why |", "| --- | --- | --- | --- | --- |"]
    rows += [f"| `{b.field}` | {b.low} | {b.high} | {b.unit} | {b.why} |" for b in BOUNDS.values()]
    return "\n".join(rows)
