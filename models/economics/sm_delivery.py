"""GPUs that look busy but produce little: tokens per SM-active GPU against the model's curve, in dollars.

Inputs are per GPU set and hour (models/queries/sm_activity.endpoint_sm_hours): the generated and
prompt tokens of the set's vLLM servers, and the SM activity of its GPUs summed (``sm_active_gpus``:
two GPUs at 40 % SM activity are 0.8 SM-active GPUs). The model's curve gives the saturation rates
per GPU (``in``, ``out``, prefill and decode, as the plan's work model prices them); at the hour's
own mix rho = prompt / generated tokens its output rate per GPU is ``1 / (rho / in + 1 / out)``.
The rule, stated in docs/economics.md ("Busy-looking GPUs"):

- GPU-hours of work delivered = generated tokens / (3600 x that rate): what the curve needs to
  produce them;
- delivered share = delivered GPU-hours / SM-active GPU-hours (the curve is read as what a GPU
  makes with its SMs fully active, so this is generous to the GPUs: a curve point below full SM
  activity would make the share lower);
- capacity not delivered = max(0, SM-active GPU-hours - delivered GPU-hours) x USD per GPU-hour:
  the GPU time the SMs were busy for that the tokens do not account for. Idle time (SMs not
  active) is the fleet page's idle cost already and is not counted again.
"""

from __future__ import annotations

import polars as pl

BUSY_LOOKING_UTIL_PCT = 50.0  # a GPU whose utilisation reads at least this ...
BUSY_LOOKING_SM_RATIO = 0.5  # ... while its SM activity is under half of it looks busier than it is

DELIVERY_SCHEMA = {
    "mapping": pl.String, "target": pl.String, "endpoints": pl.String, "workload": pl.String,
    "model_name": pl.String, "host": pl.String, "gpus": pl.Int64, "hours": pl.Int64,
    "utilization_mean_pct": pl.Float64, "sm_active_mean_frac": pl.Float64, "generation_tokens": pl.Float64,
    "sm_active_gpu_hours": pl.Float64, "tokens_per_s_per_sm_gpu": pl.Float64,
    "curve_output_tokens_per_s_per_gpu": pl.Float64, "delivered_frac": pl.Float64,
    "not_delivered_gpu_hours": pl.Float64, "usd_per_gpu_hour": pl.Float64, "capacity_not_delivered_usd": pl.Float64,
    "reference_source": pl.String, "note": pl.String,
}


def delivery(sets: pl.DataFrame, reference: pl.DataFrame, costs: pl.DataFrame) -> pl.DataFrame:
    """Per GPU set over the period: SM activity, tokens per SM-active GPU, share of the curve delivered, dollars."""
    if sets.is_empty():
        return pl.DataFrame(schema=DELIVERY_SCHEMA)
    hourly = (sets.join(reference, on=["workload", "model_name", "gpu_model"], how="left")
              .join(costs, on="host", how="left")
              .with_columns(measured=(pl.col("gpus_with_sm") > 0) & (pl.col("sm_active_gpus") > 0)))
    rate = 1.0 / ((pl.col("prompt_tokens") / pl.col("generation_tokens")) / pl.col("input_tokens_per_s_per_gpu")
                  + 1.0 / pl.col("output_tokens_per_s_per_gpu"))
    hourly = hourly.with_columns(
        delivered_gpu_hours=pl.when(pl.col("measured") & (pl.col("generation_tokens") > 0))
        .then(pl.col("generation_tokens") / (3600.0 * rate))
        .when(pl.col("measured") & pl.col("output_tokens_per_s_per_gpu").is_not_null()).then(0.0))
    m = pl.col("measured")
    delivered = pl.col("delivered_gpu_hours").filter(m)
    out = hourly.group_by("mapping", "target").agg(
        pl.col("endpoints").unique().sort().str.join(", "), pl.col("workload").first(),
        pl.col("model_name").first(), pl.col("host").drop_nulls().first(), pl.col("gpus").max(),
        m.sum().cast(pl.Int64).alias("hours"),
        pl.col("utilization_mean_pct").filter(m).mean(),
        (pl.col("sm_active_gpus").filter(m).sum() / pl.col("gpus_with_sm").filter(m).sum()).alias(
            "sm_active_mean_frac"),
        pl.col("generation_tokens").filter(m).sum(),
        pl.col("sm_active_gpus").filter(m).sum().alias("sm_active_gpu_hours"),
        pl.when(delivered.count() > 0).then(delivered.sum()).alias("delivered_gpu_hours"),
        pl.col("usd_per_gpu_hour").first(), pl.col("reference_source").first(),
        pl.when(delivered.sum() > 0).then(
            pl.col("generation_tokens").filter(m & pl.col("delivered_gpu_hours").is_not_null()).sum()
            / (3600.0 * delivered.sum())).alias("curve_output_tokens_per_s_per_gpu"),
    )
    sm_hours = pl.col("sm_active_gpu_hours")
    out = out.with_columns(
        tokens_per_s_per_sm_gpu=pl.when(sm_hours > 0).then(pl.col("generation_tokens") / (3600.0 * sm_hours)),
        delivered_frac=pl.when(sm_hours > 0).then(pl.col("delivered_gpu_hours") / sm_hours),
        not_delivered_gpu_hours=(sm_hours - pl.col("delivered_gpu_hours")).clip(lower_bound=0.0),
    ).with_columns(capacity_not_delivered_usd=pl.col("not_delivered_gpu_hours") * pl.col("usd_per_gpu_hour"))
    notes = [_note(r) for r in out.iter_rows(named=True)]
    return (out.with_columns(pl.Series("note", notes, pl.String)).select(list(DELIVERY_SCHEMA))
            .cast(DELIVERY_SCHEMA).sort("mapping", "target"))


def _note(r: dict) -> str:
    if r["mapping"] == "none":
        return ("cannot be mapped to GPUs: the endpoint is recorded without a host (a file or text), or no GPU "
                "reports its host or pod")
    if not r["hours"]:
        return "no SM activity reported for these GPUs (DCGM_FI_PROF_SM_ACTIVE needs a custom dcgm-exporter counters file)"
    if r["curve_output_tokens_per_s_per_gpu"] is None:
        return "no curve for this model on this GPU type in the plan or the throughput catalog: no dollars"
    if r["usd_per_gpu_hour"] is None:
        return "no cost profile matches the host: GPU-hours, no dollars"
    return ""


def _pct(frac: float) -> str:
    return f"{100 * frac:.1f} %" if frac < 0.1 else f"{100 * frac:.0f} %"


def _usd(amount: float) -> str:
    return f"${amount:,.2f}" if amount < 100 else f"${amount:,.0f}"


def delivery_sentences(rows: pl.DataFrame) -> list[str]:
    """One plain sentence per GPU set with figures: utilisation beside SM activity, tokens against the curve, dollars."""
    out = []
    for r in rows.filter(pl.col("hours") > 0).iter_rows(named=True):
        who = f"{r['target']} ({r['gpus']} GPU{'s' if r['gpus'] != 1 else ''}, {r['endpoints']}" + (
            f", {r['workload']})" if r["workload"] else ")")
        text = (f"{who}: utilization read {r['utilization_mean_pct']:.0f} % but only {100 * r['sm_active_mean_frac']:.0f} % "
                f"of SM time was active; {r['tokens_per_s_per_sm_gpu']:,.0f} output tok/s per SM-active GPU")
        if r["curve_output_tokens_per_s_per_gpu"] is not None:
            text += (f" against {r['curve_output_tokens_per_s_per_gpu']:,.0f} on the model's curve "
                     f"({_pct(r['delivered_frac'])} delivered)")
            if r["capacity_not_delivered_usd"] is not None:
                text += (f": {_usd(r['capacity_not_delivered_usd'])} of busy GPU time "
                         f"({r['not_delivered_gpu_hours']:,.1f} GPU-hours) produced no tokens")
        out.append(text + ".")
    return out


def busy_looking(gpus: pl.DataFrame) -> pl.DataFrame:
    """GPUs whose utilisation reads high while their SMs were mostly idle (models/queries/sm_activity.gpu_sm_activity)."""
    return gpus.filter(pl.col("utilization_mean_pct") >= BUSY_LOOKING_UTIL_PCT,
                       pl.col("sm_active_mean_frac") * 100.0 < BUSY_LOOKING_SM_RATIO * pl.col("utilization_mean_pct"))


def busy_looking_sentences(gpus: pl.DataFrame) -> list[str]:
    """'GPU-… on host: utilization 95 % beside 18 % of SMs active' for every busy-looking GPU."""
    return [f"{r['gpu_uuid']} on {r['host'] or 'an unnamed host'}: utilization {r['utilization_mean_pct']:.0f} % beside "
            f"{100 * r['sm_active_mean_frac']:.0f} % of SMs active over {r['hours']:,} hours: it looks busy but does little "
            "work per cycle" for r in busy_looking(gpus).iter_rows(named=True)]
