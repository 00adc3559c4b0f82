"""GPU side: catalogs, cost profiles, raw samples (partitioned) and hourly rollups."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.schema.base import Base, Dim, Money, MoneyOrNone, UtcTime


class GpuType(Base):
    """A GPU model with reference purchase and rental prices and power draw."""

    __tablename__ = "gpu_types"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    purchase_usd: Mapped[MoneyOrNone]
    rent_usd_per_gpu_hour: Mapped[MoneyOrNone]
    power_watts: Mapped[float | None] = mapped_column(Float)
    memory_gib: Mapped[float | None] = mapped_column(Float)
    source: Mapped[Dim]


class ModelThroughput(Base):
    """Tokens per second per replica of one model on one GPU type at one tensor-parallel size."""

    __tablename__ = "model_throughput"
    __table_args__ = (UniqueConstraint("model", "gpu_type", "tensor_parallel", name="uq_model_throughput_key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    model: Mapped[str] = mapped_column(String)
    gpu_type: Mapped[str] = mapped_column(String)
    tensor_parallel: Mapped[int] = mapped_column(Integer)
    input_tokens_per_s: Mapped[float] = mapped_column(Float)
    output_tokens_per_s: Mapped[float] = mapped_column(Float)
    source: Mapped[Dim]


class GpuCostProfile(Base):
    """What a pool of GPUs costs: bought (amortized, power, ops) or rented (hourly)."""

    __tablename__ = "gpu_cost_profiles"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    gpu_type: Mapped[str] = mapped_column(String)
    gpu_count: Mapped[int] = mapped_column(Integer)
    pricing: Mapped[str] = mapped_column(String)  # buy | rent
    host_pattern: Mapped[str] = mapped_column(String, server_default="*")
    hourly_rate_usd: Mapped[MoneyOrNone]
    purchase_price_usd: Mapped[MoneyOrNone]
    amortization_months: Mapped[int | None] = mapped_column(Integer)
    power_watts: Mapped[float | None] = mapped_column(Float)
    pue: Mapped[float | None] = mapped_column(Float)
    electricity_usd_per_kwh: Mapped[MoneyOrNone]
    ops_usd_per_gpu_month: Mapped[Money] = mapped_column(server_default="0")
    started_on: Mapped[date | None] = mapped_column(Date)
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class GpuSample(Base):
    """Raw GPU readings, range-partitioned by day on sampled_at; partitions made on demand."""

    __tablename__ = "gpu_samples"
    __table_args__ = (
        Index("ix_gpu_samples_gpu_uuid_sampled_at", "gpu_uuid", "sampled_at"),
        {"postgresql_partition_by": "RANGE (sampled_at)"},
    )

    sampled_at: Mapped[UtcTime] = mapped_column(primary_key=True)
    gpu_uuid: Mapped[str] = mapped_column(String, primary_key=True)
    mig_instance: Mapped[str] = mapped_column(String, primary_key=True, server_default="")
    source: Mapped[str] = mapped_column(String, primary_key=True)
    mig_profile: Mapped[Dim]  # GPU_I_PROFILE of a MIG instance, e.g. 3g.40gb
    host: Mapped[Dim]
    gpu_index: Mapped[int | None] = mapped_column(Integer)
    model_name: Mapped[Dim]
    utilization_pct: Mapped[float | None] = mapped_column(Float)
    memory_used_bytes: Mapped[int | None] = mapped_column(BigInteger)
    memory_total_bytes: Mapped[int | None] = mapped_column(BigInteger)
    power_watts: Mapped[float | None] = mapped_column(Float)
    energy_mj: Mapped[float | None] = mapped_column(Float)
    temperature_c: Mapped[float | None] = mapped_column(Float)
    sm_clock_mhz: Mapped[float | None] = mapped_column(Float)
    namespace: Mapped[Dim]
    pod: Mapped[Dim]
    container: Mapped[Dim]
    sm_active_frac: Mapped[float | None] = mapped_column(Float)  # DCGM_FI_PROF_SM_ACTIVE, 0..1
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class GpuHourly(Base):
    """Hourly rollup per GPU (or MIG instance); everything downstream reads this."""

    __tablename__ = "gpu_hourly"

    hour_at: Mapped[UtcTime] = mapped_column(primary_key=True)
    gpu_uuid: Mapped[str] = mapped_column(String, primary_key=True)
    mig_instance: Mapped[str] = mapped_column(String, primary_key=True, server_default="")
    mig_profile: Mapped[Dim]
    host: Mapped[Dim]
    model_name: Mapped[Dim]
    namespace: Mapped[Dim]
    pod: Mapped[Dim]
    samples: Mapped[int] = mapped_column(Integer)
    utilization_mean_pct: Mapped[float | None] = mapped_column(Float)
    utilization_max_pct: Mapped[float | None] = mapped_column(Float)
    busy_fraction: Mapped[float | None] = mapped_column(Float)  # share of samples above 5 % busy
    power_mean_watts: Mapped[float | None] = mapped_column(Float)
    memory_used_max_bytes: Mapped[int | None] = mapped_column(BigInteger)
    memory_total_bytes: Mapped[int | None] = mapped_column(BigInteger)
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")
    sm_active_mean_frac: Mapped[float | None] = mapped_column(Float)  # mean DCGM SM activity, 0..1


class InferenceSample(Base):
    """One scrape of one inference engine (vLLM): counters as read, gauges."""

    __tablename__ = "inference_samples"
    __table_args__ = (Index("ix_inference_samples_sampled_at", "sampled_at"),)

    sampled_at: Mapped[UtcTime] = mapped_column(primary_key=True)
    endpoint: Mapped[str] = mapped_column(String, primary_key=True)
    model_name: Mapped[str] = mapped_column(String, primary_key=True)
    engine: Mapped[str] = mapped_column(String, primary_key=True, server_default="")
    prompt_tokens_total: Mapped[float | None] = mapped_column(Float)
    generation_tokens_total: Mapped[float | None] = mapped_column(Float)
    requests_running: Mapped[float | None] = mapped_column(Float)
    requests_waiting: Mapped[float | None] = mapped_column(Float)
    kv_cache_usage_frac: Mapped[float | None] = mapped_column(Float)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class InferenceHourly(Base):
    """Hourly rollup per inference endpoint: tokens served, queue depth, saturation."""

    __tablename__ = "inference_hourly"

    hour_at: Mapped[UtcTime] = mapped_column(primary_key=True)
    endpoint: Mapped[str] = mapped_column(String, primary_key=True)
    model_name: Mapped[str] = mapped_column(String, primary_key=True)
    workload: Mapped[Dim]
    prompt_tokens: Mapped[float] = mapped_column(Float, server_default="0")
    generation_tokens: Mapped[float] = mapped_column(Float, server_default="0")
    requests_running_mean: Mapped[float | None] = mapped_column(Float)
    requests_waiting_mean: Mapped[float | None] = mapped_column(Float)
    requests_waiting_max: Mapped[float | None] = mapped_column(Float)
    kv_cache_max_frac: Mapped[float | None] = mapped_column(Float)
    saturated_seconds: Mapped[float] = mapped_column(Float, server_default="0")
    generation_tokens_per_s_saturated: Mapped[float | None] = mapped_column(Float)
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")




class InferenceLatencyBucket(Base):
    """One bucket of a vLLM latency histogram in one scrape: the cumulative count of observations <= le, as read."""

    __tablename__ = "inference_latency_buckets"
    __table_args__ = (Index("ix_inference_latency_buckets_sampled_at", "sampled_at"),)

    sampled_at: Mapped[UtcTime] = mapped_column(primary_key=True)
    endpoint: Mapped[str] = mapped_column(String, primary_key=True)
    model_name: Mapped[str] = mapped_column(String, primary_key=True)
    engine: Mapped[str] = mapped_column(String, primary_key=True, server_default="")
    metric: Mapped[str] = mapped_column(String, primary_key=True)  # ttft | itl
    le_seconds: Mapped[float] = mapped_column(Float, primary_key=True)  # upper bound; +Inf is 'Infinity'
    cumulative_count: Mapped[float] = mapped_column(Float)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")


class InferenceLatencyHourly(Base):
    """Observations a latency histogram gained in one hour per bucket (cumulative over le), engines summed."""

    __tablename__ = "inference_latency_hourly"

    hour_at: Mapped[UtcTime] = mapped_column(primary_key=True)
    endpoint: Mapped[str] = mapped_column(String, primary_key=True)
    model_name: Mapped[str] = mapped_column(String, primary_key=True)
    metric: Mapped[str] = mapped_column(String, primary_key=True)
    le_seconds: Mapped[float] = mapped_column(Float, primary_key=True)
    observations: Mapped[float] = mapped_column(Float, server_default="0")
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")
