"""Prices: import in USD per Mtok, unpriced stays unpriced, retroactive changes wait for reprice."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from ingest import records as r
from ingest.loader import load
from models.infra.database import make_engine

runner = CliRunner()
TODAY = datetime(2026, 11, 20, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _today(pin_clock):
    """Prices and spend windows are relative to the product's clock, pinned here."""
    pin_clock(TODAY + timedelta(hours=9))


def _run(*args):
    context.reset()
    return runner.invoke(app, list(args))


def _spend(model):
    rows = json.loads(_run("spend", "--by", "model", "--json", "--since",
                           f"{TODAY - timedelta(days=10):%Y-%m-%d}").stdout)
    return {row["group"]: row for row in rows}.get(model)


@pytest.fixture
def usage(cli_env):
    engine = make_engine(cli_env)
    start = TODAY - timedelta(days=5)
    load(engine, [r.UsageHourly(provider="openai", account_id="a", bucket_start_at=start,
                                bucket_end_at=start + timedelta(hours=1), model="gpt-4o",
                                input_tokens=2_000_000, output_tokens=1_000_000)], source="t", target="t")
    engine.dispose()


def test_litellm_import_converts_per_token_to_per_mtok(cli_env, fixtures_dir):
    assert _run("prices", "import-litellm", str(fixtures_dir / "litellm_prices.json"),
                "--effective-from", "2026-01-01").exit_code == 0
    rows = json.loads(_run("prices", "list", "--json").stdout)
    gpt4o = [row for row in rows if row["model"] == "gpt-4o"]
    assert gpt4o and gpt4o[0]["input_usd_per_mtok"] == pytest.approx(2.5)


def test_unpriced_then_priced_then_retroactive_change_needs_reprice(usage):
    assert _spend("gpt-4o")["unpriced_rows"] == 1 and _spend("gpt-4o")["cost_usd"] == 0
    old = f"{TODAY - timedelta(days=30):%Y-%m-%d}"
    assert _run("prices", "set", "openai", "gpt-4o", "--input", "2.50", "--output", "10",
                "--effective-from", old).exit_code == 0
    assert _spend("gpt-4o")["cost_usd"] == pytest.approx(15.0)  # a first price applies at once
    # A negotiated discount back-dated: history must not change until reprice applies it.
    result = _run("prices", "set", "openai", "gpt-4o", "--input", "2.00", "--output", "8",
                  "--effective-from", old)
    assert result.exit_code == 0 and "1 retroactive" in result.output
    assert _spend("gpt-4o")["cost_usd"] == pytest.approx(15.0)
    dry = _run("prices", "reprice", "--since", old, "--dry-run", "--json")
    assert dry.exit_code == 0
    assert json.loads(dry.stdout) == [{"model": "gpt-4o", "before_usd": 15.0, "after_usd": 12.0, "change_usd": -3.0}]
    assert _spend("gpt-4o")["cost_usd"] == pytest.approx(15.0)
    assert _run("prices", "reprice", "--since", old).exit_code == 0
    assert _spend("gpt-4o")["cost_usd"] == pytest.approx(12.0)


def test_negative_or_non_numeric_price_is_refused(cli_env):
    for value in ("-1", "ten"):
        result = _run("prices", "set", "openai", "m", "--input", value, "--output", "1")
        assert result.exit_code == 2 and "--input" in result.output
