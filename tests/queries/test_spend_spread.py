"""Charges that span days are spread over them; purchases are never token spend; bills attribute by model."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import records as r
from ingest.loader import load
from models.ledger import commitments as cm
from models.ledger.lines import ledger_daily
from models.queries.spend import allocated_daily, spend_by

FOCUS = Path(__file__).resolve().parents[1] / "fixtures" / "focus"
OCT = datetime(2026, 10, 1, tzinfo=UTC)
NOV = datetime(2026, 11, 1, tzinfo=UTC)


def _line(key, start, end, amount, basis="invoice", **kw):
    return r.CostLine(basis=basis, provider="openai", account_id="org-1", source_line_key=key,
                      charge_period_start_at=start, charge_period_end_at=end, billed_cost=Decimal(amount), **kw)


def test_monthly_invoice_and_daily_cost_api_count_the_month_once(engine):
    # October's invoice line (first-rank evidence) and the daily cost API for the same account.
    api = [_line(f"api-{d}", OCT + timedelta(days=d), OCT + timedelta(days=d + 1), "40.35", basis="cost_api")
           for d in range(31)]
    load(engine, [_line("inv-oct", OCT, NOV, "1234.50"), *api], source="t", target="t")
    with engine.connect() as conn:
        daily = allocated_daily(conn, since=OCT, until=NOV)
        week = spend_by(conn, since=OCT, until=OCT + timedelta(days=7), by="provider")
    assert sum(daily["cost_usd"].to_list(), Decimal(0)) == Decimal("1234.50")
    assert set(daily["cost_basis"].to_list()) == {"invoice"} and daily.height == 31
    per_day = daily.sort("day")["cost_usd"].to_list()
    assert per_day[0] == (Decimal("1234.50") / 31).quantize(Decimal("1e-10"))
    assert week.row(0, named=True)["cost_usd"] == per_day[0] * 7


def test_a_window_inside_a_day_keeps_its_part(engine):
    load(engine, [_line("day", OCT, OCT + timedelta(days=1), "24.00", basis="cost_api")], source="t", target="t")
    with engine.connect() as conn:
        half = allocated_daily(conn, since=OCT + timedelta(hours=12), until=OCT + timedelta(hours=18))
    assert sum(half["cost_usd"].to_list(), Decimal(0)) == Decimal("6.00")


periods = st.lists(st.tuples(st.integers(0, 24 * 60), st.integers(0, 24 * 45),
                             st.decimals(min_value=Decimal("-500"), max_value=Decimal("5000"), places=6)),
                   min_size=1, max_size=8)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(periods, st.integers(1, 89))
def test_spreading_keeps_every_cent_and_windows_add_up(engine, lines, cut_day):
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE cost_lines, ingest_runs CASCADE"))
    start = datetime(2026, 9, 1, tzinfo=UTC)
    records = [r.CostLine(basis="focus", provider="p", account_id=f"a{i}", source_line_key=f"l{i}",
                          charge_period_start_at=start + timedelta(hours=a),
                          charge_period_end_at=start + timedelta(hours=a + length), billed_cost=amount)
               for i, (a, length, amount) in enumerate(lines)]
    load(engine, records, source="t", target="t")
    end = start + timedelta(days=120)
    cut = start + timedelta(days=cut_day)
    with engine.connect() as conn:
        whole = allocated_daily(conn, since=start, until=end)
        first = allocated_daily(conn, since=start, until=cut)
        second = allocated_daily(conn, since=cut, until=end)
        ledger = ledger_daily(conn, since=start, until=end)
    total = sum((amount for _a, _l, amount in lines), Decimal(0))
    assert sum(whole["cost_usd"].to_list(), Decimal(0)) == total
    assert sum(first["cost_usd"].to_list() + second["cost_usd"].to_list(), Decimal(0)) == total
    assert sum(ledger["amount"].to_list(), Decimal(0)) == total and ledger["rows"].sum() == len(lines)


def _focus(engine, name):
    from ingest.focus_exports import preparer
    from ingest.sources.focus_export import FocusExportSource, discover

    for unit in discover([FOCUS / name]):
        src = FocusExportSource(unit)
        load(engine, src.collect(), source="focus", target=src.describe(), prepare=preparer(unit))


MAY = datetime(2025, 5, 1, tzinfo=UTC)
JUNE = datetime(2025, 6, 1, tzinfo=UTC)


def test_a_prepayment_is_never_token_spend_and_amortizes(engine):
    _focus(engine, "ai_prepayment_drawdown.csv")
    with engine.connect() as conn:
        daily = allocated_daily(conn, since=MAY, until=JUNE)
        commits = cm.amortized(conn, since=date(2025, 5, 1), until=date(2025, 6, 1))
        year = cm.amortized(conn, since=date(2025, 5, 1), until=date(2026, 5, 1))
    assert sum(daily["cost_usd"].to_list(), Decimal(0)) == 0  # covered usage bills 0; the purchase is no spend
    may2 = daily.filter(pl.col("day") == date(2025, 5, 2)).row(0, named=True)
    assert (may2["model"], may2["input_tokens"], may2["output_tokens"]) == ("corvid-orion-2", 6_000_000, 1_500_000)
    assert commits.height == 31 and set(commits["amortized"].to_list()) == {Decimal(1000)}
    used = commits.filter(pl.col("day") == date(2025, 5, 2)).row(0, named=True)
    assert (used["used"], used["unused"]) == (Decimal("54.00"), Decimal("946.00"))
    assert sum(year["amortized"].to_list(), Decimal(0)) == Decimal("365000.00")


def test_focus_ai_rows_carry_model_and_tokens(engine):
    _focus(engine, "ai_multi_model_month.csv")
    with engine.connect() as conn:
        by_model = {row["group"]: row for row in spend_by(conn, since=MAY, until=JUNE, by="model").iter_rows(named=True)}
    orion = by_model["corvid-orion-2"]
    assert orion["cost_usd"] == Decimal("1200.00") and orion["input_tokens"] == 100_000_000
    assert orion["output_tokens"] == 40_000_000
    lyra = by_model["corvid-lyra-1"]
    assert lyra["cost_usd"] == Decimal("2.52") and lyra["cached_input_tokens"] == 200_000
    assert lyra["input_tokens"] == 900_000 + 200_000 + 50_000
    assert sum(row["cost_usd"] for row in by_model.values()) == Decimal("1209.52")


def test_context_cache_storage_is_not_token_spend(engine):
    _focus(engine, "ai_cache_storage_day.csv")
    with engine.connect() as conn:
        total = spend_by(conn, since=MAY, until=JUNE, by="provider").row(0, named=True)
        kinds = conn.execute(sa.text("SELECT charge_kind, ai_class, token_type, tokens FROM cost_lines "
                                     "ORDER BY billed_cost")).all()
    assert total["cost_usd"] == Decimal("15.90")  # 6.00 + 2.40 + 7.50; the 3.00 of storage is not tokens
    assert ("storage", "other_ai", "", 0) in kinds and ("tokens", "token", "cached_input", 24_000_000) in kinds


def test_cost_report_model_field_decides_the_model(engine):
    day = datetime(2026, 10, 5, tzinfo=UTC)
    load(engine, [
        r.Price(provider="anthropic", model="claude-sonnet-4", effective_from=date(2026, 1, 1),
                input_usd_per_mtok=Decimal("3"), output_usd_per_mtok=Decimal("15")),
        r.Price(provider="anthropic", model="claude-haiku-4", effective_from=date(2026, 1, 1),
                input_usd_per_mtok=Decimal("1"), output_usd_per_mtok=Decimal("5")),
        *[r.UsageHourly(provider="anthropic", account_id="org", bucket_start_at=day + timedelta(hours=h),
                        bucket_end_at=day + timedelta(hours=h + 1), model=m, input_tokens=inp, output_tokens=0)
          for h, m, inp in ((1, "claude-sonnet-4", 10_000_000), (2, "claude-haiku-4", 1_000_000))],
        r.CostLine(basis="cost_api", provider="anthropic", account_id="org", source_line_key="haiku",
                   charge_period_start_at=day, charge_period_end_at=day + timedelta(days=1),
                   billed_cost=Decimal("50"), model="claude-haiku-4", line_item="Claude Haiku 4 Usage - Input Tokens"),
        r.CostLine(basis="cost_api", provider="anthropic", account_id="org", source_line_key="sonnet",
                   charge_period_start_at=day, charge_period_end_at=day + timedelta(days=1),
                   billed_cost=Decimal("28"), model="claude-sonnet-4", line_item="Claude Sonnet 4 Usage - Input Tokens"),
    ], source="t", target="t")
    with engine.connect() as conn:
        by_model = {row["group"]: row["cost_usd"] for row in
                    spend_by(conn, since=day, until=day + timedelta(days=1), by="model").iter_rows(named=True)}
    assert by_model == {"claude-haiku-4": Decimal("50"), "claude-sonnet-4": Decimal("28")}


def test_a_line_model_matches_dated_snapshots_only(engine):
    day = datetime(2026, 10, 6, tzinfo=UTC)
    load(engine, [
        *[r.Price(provider="openai", model=m, effective_from=date(2026, 1, 1), input_usd_per_mtok=Decimal("1"),
                  output_usd_per_mtok=Decimal("4")) for m in ("gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18")],
        *[r.UsageHourly(provider="openai", account_id="org", bucket_start_at=day, bucket_end_at=day + timedelta(hours=1),
                        model=m, project_id=p, input_tokens=1_000_000)
          for m, p in (("gpt-4o-2024-08-06", "a"), ("gpt-4o-2024-08-06", "b"), ("gpt-4o-mini-2024-07-18", "a"))],
        r.CostLine(basis="cost_api", provider="openai", account_id="org", source_line_key="4o",
                   charge_period_start_at=day, charge_period_end_at=day + timedelta(days=1),
                   billed_cost=Decimal("10"), model="gpt-4o", line_item="GPT-4o, input"),
    ], source="t", target="t")
    with engine.connect() as conn:
        daily = allocated_daily(conn, since=day, until=day + timedelta(days=1))
    money = {(row["model"], row["cost_usd"]) for row in daily.iter_rows(named=True)}
    assert money == {("gpt-4o-2024-08-06", Decimal("10")), ("gpt-4o-mini-2024-07-18", Decimal(0))}


def test_spend_cli_shows_what_is_not_token_spend(cli_env, engine):
    from typer.testing import CliRunner

    from app.cli import context
    from app.cli.main import app

    _focus(engine, "ai_cache_storage_day.csv")
    _focus(engine, "ai_prepayment_drawdown.csv")
    context.reset()
    result = CliRunner().invoke(app, ["spend", "--since", "2025-05-01", "--until", "2025-05-31"])
    assert result.exit_code == 0, result.output
    assert "total: $15.90 USD" in result.output
    assert "Not in token spend: storage $3.00, commitments amortized $31,000.00" in result.output
