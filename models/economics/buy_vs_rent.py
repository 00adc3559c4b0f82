"""Buy versus rent versus tokens: cash payback of a GPU purchase for one workload.

The contract's ``h`` for a bought GPU spreads the purchase over the amortization months; a
payback question needs cash instead: the purchase (plus a one-off migration) is paid up front,
after which a bought GPU costs only power and operations each month. Payback months is the
up-front cash divided by the monthly saving; with no saving there is no payback (None).

- Bought replicas: the contract's optimal replica count for the buy option (or ``replicas``).
- Tokens: the API-only monthly cost.
- Renting: the contract's best hybrid with the rent option at its own optimal replica count.
  Migration is paid either way when leaving tokens, so payback vs renting counts the purchase only.
- Over the term, a bought GPU is sold for ``residual_value_fraction`` of its purchase price.

With under four weeks (672 hours) of demand the answer would rest on too little history, so
the result says "insufficient history" and carries no figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from models.economics.contract import ApiPricing, Demand, GpuOption, PreparedWorkload, best_replicas, prepare
from models.economics.units import HOURS_PER_MONTH, monthly_to_hourly

MIN_HISTORY_HOURS = 672


@dataclass(frozen=True)
class BuyVsRentResult:
    """Payback of buying replicas against staying on tokens and against renting."""

    status: str  # "ok" | "insufficient history"
    message: str
    self_hosted_model: str
    hours: int
    term_months: float
    replicas: int = 0
    gpus: int = 0
    purchase_usd: float | None = None
    migration_usd: float | None = None
    tokens_monthly_usd: float | None = None
    rent_replicas: int | None = None
    rent_monthly_usd: float | None = None
    buy_running_monthly_usd: float | None = None
    payback_vs_tokens_months: float | None = None
    payback_vs_rent_months: float | None = None
    residual_value_usd: float | None = None
    term_cost_tokens_usd: float | None = None
    term_cost_rent_usd: float | None = None
    term_cost_buy_usd: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The result as a plain dict (JSON-ready)."""
        return asdict(self)


def _hybrid_monthly(prep: PreparedWorkload, replicas: int | None) -> tuple[int, float, float]:
    """(replicas, overflow USD per month, replica USD per month at the contract's h)."""
    if replicas is None:
        replicas = int(best_replicas(prep)[0][0])
    total = float(prep.totals(np.array([float(replicas)]))[0])
    fleet = replicas * prep.h_rep * prep.hours
    scale = HOURS_PER_MONTH / prep.hours
    return replicas, (total - fleet) * scale, fleet * scale


def _payback(upfront: float, saving_per_month: float) -> float | None:
    return upfront / saving_per_month if saving_per_month > 0 else None


def buy_vs_rent(
    demand: Demand,
    api: ApiPricing | None,
    buy: GpuOption,
    rent: GpuOption,
    *,
    term_months: float = 36,
    residual_value_fraction: float = 0.0,
    migration_cost_usd: float = 0.0,
    self_hosted_model: str = "",
    replicas: int | None = None,
    api_costs: np.ndarray | None = None,
) -> BuyVsRentResult:
    """Payback months of buying GPUs vs tokens and vs renting, and costs over the term.

    ``api_costs`` gives each hour's API cost directly (priced per model from the database),
    as in ``contract.prepare``; then ``api`` may be None.
    """
    if buy.pricing != "buy" or rent.pricing != "rent":
        raise ValueError("buy must use pricing 'buy' and rent must use pricing 'rent'")
    if not 0 <= residual_value_fraction <= 1:
        raise ValueError("residual_value_fraction must be between 0 and 1")
    if term_months <= 0 or migration_cost_usd < 0:
        raise ValueError("term_months must be above zero and migration_cost_usd not negative")
    base = dict(self_hosted_model=self_hosted_model, hours=demand.hours, term_months=term_months)
    if demand.hours < MIN_HISTORY_HOURS:
        return BuyVsRentResult(
            status="insufficient history",
            message=(f"insufficient history: {demand.hours} hours of demand, at least "
                     f"{MIN_HISTORY_HOURS} (4 weeks) are needed before a purchase can be judged"),
            **base,
        )
    bought = prepare(demand, api, buy, api_costs)
    tokens_monthly = float(bought.api_total) * HOURS_PER_MONTH / demand.hours
    n, buy_overflow, _ = _hybrid_monthly(bought, replicas)
    gpus = n * buy.replica_gpus
    running_per_gpu_hour = buy.power_watts / 1000 * buy.pue * buy.electricity_per_kwh \
        + monthly_to_hourly(buy.ops_per_gpu_month)
    buy_running = gpus * running_per_gpu_hour * HOURS_PER_MONTH + buy_overflow
    rent_n, rent_overflow, rent_fleet = _hybrid_monthly(prepare(demand, api, rent, api_costs), None)
    rent_monthly = rent_fleet + rent_overflow
    purchase = gpus * float(buy.purchase_price)
    residual = purchase * residual_value_fraction
    vs_tokens = _payback(purchase + migration_cost_usd, tokens_monthly - buy_running) if n else None
    vs_rent = _payback(purchase, rent_monthly - buy_running) if n else None
    noun = f"{gpus} bought GPU{'s' if gpus != 1 else ''}"
    if n == 0:
        message = "buying does not pay: the best plan for this workload owns no replicas"
    elif vs_tokens is None:
        message = f"{noun} never pay{'s' if gpus == 1 else ''} back against tokens at this volume"
    else:
        within = "within" if vs_tokens <= term_months else "after"
        message = f"{noun} pay{'s' if gpus == 1 else ''} back against tokens in {vs_tokens:.1f} months, {within} the term"
    return BuyVsRentResult(
        status="ok",
        message=message,
        replicas=n,
        gpus=gpus,
        purchase_usd=purchase,
        migration_usd=migration_cost_usd,
        tokens_monthly_usd=tokens_monthly,
        rent_replicas=rent_n,
        rent_monthly_usd=rent_monthly,
        buy_running_monthly_usd=buy_running,
        payback_vs_tokens_months=vs_tokens,
        payback_vs_rent_months=vs_rent,
        residual_value_usd=residual,
        term_cost_tokens_usd=tokens_monthly * term_months,
        term_cost_rent_usd=(migration_cost_usd if rent_n else 0.0) + rent_monthly * term_months,
        term_cost_buy_usd=(purchase + migration_cost_usd if n else 0.0) + buy_running * term_months - residual,
        **base,
    )
