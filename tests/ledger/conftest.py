"""Shared pieces of the ledger tests: a CLI runner on the test database and an EUR FOCUS file."""

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app


@pytest.fixture
def cli(cli_env):
    """Run `hybridcost ARGS...` against the test's database; returns the click Result."""
    runner = CliRunner()

    def run(*args):
        context.reset()
        return runner.invoke(app, [str(a) for a in args])

    return run


@pytest.fixture
def eur_focus(samples_dir, tmp_path) -> Path:
    """focus_sample_ai_ml_rows.csv billed in EUR, its lines classed as token spend (Generative AI)."""
    source = samples_dir / "focus" / "focus_sample_ai_ml_rows.csv"
    with source.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    out = tmp_path / "focus_eur.csv"
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*rows[0].keys(), "ServiceSubcategory"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "BillingCurrency": "EUR", "ServiceSubcategory": "Generative AI"})
    return out
