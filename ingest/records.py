"""Typed records that sources yield and the loader writes.

Each record maps one-to-one onto a fact table in ``models.schema``. Sources
never touch the database: they yield these, and ``ingest.loader`` writes them.
Timestamps are timezone-aware UTC datetimes; money is ``Decimal``; token counts
are ints; memory is bytes; power is watts; energy is millijoules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class UsageHourly:
    """Token usage of one provider bucket (usually an hour), per dimension set."""

    provider: str
    account_id: str
    bucket_start_at: datetime
    bucket_end_at: datetime
    model: str = ""
    project_id: str = ""
    api_key_id: str = ""
    user_id: str = ""
    is_batch: bool = False
    service_tier: str = ""
    input_tokens: int = 0  # all input, cached and cache-write included
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0  # all cache writes, 5-minute and 1-hour
    output_tokens: int = 0  # reasoning included
    reasoning_tokens: int = 0
    num_requests: int = 0
    cache_write_1h_input_tokens: int = 0  # the 1-hour part of cache_write_input_tokens


@dataclass(frozen=True, slots=True)
class UsageRequest:
    """One request from a request log (OTel GenAI, LiteLLM, Langfuse, the client)."""

    source: str
    request_id: str
    started_at: datetime
    provider: str
    model: str
    account_id: str = ""
    endpoint_kind: str = "api"  # api | local
    project_id: str = ""
    api_key_id: str = ""
    user_id: str = ""
    team: str = ""
    workload_tag: str = ""
    tags: dict[str, Any] = field(default_factory=dict)
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    # Tokens a source's total counts beyond input and output (thinking, tool use): kept, never dropped.
    other_tokens: int = 0
    latency_ms: float | None = None
    status_code: int | None = None
    is_batch: bool = False
    fingerprint: str = ""
    reported_cost_usd: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CostLine:
    """One line of money from a cost API, a FOCUS export or an invoice.

    ``basis`` ranks the evidence: invoice > focus > cost_api > usage_price >
    request_estimate. ``source_line_key`` is the natural key within
    (basis, provider, account_id); re-loading the same line replaces it.
    """

    basis: str
    provider: str
    account_id: str
    source_line_key: str
    charge_period_start_at: datetime
    charge_period_end_at: datetime
    billed_cost: Decimal
    currency: str = "USD"
    effective_cost: Decimal | None = None
    list_cost: Decimal | None = None
    billing_period_start_at: datetime | None = None
    charge_category: str = "usage"  # usage|purchase|credit|refund|tax|adjustment
    ai_class: str = "token"  # token | gpu | other_ai | other
    project_id: str = ""
    api_key_id: str = ""
    sub_account_id: str = ""
    model: str = ""
    line_item: str = ""
    service_name: str = ""
    service_category: str = ""
    service_subcategory: str = ""
    sku_id: str = ""
    consumed_quantity: Decimal | None = None
    consumed_unit: str = ""
    tags: dict[str, Any] = field(default_factory=dict)
    charge_kind: str = "tokens"  # tokens | web_search | file_search | code_execution | images | fine_tuning | storage | other
    token_type: str = ""  # input | cached_input | cache_write_5m | cache_write_1h | output ('' unknown)
    tokens: int = 0  # tokens this line charges for, from the bill (0 when it does not say)
    export_id: int | None = None  # set by the loader: the FOCUS export the line belongs to


@dataclass(frozen=True, slots=True)
class Price:
    """An effective-dated token price for one provider and model, in USD per Mtok."""

    provider: str
    model: str
    effective_from: date
    input_usd_per_mtok: Decimal | None
    output_usd_per_mtok: Decimal | None
    cached_input_usd_per_mtok: Decimal | None = None
    cache_write_usd_per_mtok: Decimal | None = None  # 5-minute (or unspecified) cache writes
    batch_input_usd_per_mtok: Decimal | None = None
    batch_output_usd_per_mtok: Decimal | None = None
    above_context_tokens: int = 0  # tier: applies to requests above this context
    source: str = "manual"
    pending: bool = False  # a retroactive change, applied by `prices reprice`
    cache_write_1h_usd_per_mtok: Decimal | None = None  # 1-hour cache writes


@dataclass(frozen=True, slots=True)
class GpuSample:
    """One reading of one GPU (or MIG instance). Missing readings are None, never 0."""

    sampled_at: datetime
    host: str
    gpu_uuid: str
    source: str
    mig_instance: str = ""
    mig_profile: str = ""  # GPU_I_PROFILE of a MIG instance (3g.40gb): its share of the physical GPU
    gpu_index: int | None = None
    model_name: str = ""
    utilization_pct: float | None = None  # 0..100, engine-active preferred
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    power_watts: float | None = None
    energy_mj: float | None = None  # counter since driver load
    temperature_c: float | None = None
    sm_clock_mhz: float | None = None
    namespace: str = ""
    pod: str = ""
    container: str = ""
    sm_active_frac: float | None = None  # DCGM_FI_PROF_SM_ACTIVE, 0..1; stored beside utilization_pct


@dataclass(frozen=True, slots=True)
class InferenceSample:
    """One scrape of one inference-server engine (vLLM), counters as read."""

    sampled_at: datetime
    endpoint: str
    model_name: str
    engine: str = ""
    prompt_tokens_total: float | None = None
    generation_tokens_total: float | None = None
    requests_running: float | None = None
    requests_waiting: float | None = None
    kv_cache_usage_frac: float | None = None


@dataclass(frozen=True, slots=True)
class InferenceLatencyBucket:
    """One bucket of a vLLM latency histogram (ttft | itl) in one scrape: cumulative count of observations <= le."""

    sampled_at: datetime
    endpoint: str
    model_name: str
    metric: str  # ttft | itl
    le_seconds: float  # the bucket's upper bound; math.inf for +Inf
    cumulative_count: float
    engine: str = ""


@dataclass(frozen=True, slots=True)
class GpuHourlyAggregate:
    """One hour of one GPU (or MIG instance) already aggregated elsewhere (Prometheus/Thanos)."""

    hour_at: datetime
    gpu_uuid: str
    mig_instance: str = ""
    mig_profile: str = ""
    host: str = ""
    model_name: str = ""
    namespace: str = ""
    pod: str = ""
    samples: int = 0
    utilization_mean_pct: float | None = None
    utilization_max_pct: float | None = None
    busy_fraction: float | None = None  # share of the hour above the busy threshold
    power_mean_watts: float | None = None
    memory_used_max_bytes: int | None = None
    memory_total_bytes: int | None = None


RECORD_TYPES = (UsageHourly, UsageRequest, CostLine, Price, GpuSample, InferenceSample, InferenceLatencyBucket,
                GpuHourlyAggregate)
