"""The economics contract of ECONOMICS.md: typed inputs, the formulas and ``simulate``.

Everything here is vectorised with numpy. Hours are sorted once by their work ``W_t``
and suffix sums of ``A_t`` and ``A_t / W_t`` give ``Total(R)`` for any replica count in
one ``searchsorted``. ``Total(R)`` is convex in R (a straight line plus a sum of convex
overflow terms), so the optimum is found by bisection on its slope in ``log2(R_peak)``
steps: no array ever grows with the demand or the replica count. The breakeven multiplier
is solved exactly on the piecewise linear function it is defined by. ``tests/economics`` holds a plain per-hour loop of the
same contract that this module is checked against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.economics.units import (
    HOURS_PER_MONTH,
    SECONDS_PER_HOUR,
    TOKENS_PER_MTOK,
    monthly_to_hourly,
)

TIE_TOLERANCE_USD = 1e-9
PEAK_TOLERANCE = 1e-9
# Above 2**53 replica counts stop being exact floats; such a plan is a unit error, not an answer.
MAX_REPLICAS = 10**15


class OutOfRangeError(ValueError):
    """Inputs whose figures cannot be represented (replicas beyond 10^15, costs beyond a float)."""


class ApiPricing(BaseModel):
    """Token prices of the API a workload runs on, in USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_per_mtok: float = Field(ge=0)
    cached_input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    batch_discount: float = Field(default=0.5, ge=0, le=1)
    batch_share: float = Field(default=0.0, ge=0, le=1)

    def scaled(self, factor: float) -> "ApiPricing":
        """Return the same pricing with every token price multiplied by ``factor``."""
        return self.model_copy(
            update={
                "input_per_mtok": self.input_per_mtok * factor,
                "cached_input_per_mtok": self.cached_input_per_mtok * factor,
                "output_per_mtok": self.output_per_mtok * factor,
            }
        )


_BUY_KEYS = ("purchase_price", "amortization_months", "power_watts", "pue", "electricity_per_kwh")


class GpuOption(BaseModel):
    """A rented or bought GPU serving a model, with per-replica throughput at saturation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pricing: Literal["rent", "buy"]
    hourly_rate: float | None = Field(default=None, ge=0)
    purchase_price: float | None = Field(default=None, ge=0)
    amortization_months: float | None = Field(default=None, gt=0)
    power_watts: float | None = Field(default=None, ge=0)
    pue: float | None = Field(default=None, ge=1)
    electricity_per_kwh: float | None = Field(default=None, ge=0)
    ops_per_gpu_month: float = Field(ge=0)
    replica_gpus: int = Field(default=1, ge=1)
    input_tokens_per_s: float = Field(gt=0)
    output_tokens_per_s: float = Field(gt=0)
    max_utilization: float = Field(default=0.8, gt=0, le=1)

    @model_validator(mode="after")
    def _mode_keys_present(self) -> "GpuOption":
        needed = ("hourly_rate",) if self.pricing == "rent" else _BUY_KEYS
        missing = [key for key in needed if getattr(self, key) is None]
        if missing:
            raise ValueError(f"{', '.join(missing)} required when pricing is {self.pricing}")
        return self


@dataclass(frozen=True)
class Demand:
    """Hourly token demand: one entry per consecutive hour, as float64 numpy arrays.

    ``peak_factor`` (contract v2 only) is each hour's busiest minute over its mean minute, NaN
    where the hour has none of its own; v1 figures never read it.
    """

    hour: np.ndarray
    input_tokens: np.ndarray
    cached_input_tokens: np.ndarray
    output_tokens: np.ndarray
    peak_factor: np.ndarray | None = None

    def __post_init__(self) -> None:
        arrays = (self.hour, self.input_tokens, self.cached_input_tokens, self.output_tokens)
        sizes = {a.shape[0] for a in arrays + (() if self.peak_factor is None else (self.peak_factor,))}
        if len(sizes) != 1:
            raise ValueError("demand arrays must all have one entry per hour")

    @property
    def hours(self) -> int:
        """Number of hours ``H`` in the table."""
        return int(self.input_tokens.shape[0])

    def scaled(self, factor: float) -> "Demand":
        """Return the same hourly shape with every token count multiplied by ``factor``."""
        return Demand(
            self.hour,
            self.input_tokens * factor,
            self.cached_input_tokens * factor,
            self.output_tokens * factor,
            self.peak_factor,
        )

    @classmethod
    def from_arrays(cls, input_tokens, cached_input_tokens, output_tokens, hour=None,
                    peak_factor=None) -> "Demand":
        """Build a demand table from sequences; hours default to 0..H-1 (hours since 1970-01-01 UTC)."""
        inp = np.asarray(input_tokens, dtype=np.float64)
        hour = np.arange(inp.shape[0]) if hour is None else np.asarray(hour)
        return cls(
            hour,
            inp,
            np.asarray(cached_input_tokens, dtype=np.float64),
            np.asarray(output_tokens, dtype=np.float64),
            None if peak_factor is None else np.asarray(peak_factor, dtype=np.float64),
        )


# --- the formulas, one function each --------------------------------------------------


def api_cost_per_hour(demand: Demand, api: ApiPricing) -> np.ndarray:
    """``A_t``: API cost of each hour, batch discount applied to the batch share."""
    uncached = demand.input_tokens - demand.cached_input_tokens
    usd = (
        uncached * api.input_per_mtok
        + demand.cached_input_tokens * api.cached_input_per_mtok
        + demand.output_tokens * api.output_per_mtok
    ) / TOKENS_PER_MTOK
    return usd * (1.0 - api.batch_share * api.batch_discount)


def gpu_hourly_cost(gpu: GpuOption) -> float:
    """``h``: cost of one GPU for one hour (rent or amortised purchase + power), ops included."""
    ops = monthly_to_hourly(gpu.ops_per_gpu_month)
    if gpu.pricing == "rent":
        return float(gpu.hourly_rate) + ops
    capex = gpu.purchase_price / (gpu.amortization_months * HOURS_PER_MONTH)
    power = gpu.power_watts / 1000.0 * gpu.pue * gpu.electricity_per_kwh
    return capex + power + ops


def replica_hourly_cost(gpu: GpuOption) -> float:
    """``h_rep = h * replica_gpus``: cost of one model replica for one hour."""
    return gpu_hourly_cost(gpu) * gpu.replica_gpus


def replica_work(demand: Demand, gpu: GpuOption) -> np.ndarray:
    """``W_t``: replica-seconds of work in each hour (prefill plus decode)."""
    return demand.input_tokens / gpu.input_tokens_per_s + demand.output_tokens / gpu.output_tokens_per_s


def replica_capacity(gpu: GpuOption) -> float:
    """``cap = 3600 * max_utilization``: replica-seconds one replica may serve per hour."""
    return SECONDS_PER_HOUR * gpu.max_utilization


def peak_replicas(work: np.ndarray, cap: float) -> int:
    """``R_peak = max_t ceil(W_t / cap - 1e-9)``; 0 for no hours or no work."""
    if work.size == 0:
        return 0
    return max(0, int(np.ceil(work.max() / cap - PEAK_TOLERANCE)))


def breakeven_utilization(h_rep: float, api_total: float, work_total: float) -> float | None:
    """Share of time a replica must be busy to pay for itself; None with no demand or API cost."""
    if work_total <= 0 or api_total <= 0:
        return None
    return h_rep / (SECONDS_PER_HOUR * api_total / work_total)


# --- the fast core --------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedWorkload:
    """Hours with work, sorted by ``W_t`` ascending, with suffix sums for fast ``Total(R)``."""

    work_sorted: np.ndarray
    api_sorted: np.ndarray  # A_t in the same order
    suffix_api: np.ndarray  # suffix_api[i] = sum_{j >= i} A_j (length n + 1)
    suffix_api_per_work: np.ndarray  # sum_{j >= i} A_j / W_j
    api_total: float
    work_total: float
    tokens_total: float
    hours: int
    cap: float
    h_rep: float

    def peak(self, k: float = 1.0) -> int:
        """``R_peak`` with every hour's demand scaled by ``k`` (OutOfRangeError beyond 10^15 replicas)."""
        if self.work_sorted.size == 0 or k <= 0:
            return 0
        replicas = np.ceil(k * self.work_sorted[-1] / self.cap - PEAK_TOLERANCE)
        if not replicas <= MAX_REPLICAS:  # also catches inf and nan
            raise OutOfRangeError(
                f"the peak hour needs more than {MAX_REPLICAS:.0e} replicas: the demand or the throughput "
                "is out of range (check the units: tokens per second per replica)")
        return max(0, int(replicas))

    def totals(self, replicas: np.ndarray, k: float | np.ndarray = 1.0) -> np.ndarray:
        """``Total(R)`` over the file's hours for each R (broadcast against demand scale ``k``)."""
        replicas = np.asarray(replicas, dtype=np.float64)
        k = np.asarray(k, dtype=np.float64)
        served = replicas * self.cap
        with np.errstate(divide="ignore", invalid="ignore"):
            threshold = np.where(k > 0, served / np.where(k > 0, k, 1.0), np.inf)
        idx = np.searchsorted(self.work_sorted, threshold, side="right")
        overflow = k * self.suffix_api[idx] - served * self.suffix_api_per_work[idx]
        # Cancellation can leave a hair below zero when nothing overflows.
        overflow = np.maximum(overflow, 0.0)
        return replicas * self.h_rep * self.hours + overflow


def prepare(demand: Demand, api: ApiPricing | None, gpu: GpuOption,
            api_costs: np.ndarray | None = None) -> PreparedWorkload:
    """Sort the hours by work once so every later query is a searchsorted away.

    ``api_costs`` gives ``A_t`` directly (priced per model from the database) instead of
    computing it from one ApiPricing.
    """
    a = api_cost_per_hour(demand, api) if api_costs is None else np.asarray(api_costs, dtype=np.float64)
    w = replica_work(demand, gpu)
    busy = w > 0
    order = np.argsort(w[busy], kind="stable")
    ws, as_ = w[busy][order], a[busy][order]

    def suffix(x: np.ndarray) -> np.ndarray:
        """suffix[i] = sum of x[i:], with a trailing 0."""
        out = np.zeros(x.size + 1)
        out[:-1] = np.cumsum(x[::-1])[::-1]
        return out

    return PreparedWorkload(
        work_sorted=ws,
        api_sorted=as_,
        suffix_api=suffix(as_),
        suffix_api_per_work=suffix(as_ / ws),
        api_total=float(a.sum()),
        work_total=float(w.sum()),
        tokens_total=float(demand.input_tokens.sum() + demand.output_tokens.sum()),
        hours=demand.hours,
        cap=replica_capacity(gpu),
        h_rep=replica_hourly_cost(gpu),
    )


def optimal_from_totals(totals: np.ndarray) -> int:
    """Index of the lowest total; totals within 1e-9 USD of the minimum tie to the smaller R."""
    best = float(totals.min())
    return int(np.flatnonzero(totals <= best + TIE_TOLERANCE_USD)[0])


def best_replicas(prep: PreparedWorkload, k: float | np.ndarray = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The R in ``0..R_peak(k)`` with the lowest ``Total(R)`` at each demand scale k, and that total.

    ``Total`` is convex in R, so its slope ``Total(R+1) - Total(R)`` never decreases: bisection
    finds the first R where it stops falling, then the smallest R within 1e-9 USD of that
    minimum (the contract's tie rule). Memory is O(len(k)) whatever the replica count.
    """
    ks = np.atleast_1d(np.asarray(k, dtype=np.float64))
    peaks = np.array([prep.peak(float(x)) for x in ks], dtype=np.float64)
    lo, hi = np.zeros_like(peaks), peaks.copy()
    while np.any(lo < hi):  # smallest R with R == peak or Total(R + 1) >= Total(R)
        mid = np.floor((lo + hi) / 2)
        rising = prep.totals(mid + 1, ks) >= prep.totals(mid, ks)
        active = lo < hi
        hi = np.where(active & rising, mid, hi)
        lo = np.where(active & ~rising, mid + 1, lo)
    best = prep.totals(lo, ks)
    low, high = np.zeros_like(lo), lo.copy()
    while np.any(low < high):  # smallest R in 0..R* within the tie tolerance (Total falls up to R*)
        mid = np.floor((low + high) / 2)
        close = prep.totals(mid, ks) <= best + TIE_TOLERANCE_USD
        active = low < high
        high = np.where(active & close, mid, high)
        low = np.where(active & ~close, mid + 1, low)
    return low.astype(np.int64), prep.totals(low, ks)


def hybrid_total(demand: Demand, api: ApiPricing, gpu: GpuOption, replicas: int) -> float:
    """``Total(R)``: R replicas for every hour plus the API cost of what overflows them."""
    return float(prepare(demand, api, gpu).totals(np.array([float(replicas)]))[0])


def optimal_replicas(demand: Demand, api: ApiPricing, gpu: GpuOption) -> int:
    """The R in 0..R_peak with the lowest ``Total(R)`` (ties to the smaller R)."""
    replicas, _ = best_replicas(prepare(demand, api, gpu))
    return int(replicas[0])


def breakeven_monthly_tokens(prep: PreparedWorkload, multiplier: float | None) -> float | None:
    """``k * sum_t (I_t + O_t) * 730 / H``; None with the multiplier."""
    if multiplier is None or not prep.hours:
        return None
    return multiplier * prep.tokens_total * HOURS_PER_MONTH / prep.hours


def breakeven_multiplier(prep: PreparedWorkload) -> float | None:
    """Infimum k > 0 with ``sum_t min(k A_t, cap A_t / W_t) > h_rep H``; None where no k does.

    ``S(k)`` is concave and piecewise linear with a kink at each hour's ``tau_t = cap / W_t``.
    Sorting by ``tau`` (ascending = ``W`` descending) gives ``S`` at every kink from prefix sums;
    the first kink at or above the target brackets the answer on one straight segment.
    """
    target = prep.h_rep * prep.hours
    n = prep.work_sorted.size
    if n == 0:
        return None
    # Reverse the W-ascending arrays so tau runs ascending.
    work = prep.work_sorted[::-1]
    api = prep.api_sorted[::-1]
    tau = prep.cap / work
    capped = prep.cap * api / work  # what hour j adds once k >= tau_j
    ceiling = float(capped.sum())
    if not ceiling > target:
        return None
    if target <= 0:
        return 0.0
    capped_before = np.concatenate(([0.0], np.cumsum(capped)[:-1]))
    api_from = np.cumsum(api[::-1])[::-1]  # A of the hours still growing linearly at tau_j
    at_kink = capped_before + tau * api_from  # S(tau_j)
    reached = at_kink >= target
    if not reached.any():  # float edge: S only reaches the ceiling past the last kink
        return float(tau[-1])
    j = int(np.argmax(reached))
    return float((target - capped_before[j]) / api_from[j])


# --- simulate -------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulationResult:
    """The ECONOMICS.md outputs of one scenario."""

    hours: int
    api_only_cost: float
    gpu_hourly_cost: float
    peak_replicas: int
    gpu_only_cost: float
    optimal_replicas: int
    hybrid_cost: float
    breakeven_utilization: float | None
    breakeven_demand_multiplier: float | None
    breakeven_monthly_tokens: float | None
    replica_gpus: int = 1

    @property
    def replica_can_pay(self) -> bool:
        """True when some volume with this hourly shape lets one replica pay for itself."""
        return self.breakeven_demand_multiplier is not None

    def monthly(self, total: float) -> float:
        """Scale a total over this file's hours to a 730-hour month."""
        return total * HOURS_PER_MONTH / self.hours if self.hours else 0.0

    def as_contract_dict(self) -> dict[str, Any]:
        """Exactly the output keys of ECONOMICS.md, with JSON-ready types."""
        return {
            "hours": int(self.hours),
            "api_only_cost": float(self.api_only_cost),
            "gpu_hourly_cost": float(self.gpu_hourly_cost),
            "peak_replicas": int(self.peak_replicas),
            "gpu_only_cost": float(self.gpu_only_cost),
            "optimal_replicas": int(self.optimal_replicas),
            "hybrid_cost": float(self.hybrid_cost),
            "breakeven_utilization": _opt(self.breakeven_utilization),
            "replica_can_pay": bool(self.replica_can_pay),
            "breakeven_demand_multiplier": _opt(self.breakeven_demand_multiplier),
            "breakeven_monthly_tokens": _opt(self.breakeven_monthly_tokens),
        }


def _opt(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def simulate_prepared(prep: PreparedWorkload, gpu: GpuOption) -> SimulationResult:
    """Run the contract on an already prepared workload."""
    r_peak = prep.peak()
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below, in words
        replicas, totals = best_replicas(prep)
        k = breakeven_multiplier(prep)
    money = (prep.api_total, gpu_hourly_cost(gpu), r_peak * prep.h_rep * prep.hours, float(totals[0]))
    if not all(math.isfinite(x) for x in money):
        raise OutOfRangeError("a cost is beyond what can be computed (above 1e308 USD): check the prices, "
                              "rates and token counts for a unit error")
    return SimulationResult(
        hours=prep.hours,
        api_only_cost=prep.api_total,
        gpu_hourly_cost=gpu_hourly_cost(gpu),
        peak_replicas=r_peak,
        gpu_only_cost=r_peak * prep.h_rep * prep.hours,
        optimal_replicas=int(replicas[0]),
        hybrid_cost=float(totals[0]),
        breakeven_utilization=breakeven_utilization(prep.h_rep, prep.api_total, prep.work_total),
        breakeven_demand_multiplier=k,
        breakeven_monthly_tokens=breakeven_monthly_tokens(prep, k),
        replica_gpus=gpu.replica_gpus,
    )


def simulate(demand: Demand, api: ApiPricing | None, gpu: GpuOption,
             api_costs: np.ndarray | None = None) -> SimulationResult:
    """Compute every ECONOMICS.md output for one demand table, API pricing and GPU option."""
    return simulate_prepared(prepare(demand, api, gpu, api_costs), gpu)
