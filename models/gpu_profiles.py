"""GPU cost profiles as people enter them (Data page, `hybridcost gpu-profile set`): parsed, bounded, audited.

A profile prices a pool of GPUs whose hosts match a glob (`gpu-node-*`):
- buy:  purchase USD per GPU / (amortization months x 730) + power W / 1000 x PUE x USD per kWh + ops / 730
- rent: hourly rate USD per GPU-hour + ops / 730
Every field is checked against its plausible range (models.bounds where it has one); a value
outside is refused with the unit it should be in. The write is `models.ledger.edits.save_gpu_profile`
(audited with the actor).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Engine

from models import bounds
from models.audit import row_dict
from models.ledger import LedgerError
from models.ledger.edits import delete_gpu_profile, save_gpu_profile


class ProfileError(ValueError):
    """A GPU cost profile edit was refused; the message names the field, the value and what is expected."""


@dataclass(frozen=True)
class Field:
    """One editable field: its label with unit, help text, kind and plausible range."""

    name: str
    label: str
    help: str
    kind: str  # text, int, money, float, date, pricing
    low: Decimal | None = None
    high: Decimal | None = None
    bound: str | None = None  # a models.bounds key checked as well


FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("gpu_type", "GPU type", "The GPU model, as in the catalog (H100, A100, L40S, ...).", "text"),
    Field("gpu_count", "GPUs in the pool", "How many GPUs this profile pays for: the pool's capacity is "
          "GPUs x 24 GPU-hours a day, used or idle.", "int", Decimal(1), Decimal(100_000)),
    Field("pricing", "Buy or rent", "buy: amortized purchase + power + ops; rent: hourly rate + ops.", "pricing"),
    Field("host_pattern", "Host pattern (glob)", "Hosts whose GPUs this pool is: * and ? wildcards, e.g. "
          "gpu-node-*. The most specific matching pattern wins.", "text"),
    Field("hourly_rate_usd", "Rent: USD per GPU-hour", "The rental price of one GPU for one hour (not per node, "
          "not per month).", "money", Decimal(0), Decimal(200), "usd_per_gpu_hour"),
    Field("purchase_price_usd", "Buy: purchase USD per GPU", "What one GPU cost (the server's price / its GPUs), "
          "amortized over the months below.", "money", Decimal(0), Decimal(1_000_000)),
    Field("amortization_months", "Buy: amortization (months)", "Months over which the purchase is spread "
          "(36 is common).", "int", Decimal(1), Decimal(120)),
    Field("power_watts", "Buy: power draw (W per GPU)", "Nameplate watts of one GPU, used for hours without "
          "power telemetry (measured watts are used where they exist).", "float", Decimal(0), Decimal(3000),
          "power_watts"),
    Field("pue", "Buy: PUE", "Power usage effectiveness of the data centre: total power / IT power (1.0-3.0).",
          "float", Decimal(1), Decimal(3)),
    Field("electricity_usd_per_kwh", "Buy: electricity (USD per kWh)", "What one kilowatt-hour costs.", "money",
          Decimal(0), Decimal(2)),
    Field("ops_usd_per_gpu_month", "Ops (USD per GPU-month)", "Operations per GPU per month (staff, support, "
          "space); /730 per GPU-hour.", "money", Decimal(0), Decimal(10_000)),
    Field("started_on", "In service from (UTC date)", "The first day the pool costs money; blank: always.", "date"),
)}
REQUIRED_NEW = ("gpu_type", "gpu_count", "pricing", "host_pattern")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_field(name: str, value: Any) -> Any:
    """One field's value parsed to its type and checked against its range; ProfileError says why not."""
    field = FIELDS.get(name)
    if field is None:
        raise ProfileError(f"unknown GPU profile field {name!r}; fields: {', '.join(FIELDS)}")
    if _blank(value):
        return None
    text = value.strip() if isinstance(value, str) else value
    if field.kind == "text":
        return str(text)
    if field.kind == "pricing":
        if text not in ("buy", "rent"):
            raise ProfileError(f"{field.label} must be buy or rent, not {value!r}")
        return text
    if field.kind == "date":
        if isinstance(text, date):
            return text
        try:
            return date.fromisoformat(str(text))
        except ValueError:
            raise ProfileError(f"{field.label} must be a date (YYYY-MM-DD), not {value!r}") from None
    try:
        number = Decimal(str(text))
    except InvalidOperation:
        raise ProfileError(f"{field.label} must be a number, not {value!r}") from None
    if not number.is_finite() or (field.low is not None and number < field.low) or \
            (field.high is not None and number > field.high):
        raise ProfileError(f"{field.label} = {value} is outside the plausible {field.low}..{field.high} "
                           f"({field.help})")
    if field.bound:
        try:
            bounds.check(field.bound, number, field=field.label)
        except bounds.ImplausibleValue as exc:
            raise ProfileError(str(exc).split("; if it is real")[0]) from None
    if field.kind == "int":
        if number != number.to_integral_value():
            raise ProfileError(f"{field.label} must be a whole number, not {value!r}")
        return int(number)
    return float(number) if field.kind == "float" else number


def parse_fields(values: dict[str, Any], *, new: bool) -> dict[str, Any]:
    """Every given field parsed; blanks dropped (an edit changes only what is given), a new profile complete."""
    parsed = {name: parse_field(name, value) for name, value in values.items()}
    fields = {k: v for k, v in parsed.items() if v is not None}
    if new:
        missing = [FIELDS[n].label for n in REQUIRED_NEW if n not in fields]
        pricing = fields.get("pricing")
        if pricing == "rent" and "hourly_rate_usd" not in fields:
            missing.append(FIELDS["hourly_rate_usd"].label)
        if pricing == "buy" and "purchase_price_usd" not in fields:
            missing.append(FIELDS["purchase_price_usd"].label)
        if missing:
            raise ProfileError(f"a new GPU profile needs: {', '.join(missing)}")
    return fields


def set_profile(engine: Engine, name: str, values: dict[str, Any], *, actor: str | None = None) -> tuple[int, bool]:
    """Create or change the profile `name` from entered values (audited); (profile id, created)."""
    name = (name or "").strip()
    if not name:
        raise ProfileError("a GPU profile needs a name")
    with engine.begin() as conn:
        before = row_dict(conn, "gpu_cost_profiles", "name = :n", {"n": name})
        fields = parse_fields(values, new=before is None)
        pricing = fields.get("pricing", before and before["pricing"])
        if before is not None and pricing == "rent" and fields.get("hourly_rate_usd", before["hourly_rate_usd"]) is None:
            raise ProfileError(f"a rented pool needs {FIELDS['hourly_rate_usd'].label}")
        if before is not None and pricing == "buy" and \
                fields.get("purchase_price_usd", before["purchase_price_usd"]) is None:
            raise ProfileError(f"a bought pool needs {FIELDS['purchase_price_usd'].label}")
        try:
            return save_gpu_profile(conn, name, fields, actor=actor), before is None
        except LedgerError as exc:
            raise ProfileError(str(exc)) from None


def remove_profile(engine: Engine, name: str, *, actor: str | None = None) -> None:
    """Delete the profile `name` (audited); ProfileError when there is none."""
    with engine.begin() as conn:
        try:
            delete_gpu_profile(conn, name, actor=actor)
        except LedgerError as exc:
            raise ProfileError(str(exc)) from None
