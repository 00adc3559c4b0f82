"""GPU-side commands: `collect gpu`, `ingest dcgm|vllm|nvidia-smi|prometheus`, `fleet`, `db prune`."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import Engine

from app.cli import context, db
from app.cli.errors import UserError, fail
from app.cli.ingest_group import attach, collect_app, ingest_app
from app.cli.loading import AcceptOption, ActorOption, accepted_fields, load_source
from ingest.gpu_daemon import run_daemon
from ingest.loader import LoadResult, load
from ingest.sources.dcgm import DcgmSource
from ingest.sources.nvidia_smi import NvidiaSmiCsvSource
from ingest.sources.nvml import NvmlSampler, NvmlUnavailable
from ingest.sources.prometheus_fleet import PrometheusFleetSource
from ingest.sources.spool import Spool
from ingest.sources.vllm import VllmSource
from models import clock, rollups
from models.planning.fleet import fleet_plan_rows, fleet_plans
from models.queries.fleet import SignalThresholds, fleet_gpus, fleet_summary

DEFAULT_FLEET_DAYS = 30
SAMPLER_FACTORY: Callable[..., Any] = NvmlSampler  # tests swap in a sampler over a fake NVML


def parse_interval(text: str) -> float:
    """Seconds in '5s', '500ms', '2m' or a bare number of seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", text)
    if not match:
        raise UserError(f"interval {text!r}: use a number with ms, s, m or h (e.g. 5s)")
    value, unit = float(match.group(1)), match.group(2) or "s"
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def parse_at(text: str | None) -> datetime | None:
    """An ISO 8601 time with a zone (Z or +hh:mm), as UTC; None passes through."""
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UserError(f"--at {text!r} is not an ISO 8601 time (e.g. 2026-07-14T08:00:00Z)") from exc
    if at.tzinfo is None:
        raise UserError(f"--at {text!r} has no time zone: add Z or +hh:mm")
    return at.astimezone(UTC)


def day_window(since: str | None, until: str | None, *, today: date | None = None) -> tuple[datetime, datetime]:
    """UTC days: --since A --until B is [A 00:00Z, B+1 00:00Z); default the last 30 days up to today."""
    today = today or clock.today()
    try:
        last = date.fromisoformat(until) if until else today
        first = date.fromisoformat(since) if since else last - timedelta(days=DEFAULT_FLEET_DAYS - 1)
    except ValueError as exc:
        raise UserError(f"dates are YYYY-MM-DD UTC days: {exc}") from exc
    if first > last:
        raise UserError(f"--since {first} is after --until {last}")
    return clock.day_range(first, last)


def loader_writer(engine: Engine | Callable[[], Engine], *, source: str,
                  target: str) -> Callable[[Sequence[Any]], LoadResult]:
    """A daemon `write`: load a batch of records in one transaction; any database error raises.

    `engine` may be a function that makes the engine: it is then called at every write until
    it works, so a collector started while the database is away connects (and checks the
    schema) when the database comes back.
    """
    def write(records: Sequence[Any]) -> LoadResult:
        eng = engine() if callable(engine) else engine
        return load(eng, records, source=source, target=target)
    return write


class DatabaseWhenBack:
    """The collector's engine, made on first use: the database may be away when `collect gpu` starts."""

    def __init__(self):
        self.reported = False

    def __call__(self) -> Engine:
        try:
            return context.engine()  # connects and checks the schema; cached once it has worked
        except Exception as exc:
            if not self.reported:
                self.reported = True
                typer.echo(f"database not available ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}):"
                           " samples wait in the spool until it is back", err=True)
            raise


def _report(result: LoadResult, what: str) -> None:
    tables = ", ".join(f"{t} {n}" for t, n in sorted(result.by_table.items())) or "nothing"
    typer.echo(f"{what}: read {result.rows_read}, written {result.rows_written} ({tables}), "
               f"run {result.run_id}", err=True)


def collect_gpu(
    interval: str = typer.Option("5s", help="Time between samples: 5s, 500ms, 1m."),
    max_ticks: int | None = typer.Option(None, "--max-ticks", min=1, help="Stop after N ticks (default: run forever)."),
    host: str | None = typer.Option(None, help="Host name to record (default: this machine's)."),
) -> None:
    """Sample every GPU through NVML; samples the database refuses wait in the spool, in order."""
    seconds = parse_interval(interval)
    host = host or socket.gethostname()
    try:
        sampler = SAMPLER_FACTORY(host=host)
    except NvmlUnavailable as exc:
        raise fail(str(exc)) from None
    spool = Spool(context.settings().spool_dir, host)
    write = loader_writer(DatabaseWhenBack(), source="nvml", target=host)
    try:
        reports = run_daemon(sampler, write, spool, seconds, max_ticks=max_ticks)
    except KeyboardInterrupt:
        reports = []
    finally:
        sampler.close()
    written = sum(r.written for r in reports)
    buffered = reports[-1].buffered if reports else 0
    dropped = sum(r.dropped for r in reports)
    typer.echo(f"{len(reports)} ticks, {written} samples written, {spool.pending_count()} waiting in "
               f"{spool.directory}" + (f", {buffered} only in memory (lost on exit: the spool's disk is full)"
                                      if buffered else "") + (f", {dropped} dropped (memory bound)" if dropped else ""),
               err=True)


def ingest_dcgm(
    source: str = typer.Argument(..., help="dcgm-exporter URL (http://host:9400/metrics) or a saved scrape file."),
    at: str | None = typer.Option(None, help="When the scrape was taken (ISO 8601 with zone); default file mtime or now."),
    host: str = typer.Option("", help="Host for series without a Hostname label."),
    accept: list[str] = AcceptOption, actor: str = ActorOption,
) -> None:
    """Load one dcgm-exporter scrape as GPU samples (one per GPU or MIG instance)."""
    src = DcgmSource(source, at=parse_at(at), host_default=host, accept=accepted_fields(accept))
    _report(load_source(src, "dcgm", where=source, actor=actor), "dcgm")


def ingest_vllm(
    source: str = typer.Argument(..., help="vLLM URL (http://host:8000/metrics) or a saved scrape file."),
    at: str | None = typer.Option(None, help="When the scrape was taken (ISO 8601 with zone); default file mtime or now."),
    endpoint: str | None = typer.Option(None, help="Endpoint name to record (default: the URL or file)."),
    accept: list[str] = AcceptOption, actor: str = ActorOption,
) -> None:
    """Load one vLLM /metrics scrape as inference samples (one per model and engine) and latency histogram buckets."""
    src = VllmSource(source, at=parse_at(at), endpoint=endpoint, accept=accepted_fields(accept))
    _report(load_source(src, "vllm", where=source, actor=actor), "vllm")


def ingest_nvidia_smi(
    file: Path = typer.Argument(..., help="CSV from nvidia-smi --query-gpu=... --format=csv."),
    tz: str = typer.Option(..., help="IANA zone of the file's timestamps, e.g. Europe/Berlin or UTC."),
    host: str = typer.Option("", help="Host the log came from (required when the log has no uuid column)."),
    accept: list[str] = AcceptOption, actor: str = ActorOption,
) -> None:
    """Load an nvidia-smi CSV log as GPU samples (timestamps read in --tz)."""
    src = NvidiaSmiCsvSource(file, tz=tz, host=host, accept=accepted_fields(accept))
    _report(load_source(src, "nvidia-smi", where=str(file), actor=actor), "nvidia-smi")


def ingest_prometheus(
    url: str = typer.Option(..., help="Prometheus or Thanos base URL, e.g. http://prometheus:9090."),
    since: str | None = typer.Option(None, help="First UTC day (YYYY-MM-DD); default 30 days back."),
    until: str | None = typer.Option(None, help="Last UTC day, included; default today."),
    step: int = typer.Option(3600, hidden=True, min=1, help="Seconds per point (tests use a few seconds)."),
    accept: list[str] = AcceptOption, actor: str = ActorOption,
) -> None:
    """Pull hourly dcgm-exporter aggregates of a fleet into the GPU hourly rollup (no raw samples)."""
    start, end = day_window(since, until)
    src = PrometheusFleetSource(url, start=start, end=min(end, clock.now()), step_s=step,
                                accept=accepted_fields(accept))
    _report(load_source(src, "prometheus", where=url, actor=actor), "prometheus")


def prune(
    days: int | None = typer.Option(None, min=1, help="Keep this many UTC days of raw samples "
                                    "(default HYBRIDCOST_RAW_RETENTION_DAYS, 30)."),
) -> None:
    """Drop raw GPU sample partitions older than the retention; hourly rollups are kept."""
    keep = days or context.settings().raw_retention_days
    cutoff = datetime.combine(clock.today() - timedelta(days=keep), time(), UTC)
    with context.engine().begin() as conn:
        dropped = rollups.drop_raw_partitions_before(conn, cutoff)
    typer.echo(f"dropped {len(dropped)} raw partitions before {cutoff.date()}"
               + (f": {', '.join(dropped)}" if dropped else ""), err=True)


def fleet(
    since: str | None = typer.Option(None, help="First UTC day (YYYY-MM-DD); default 30 days back."),
    until: str | None = typer.Option(None, help="Last UTC day, included; default today."),
    as_json: bool = typer.Option(False, "--json", help="A JSON array, one object per GPU."),
    breakeven_util: float = typer.Option(30.0, help="below_breakeven when mean utilisation (%) is under this."),
) -> None:
    """Per GPU: utilisation p50/p95, power, busy and idle GPU-hours, idle cost and signals; plans beside them."""
    start, end = day_window(since, until)
    thresholds = SignalThresholds(breakeven_util_pct=breakeven_util)
    with context.engine().connect() as conn:
        df = fleet_gpus(conn, start, end, thresholds)
        pools = fleet_summary(conn, start, end, thresholds).to_dicts() if not as_json else []
        plans = fleet_plan_rows(fleet_plans(conn, start, end, now=clock.now())) if not as_json else None
    keys = ["gpu_uuid", "mig_instance", "host", "model", "utilization_p50", "utilization_p95", "power_mean_watts",
            "busy_hours", "idle_hours", "idle_cost_usd", "cost_profile", "signals"]
    rows = df.select(keys).to_dicts()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(f"no GPU data between {start.date()} and {(end - timedelta(days=1)).date()}", err=True)
        return
    for r in rows:
        name = r["gpu_uuid"] + (f":{r['mig_instance']}" if r["mig_instance"] else "")
        cost = f"${r['idle_cost_usd']:,.2f}" if r["idle_cost_usd"] is not None else r["cost_profile"]
        typer.echo(f"{r['host']:<20} {name:<44} p50 {_pct(r['utilization_p50'])} p95 {_pct(r['utilization_p95'])} "
                   f"busy {r['busy_hours']:.1f} h idle {r['idle_hours']:.1f} h idle cost {cost} "
                   f"{' '.join(r['signals'])}")
    for p in pools:
        cost = f"${p['idle_cost_usd']:,.2f}" if p["idle_cost_usd"] is not None else "no cost profile"
        typer.echo(f"pool {p['host']:<15} {p['gpus']} GPUs p50 {_pct(p['utilization_p50'])} "
                   f"p95 {_pct(p['utilization_p95'])} busy {p['busy_hours']:.1f} h idle {p['idle_hours']:.1f} h "
                   f"idle cost {cost}")
    for r in plans.iter_rows(named=True):
        measured = ("" if r["measured_output_tokens_per_s"] is None else
                    f"; measured {r['measured_output_tokens_per_s']:,.0f} output tok/s per server vs "
                    f"{r['assumed_output_tokens_per_s']:,.0f} assumed ({r['gap']:.1f}x"
                    f"{', flagged' if r['flagged'] else ''})")
        typer.echo(f"plan {r['workload']}: {r['candidate']}, {r['servers']} server(s) now{measured}; {r['advice']}")


def _pct(value: float | None) -> str:
    return f"{value:5.1f}%" if value is not None else "    -"


_registered = False


def register(app: typer.Typer) -> None:
    """Add the GPU commands to the CLI (ingest/collect groups are shared via ingest_group)."""
    global _registered

    attach(app)
    if _registered:
        return
    _registered = True
    collect_app.command("gpu")(collect_gpu)
    ingest_app.command("dcgm")(ingest_dcgm)
    ingest_app.command("vllm")(ingest_vllm)
    ingest_app.command("nvidia-smi")(ingest_nvidia_smi)
    ingest_app.command("prometheus")(ingest_prometheus)
    db.app.command("prune")(prune)
    app.command("fleet")(fleet)
