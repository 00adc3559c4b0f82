"""`hybridcost plan`: each workload's self-hosted candidate (set, show, clear), the pairing catalog, refresh.

`plan show` prints the planning path's figures, the same ones the Workloads page, Breakeven,
What-if, the weekly report, the exporter and `simulate --workload` show for the same period.
"""

from __future__ import annotations

import json

import typer

from app.cli import context
from app.cli.dates import SinceOption, UntilOption, utc_window
from app.cli.errors import UserError
from models import clock
from models.edits import EditError
from models.planning import PlanFigures, plan_workload, precomputed
from models.planning.pairing import catalog_rows
from models.planning.plans import NO_LOCAL, SELF_HOST, Plan, clear_plan, set_plan
from models.queries import workload_view

app = typer.Typer(help="Each workload's self-hosted candidate: the plan every surface compares against.",
                  no_args_is_help=True)


def _workloads(workload: str | None) -> list[str]:
    with context.engine().connect() as conn:
        names = workload_view.workloads(conn)["name"].to_list()
    if workload is None:
        return list(names)
    if workload not in names:
        raise UserError(f"unknown workload {workload!r} (known: {', '.join(names) or 'none'})")
    return [workload]


def figures_for(workload: str, since: str | None, until: str | None) -> PlanFigures:
    """The planning path for one workload over the CLI's UTC-day window (default: the last 30 days)."""
    start, end = utc_window(since, until)
    with context.engine().connect() as conn:
        return plan_workload(conn, workload, start, end, now=clock.now())


def summary_lines(f: PlanFigures) -> list[str]:
    """The figures for people: candidate, tokens alone in two parts, the plan, the move date, the measurement."""
    lines = [f"{f.workload}: {f.since:%Y-%m-%d %H:%M} to {f.until:%Y-%m-%d %H:%M} UTC ({f.hours:,} hours)",
             f"  candidate: {f.candidate.describe()}"]
    if f.candidate.throughput_note:
        lines.append(f"  throughput source: {f.candidate.throughput_note}")
    if f.status != "assessed":
        return lines + [f"  not assessed: {f.message}"]
    lines.append(f"  {f.tokens_alone_words()}")
    res = f.result
    if res is not None:
        gpu_only = ("GPU only n/a: no replica meets the SLO" if res.gpu_only_cost is None else
                    f"GPU only ${f.monthly(res.gpu_only_cost):,.0f}/month for {res.peak_replicas:,} "
                    f"replica{'' if res.peak_replicas == 1 else 's'}")
        lines += [f"  best plan: {f.action}: ${f.monthly(res.hybrid_cost):,.0f}/month ({gpu_only})",
                  "  first replica pays at: " + ("never at this hourly shape" if res.breakeven_monthly_tokens is None
                                                 else f"{res.breakeven_monthly_tokens / 1e6:,.0f}M tokens/month"),
                  f"  move date: first replica {f.move.first_replica_words}; full move {f.move.full_move_words}"]
    if f.measured is not None:
        lines.append(f"  {f.measured.sentence()}")
        if f.measured_result is not None:
            m = f.measured_result
            lines.append(f"  at the measured throughput: {m.optimal_replicas:,} replicas, "
                         f"${f.monthly(m.hybrid_cost):,.0f}/month")
    lines += [f"  {line}" for line in f.inputs_lines()]
    if f.flip_sentence:
        lines.append(f"  {f.flip_sentence}")
    lines.append(f"  {f.sentence()}")
    return lines


def show(
    workload: str = typer.Argument(None, help="One workload (default: all)."),
    since: str = SinceOption,
    until: str = UntilOption,
    as_json: bool = typer.Option(False, "--json", help="The figures as JSON (no Infinity or NaN)."),
) -> None:
    """The candidate and the figures per workload, from the one planning path."""
    figures = [figures_for(name, since, until) for name in _workloads(workload)]
    if as_json:
        typer.echo(json.dumps([f.as_dict() for f in figures], indent=2, allow_nan=False))
        return
    for f in figures:
        typer.echo("\n".join(summary_lines(f)))


def _replaces(text: str | None) -> tuple[str, str]:
    if not text:
        return "", ""
    if "/" not in text:
        raise UserError(f"--replaces {text!r}: write provider/model, e.g. openai/o3")
    provider, model = text.split("/", 1)
    return provider.strip(), model.strip()


def set_command(
    workload: str = typer.Argument(..., help="The workload."),
    model: str = typer.Option(None, "--model", help="Open model served (a throughput catalog name for "
                                                     "published throughput), e.g. 'Llama 3.3 70B FP8'."),
    gpu: str = typer.Option(None, "--gpu", help="GPU type, e.g. H100."),
    tp: int = typer.Option(None, "--tp", help="Tensor-parallel size: GPUs per replica."),
    pricing: str = typer.Option("rent", "--pricing", help="rent or buy."),
    throughput: str = typer.Option("published", "--throughput",
                                   help="published (the catalog), measured (this workload's vLLM servers, "
                                        "over --since/--until) or entered (--input-tps/--output-tps)."),
    input_tps: float = typer.Option(None, "--input-tps", help="Input (prefill) tokens/s per replica."),
    output_tps: float = typer.Option(None, "--output-tps", help="Output (decode) tokens/s per replica."),
    hourly_rate: float = typer.Option(None, "--hourly-rate", help="Rent: USD per GPU-hour (default: GPU type)."),
    purchase_price: float = typer.Option(None, "--purchase-price", help="Buy: USD per GPU (default: GPU type)."),
    amortization_months: int = typer.Option(None, "--amortization-months", help="Buy: months (default 36)."),
    power_watts: float = typer.Option(None, "--power-watts", help="Buy: W per GPU (default: GPU type)."),
    pue: float = typer.Option(None, "--pue", help="Buy: power usage effectiveness (default 1.5)."),
    electricity: float = typer.Option(None, "--electricity", help="Buy: USD per kWh (default 0.10)."),
    ops: float = typer.Option(None, "--ops", help="USD per GPU-month for people and tooling (default 150)."),
    max_utilization: float = typer.Option(None, "--max-utilization", help="Headroom, 0..1 (default 0.8)."),
    escalation: float = typer.Option(None, "--escalation-share",
                                     help="Contract v2: share of demand that stays on the API, 0..1 (default 0)."),
    lead_time: float = typer.Option(None, "--lead-time-days", help="Days from decision to serving (default 0)."),
    itl_ms: float = typer.Option(None, "--p95-itl-ms", help="Target p95 inter-token latency, ms (default 50)."),
    ttft_ms: float = typer.Option(None, "--p95-ttft-ms", help="Target p95 time to first token, ms (default 2000)."),
    on_demand: float = typer.Option(None, "--on-demand-rate",
                                    help="USD per GPU-hour for replicas rented by the hour (default: none)."),
    replaces: str = typer.Option(None, "--replaces", help="provider/model whose tokens it takes over "
                                                          "(default: the workload's main API model)."),
    no_local: bool = typer.Option(False, "--no-local-equivalent", help="Stay on tokens: no open model would do."),
    reason: str = typer.Option("", "--reason", help="Why there is no local equivalent (with --no-local-equivalent)."),
    since: str = SinceOption,
    until: str = UntilOption,
) -> None:
    """Set a workload's plan (audited): the candidate it would move to, or no local equivalent and why."""
    provider, replaced = _replaces(replaces)
    if no_local:
        plan = Plan(workload=workload, choice=NO_LOCAL, reason=reason, replaces_provider=provider,
                    replaces_model=replaced)
    else:
        if throughput == "measured":
            _workloads(workload)
            current = figures_for(workload, since, until)
            input_tps, output_tps = _measured_input(current)
            c = current.candidate  # unless given, keep the candidate the measurement was compared with
            model, gpu, tp = model or c.model, gpu or c.gpu_type, tp or c.tensor_parallel
        plan = Plan(workload=workload, choice=SELF_HOST, model=model or "", gpu_type=gpu or "", tensor_parallel=tp,
                    pricing=pricing, throughput_source=throughput, input_tokens_per_s=input_tps,
                    output_tokens_per_s=output_tps, hourly_rate_usd=hourly_rate, purchase_price_usd=purchase_price,
                    amortization_months=amortization_months, power_watts=power_watts, pue=pue,
                    electricity_usd_per_kwh=electricity, ops_usd_per_gpu_month=ops, max_utilization=max_utilization,
                    escalation_share=escalation, lead_time_days=lead_time, slo_p95_itl_ms=itl_ms,
                    slo_p95_ttft_ms=ttft_ms, on_demand_usd_per_gpu_hour=on_demand,
                    replaces_provider=provider, replaces_model=replaced)
    try:
        stored = set_plan(context.engine(), plan)
    except EditError as exc:
        raise UserError(str(exc)) from None
    typer.echo(f"plan for {workload!r} saved: "
               + (f"no local equivalent ({stored.reason})" if stored.choice == NO_LOCAL else
                  f"{stored.model} on {stored.tensor_parallel}x {stored.gpu_type}, {stored.pricing}, "
                  f"{stored.throughput_source} throughput"), err=True)
    precomputed.refresh(context.engine(), clock.now())


def _measured_input(f: PlanFigures) -> tuple[float, float]:
    """Input and output tok/s per replica from the workload's vLLM measurement, at the candidate's prefill ratio."""
    m = f.measured
    if m is None or m.suggested_output_tokens_per_s is None:
        raise UserError(f"{f.workload} has no saturated vLLM measurement between {f.since:%Y-%m-%d} and "
                        f"{f.until:%Y-%m-%d}: its servers never queued requests (or it has none), so their "
                        "capacity is not known")
    return m.suggested_input_tokens_per_s, m.suggested_output_tokens_per_s


def clear(workload: str = typer.Argument(..., help="The workload.")) -> None:
    """Remove a workload's plan (audited): the default pairing applies again."""
    removed = clear_plan(context.engine(), workload)
    typer.echo(f"plan for {workload!r} {'removed' if removed else 'was not set'}", err=True)
    precomputed.refresh(context.engine(), clock.now())


def catalog() -> None:
    """The default pairing catalog: API model class -> comparable open model, GPUs, published throughput, source."""
    for row in catalog_rows():
        pairing = f"{row['open_model']} on {row['gpus']}" if row["gpus"] else row["open_model"]
        speed = f", {row['output_tokens_per_s']:,.0f} output tok/s per replica" if row["output_tokens_per_s"] else ""
        typer.echo(f"{row['api_class']} ({row['api_models']}): {pairing}{speed}\n  source: {row['source']}")


def refresh() -> None:
    """Recompute the precomputed planning figures the exporter serves (for cron; the exporter also does)."""
    rows = precomputed.refresh(context.engine(), clock.now())
    typer.echo(f"planning figures refreshed for {rows} workload(s)", err=True)


def register(root: typer.Typer) -> None:
    """Add `plan show|set|clear|catalog|refresh` to the CLI."""
    app.command("show")(show)
    app.command("set")(set_command)
    app.command("clear")(clear)
    app.command("catalog")(catalog)
    app.command("refresh")(refresh)
    root.add_typer(app, name="plan")

