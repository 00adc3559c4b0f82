"""`hybridcost ingest ...` for the token side: provider APIs, FOCUS exports, request logs, invoices."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import typer

from app.cli import context
from app.cli.dates import parse_day
from app.cli.errors import UserError
from app.cli.ingest_group import attach, ingest_app
from app.cli.loading import AcceptOption, ActorOption, accepted_fields, load_source
from ingest.base import SourceError
from ingest.focus_exports import preparer
from ingest.loader import LoadResult
from ingest.pull import pull
from ingest.sources import anthropic_usage as an
from ingest.sources import openai_usage as oa
from ingest.sources._common import parse_utc
from ingest.sources.focus_export import FocusExportSource, discover
from ingest.sources.invoice_csv import InvoiceCsvSource
from ingest.sources.langfuse import LangfuseSource
from ingest.sources.litellm import LiteLLMSpendLogsSource
from ingest.sources.otel_genai import OtelGenAISource

FileArg = typer.Argument(..., exists=False, help="The file to load.")
AccountOption = typer.Option("default", "--account", help="Account or organisation id; accounts never merge.")


def _report(result: LoadResult, what: str) -> None:
    typer.echo(f"{what}: run {result.run_id}: {result.rows_read:,} rows read, {result.rows_written:,} written, "
               f"{result.rows_skipped:,} duplicates skipped", err=True)


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    return path


def _load_file(source, name: str, actor: str | None = None, **kwargs) -> LoadResult:
    where = str(getattr(source, "path", name))
    result = load_source(source, name, where=where, actor=actor, **kwargs)
    _report(result, where)
    return result


def _day_bounds(since: str | None, until: str | None):
    s, u = parse_day(since, "--since"), parse_day(until, "--until")
    start = datetime(s.year, s.month, s.day, tzinfo=timezone.utc) if s else None
    end = datetime(u.year, u.month, u.day, tzinfo=timezone.utc) + timedelta(days=1) if u else None
    return start, end


def _window_echo(a, b, results) -> None:
    rows = sum(r.rows_written for r in results)
    typer.echo(f"  {a:%Y-%m-%d %H:%M}Z .. {b:%Y-%m-%d %H:%M}Z: {rows:,} rows written", err=True)


@ingest_app.command()
def openai(
    since: str = typer.Option(None, help="First UTC day; default: the stored cursor minus a 2-day overlap."),
    until: str = typer.Option(None, help="Last UTC day, included; default: now."),
    account: str = AccountOption,
    file: Path = typer.Option(None, "--file", help="Load a saved usage (or --costs) JSON page instead of the API."),
    costs_file: bool = typer.Option(False, "--costs", help="With --file: the file is a costs page."),
) -> None:
    """OpenAI usage (hourly buckets) and costs (daily) via the Admin API (OPENAI_ADMIN_KEY, OPENAI_BASE_URL)."""
    if file is not None:
        src = (oa.OpenAICostsFileSource if costs_file else oa.OpenAIUsageFileSource)(_existing(file), account)
        _load_file(src, src.name)
        return
    settings = context.settings()
    if settings.openai_admin_key is None:
        raise UserError("OPENAI_ADMIN_KEY is not set: create an Admin key in the OpenAI console (docs/ingest.md)")
    client = oa.make_client(settings.openai_admin_key.get_secret_value(), settings.openai_base_url)
    start, end = _day_bounds(since, until)

    def sources(a, b):
        return [oa.OpenAIUsageSource(client, account, a, b), oa.OpenAICostsSource(client, account, a, b)]

    results = pull(context.engine(), source="openai", account_id=account, make_sources=sources,
                   since=start, until=end, on_window=_window_echo)
    typer.echo(f"openai: {len(results)} loads, {sum(r.rows_written for r in results):,} rows written", err=True)


@ingest_app.command()
def anthropic(
    since: str = typer.Option(None, help="First UTC day; default: the stored cursor minus a 2-day overlap."),
    until: str = typer.Option(None, help="Last UTC day, included; default: now."),
    account: str = AccountOption,
    file: Path = typer.Option(None, "--file", help="Load a saved usage (or --costs) report JSON instead of the API."),
    costs_file: bool = typer.Option(False, "--costs", help="With --file: the file is a cost report."),
) -> None:
    """Anthropic usage and cost reports via the Admin API (ANTHROPIC_ADMIN_KEY); cost amounts are cents."""
    if file is not None:
        src = (an.AnthropicCostFileSource if costs_file else an.AnthropicUsageFileSource)(_existing(file), account)
        _load_file(src, src.name)
        return
    settings = context.settings()
    if settings.anthropic_admin_key is None:
        raise UserError("ANTHROPIC_ADMIN_KEY is not set: create an Admin API key in the Claude console (docs/ingest.md)")
    key, base = settings.anthropic_admin_key.get_secret_value(), settings.anthropic_base_url
    start, end = _day_bounds(since, until)

    def sources(a, b):
        return [an.AnthropicUsageSource(account, a, b, api_key=key, base_url=base),
                an.AnthropicCostSource(account, a, b, api_key=key, base_url=base)]

    results = pull(context.engine(), source="anthropic", account_id=account, make_sources=sources,
                   since=start, until=end, on_window=_window_echo)
    typer.echo(f"anthropic: {len(results)} loads, {sum(r.rows_written for r in results):,} rows written", err=True)


def _money(text: str) -> str:
    return f"{Decimal(text):,.2f}"


def _focus_report(result: LoadResult) -> None:
    """The lines a FOCUS load prints: what it added, replaced, removed, left alone and what was superseded."""
    d = result.detail
    added, replaced, removed, same = d["added"], d["replaced"], d["removed"], d["unchanged"]
    left, superseded = d["left_alone"], d["superseded"]
    label = f"export {d['export_name']!r}" if d["export_name"] else "export"
    typer.echo(f"focus {label} #{d['export_id']} issued {d['issued_at']} ({d['issued_from']}), "
               f"{len(d['files'])} file(s): run {result.run_id}, {result.rows_read:,} rows read", err=True)
    typer.echo(f"  added {added['rows']:,} rows ({_money(added['money'])}); replaced {replaced['rows']:,} rows "
               f"({_money(replaced['before'])} -> {_money(replaced['after'])}); removed {removed['rows']:,} rows "
               f"({_money(removed['money'])}); unchanged {same['rows']:,} rows ({_money(same['money'])})", err=True)
    typer.echo(f"  left alone: {left['rows']:,} rows ({_money(left['money'])}) of {left['exports']} other "
               f"export(s) in the same billing periods", err=True)
    if superseded["rows"]:
        typer.echo(f"  superseded: {superseded['rows']:,} rows ({_money(superseded['money'])}) not loaded: "
                   f"export(s) {', '.join('#' + str(x) for x in superseded['by_exports'])} issued later "
                   f"are already loaded", err=True)
    if d["replaced_exports"]:
        typer.echo(f"  replaces the earlier issue(s) #{', #'.join(str(x) for x in d['replaced_exports'])}", err=True)
    typer.echo(f"  {d['changed_rows']:,} changed", err=True)


def _issued_option(value: str | None):
    if value is None:
        return None
    try:
        return parse_utc(value, "--issued-at", field="--issued-at", naive_is_utc=True)
    except SourceError:
        raise UserError(f"--issued-at {value!r} is not an ISO 8601 date-time") from None


@ingest_app.command()
def focus(
    paths: list[Path] = typer.Argument(..., help="The export's files (CSV, .csv.gz, Parquet), a folder, or its "
                                                 "manifest/metadata JSON (AWS, Azure, FOCUS 1.3)."),
    export: str = typer.Option(None, "--export", help="Name of the export series these files are an issue of "
                                                      "(default: the manifest's, else none)."),
    issued_at: str = typer.Option(None, "--issued-at", help="When this issue was made (ISO 8601; default: the "
                                                            "manifest's time, else the files' modification time)."),
    accept: list[str] = AcceptOption, actor: str = ActorOption,
) -> None:
    """A FOCUS 1.0-1.3 export (all its parts as one load); a newer issue replaces exactly the rows it supersedes."""
    when = _issued_option(issued_at)
    units = discover(paths)
    for unit in units:
        src = FocusExportSource(unit, accept=accepted_fields(accept))
        prepare = preparer(unit, name=export, issued_at=when, issued_from="option" if when else None)
        result = load_source(src, "focus", where=", ".join(str(f) for f in unit.files), actor=actor, prepare=prepare)
        _focus_report(result)


@ingest_app.command()
def otel(file: Path = FileArg, account: str = typer.Option("", "--account", help="Account id to label rows."),
         accept: list[str] = AcceptOption, actor: str = ActorOption) -> None:
    """OpenTelemetry GenAI spans (OTLP JSON; times in ns, or s/ms/us told apart by magnitude)."""
    _load_file(OtelGenAISource(_existing(file), account_id=account, accept=accepted_fields(accept)), "otel_genai",
               actor)


@ingest_app.command()
def litellm(file: Path = FileArg, account: str = typer.Option("", "--account", help="Account id to label rows."),
            accept: list[str] = AcceptOption, actor: str = ActorOption) -> None:
    """A LiteLLM_SpendLogs export (CSV, JSON lines, a JSON array or a single JSON object)."""
    _load_file(LiteLLMSpendLogsSource(_existing(file), account_id=account, accept=accepted_fields(accept)),
               "litellm", actor)


@ingest_app.command()
def langfuse(file: Path = FileArg, accept: list[str] = AcceptOption, actor: str = ActorOption) -> None:
    """A Langfuse trace export ({trace, observations})."""
    _load_file(LangfuseSource(_existing(file), accept=accepted_fields(accept)), "langfuse", actor)


@ingest_app.command()
def invoice(file: Path = FileArg,
            mapping: Path = typer.Option(..., "--mapping", help="YAML naming the invoice's columns."),
            decimal_separator: str = typer.Option(
                None, "--decimal-separator", help="How the file writes decimals: '.' (1,234.56) or ',' "
                "(1.234,56); wins over the mapping's decimal_separator or locale."),
            locale: str = typer.Option(None, "--locale", help="The file's locale instead (de-DE, fr-FR, en-US)."),
            accept: list[str] = AcceptOption, actor: str = ActorOption) -> None:
    """An invoice CSV from any provider, read through a column mapping; ambiguous amounts are refused."""
    src = InvoiceCsvSource(_existing(file), _existing(mapping), decimal_separator=decimal_separator, locale=locale,
                           accept=accepted_fields(accept))
    _load_file(src, "invoice", actor)


def register(app: typer.Typer) -> None:
    """Attach the ingest group (shared with the GPU-side commands)."""
    attach(app)
