"""`hybridcost prices`: the effective-dated catalog, imports, overrides and repricing."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl
import typer

from app.cli import context
from app.cli.dates import parse_day
from app.cli.errors import UserError
from app.cli.loading import AcceptOption, ActorOption, accepted_fields
from app.cli.output import echo_json_rows, echo_table
from app.ui.format import usd
from ingest.loader import load
from ingest.records import Price
from ingest.sources.litellm_prices import LiteLLMPriceSource
from models import clock
from models.audit import record_accepted
from models.bounds import Guard
from models.ledger.periods import record_restatements
from models.prices import apply_pending, catalog, mark_retroactive, price_images, record_price_edits
from models.queries.spend import spend_by

app = typer.Typer(help="Token prices in USD per million tokens, effective-dated.", no_args_is_help=True)


def _today() -> date:
    return clock.today()


def _stage_and_load(prices: list[Price], target: str, actor: str | None = None, guard: Guard | None = None) -> None:
    engine = context.engine()
    with engine.connect() as conn:
        staged = mark_retroactive(conn, prices, today=_today())
        before = price_images(conn, staged)
    result = load(engine, staged, source="prices", target=target)
    with engine.begin() as conn:
        record_price_edits(conn, before, actor=actor)
        if guard is not None:
            record_accepted(conn, actor, run_id=result.run_id, target=target, accepted=guard.accepted)
    pending = sum(p.pending for p in staged)
    typer.echo(f"{result.rows_written} price rows written ({pending} retroactive change(s) pending: "
               "review with `hybridcost prices reprice --since DATE --dry-run`)", err=True)


@app.command("import-litellm")
def import_litellm(
    file: Path = typer.Argument(..., help="LiteLLM's model_prices_and_context_window.json (USD per token)."),
    effective_from: str = typer.Option(None, "--effective-from", help="UTC day the prices take effect; default today."),
    accept: list[str] = AcceptOption,
    actor: str = ActorOption,
) -> None:
    """Import LiteLLM's price map, converting USD per token to USD per million tokens."""
    if not file.is_file():
        raise UserError(f"{file}: no such file")
    day = parse_day(effective_from, "--effective-from") or _today()
    source = LiteLLMPriceSource(file, day, accept=accepted_fields(accept))
    prices = list(source.collect())
    _stage_and_load(prices, source.describe(), actor, source.guard)


def _money(value: str | None, option: str, guard: Guard) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise UserError(f"{option} {value!r} is not a number (USD per million tokens)") from None
    if not number.is_finite() or number < 0:
        raise UserError(f"{option} must be zero or more (USD per million tokens), not {value}")
    return guard.check("usd_per_mtok", number, field=option)


@app.command("set")
def set_price(
    provider: str = typer.Argument(..., help="Provider, as in the usage data (openai, anthropic, ...)."),
    model: str = typer.Argument(..., help="Model name, as in the usage data."),
    input_per_mtok: str = typer.Option(..., "--input", help="USD per million uncached input tokens."),
    output_per_mtok: str = typer.Option(..., "--output", help="USD per million output tokens (reasoning included)."),
    cached_per_mtok: str = typer.Option(None, "--cached-input", help="USD per million cached input tokens."),
    cache_write_per_mtok: str = typer.Option(None, "--cache-write", help="USD per million 5-minute cache-write tokens."),
    cache_write_1h_per_mtok: str = typer.Option(None, "--cache-write-1h",
                                                help="USD per million 1-hour cache-write tokens (default: 2x input)."),
    batch_input_per_mtok: str = typer.Option(None, "--batch-input", help="USD per million batch input tokens."),
    batch_output_per_mtok: str = typer.Option(None, "--batch-output", help="USD per million batch output tokens."),
    effective_from: str = typer.Option(None, "--effective-from", help="UTC day it takes effect; default today."),
    note: str = typer.Option("", "--note", help="Why (a negotiated discount, say)."),
    accept: list[str] = AcceptOption,
    actor: str = ActorOption,
) -> None:
    """Add or override a price (a negotiated discount, say); a retroactive one waits for reprice."""
    guard = Guard(f"prices set {provider} {model}", accepted_fields(accept))
    price = Price(provider=provider, model=model, effective_from=parse_day(effective_from, "--effective-from") or _today(),
                  input_usd_per_mtok=_money(input_per_mtok, "--input", guard),
                  output_usd_per_mtok=_money(output_per_mtok, "--output", guard),
                  cached_input_usd_per_mtok=_money(cached_per_mtok, "--cached-input", guard),
                  cache_write_usd_per_mtok=_money(cache_write_per_mtok, "--cache-write", guard),
                  cache_write_1h_usd_per_mtok=_money(cache_write_1h_per_mtok, "--cache-write-1h", guard),
                  batch_input_usd_per_mtok=_money(batch_input_per_mtok, "--batch-input", guard),
                  batch_output_usd_per_mtok=_money(batch_output_per_mtok, "--batch-output", guard),
                  source="override" + (f": {note}" if note else ""))
    _stage_and_load([price], f"prices set {provider} {model}", actor, guard)


@app.command("list")
def list_prices(json_output: bool = typer.Option(False, "--json", help="JSON array, one object per price row.")) -> None:
    """The catalog, newest first per model, with applied or pending state."""
    with context.engine().connect() as conn:
        frame = catalog(conn)
    if json_output:
        echo_json_rows(frame.to_dicts())
        return
    if frame.is_empty():
        typer.echo("no prices yet: `hybridcost prices import-litellm FILE` or `hybridcost prices set`", err=True)
        return
    echo_table(frame.select("provider", "model", "effective_from", "input_usd_per_mtok", "cached_input_usd_per_mtok",
                            "output_usd_per_mtok", "state"))


@app.command()
def reprice(
    since: str = typer.Option(..., "--since", help="Apply pending prices effective on or after this UTC day."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the before/after diff only."),
    json_output: bool = typer.Option(False, "--json", help="Print the diff as JSON."),
    actor: str = ActorOption,
) -> None:
    """Recompute derived costs after a price change: print the before/after diff, then apply."""
    day = parse_day(since, "--since")
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    end = clock.now() + timedelta(days=1)
    engine = context.engine()
    with engine.connect() as conn:
        before = spend_by(conn, since=start, until=end, by="model")
        after = spend_by(conn, since=start, until=end, by="model", include_pending=True)
    diff = (before.select("group", pl.col("cost_usd").alias("before_usd"))
            .join(after.select("group", pl.col("cost_usd").alias("after_usd")), on="group", how="full", coalesce=True)
            .with_columns(pl.col("before_usd").fill_null(0), pl.col("after_usd").fill_null(0))
            .with_columns((pl.col("after_usd") - pl.col("before_usd")).alias("change_usd"))
            .filter(pl.col("change_usd") != 0).sort("group"))
    if json_output:
        echo_json_rows([{"model": r["group"], **{k: r[k] for k in ("before_usd", "after_usd", "change_usd")}}
                        for r in diff.iter_rows(named=True)])
    elif diff.is_empty():
        typer.echo("no derived cost changes", err=True)
    else:
        echo_table(diff.rename({"group": "model"}), {c: usd for c in ("before_usd", "after_usd", "change_usd")})
    if dry_run:
        typer.echo("dry run: nothing applied", err=True)
        return
    with engine.begin() as conn:
        applied, left = apply_pending(conn, since=day, actor=actor)

        record_restatements(conn, run_id=None, reason=f"reprice since {day}")
    typer.echo(f"applied {applied} pending price(s); {left} still pending (effective before {day})", err=True)


def register(root: typer.Typer) -> None:
    """Add the prices group."""
    root.add_typer(app, name="prices")
