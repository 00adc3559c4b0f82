"""`hybridcost gpu-profile set|list|delete`: GPU cost profiles created and edited from the CLI, bounded, audited."""

import json

import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from models.infra.database import make_engine

runner = CliRunner()


def _run(*args):
    context.reset()
    return runner.invoke(app, list(args))


def test_gpu_profile_set_creates_edits_lists_and_audits(cli_env):
    created = _run("gpu-profile", "set", "gpu-node-2", "--gpu-type", "H100", "--gpu-count", "8", "--pricing", "buy",
                   "--host-pattern", "gpu-node-2", "--purchase-price-usd", "30000", "--amortization-months", "36",
                   "--power-watts", "700", "--pue", "1.3", "--electricity-usd-per-kwh", "0.10",
                   "--ops-usd-per-gpu-month", "150", "--started-on", "2026-01-01", "--actor", "platform-lead")
    assert created.exit_code == 0, created.output
    assert "created GPU profile 'gpu-node-2'" in created.stderr
    edited = _run("gpu-profile", "set", "gpu-node-2", "--gpu-count", "16", "--actor", "platform-lead")
    assert edited.exit_code == 0 and "updated" in edited.stderr
    listed = json.loads(_run("gpu-profile", "list", "--json").stdout)
    row = next(p for p in listed if p["name"] == "gpu-node-2")
    assert row["gpu_count"] == 16
    assert abs(row["usd_per_gpu_hour"] - (30000 / (36 * 730) + 700 / 1000 * 1.3 * 0.10 + 150 / 730)) < 1e-9
    engine = make_engine(cli_env)
    with engine.connect() as conn:
        audit = conn.execute(sa.text("SELECT actor, action FROM audit_log WHERE entity = 'gpu_profile' "
                                     "ORDER BY id")).all()
    engine.dispose()
    assert [tuple(a) for a in audit] == [("platform-lead", "create"), ("platform-lead", "update")]
    assert _run("gpu-profile", "delete", "gpu-node-2").exit_code == 0
    assert json.loads(_run("gpu-profile", "list", "--json").stdout) == []


def test_gpu_profile_values_outside_their_unit_are_refused_in_one_line(cli_env):
    cases = [
        (["--hourly-rate-usd", "2190"], "Rent: USD per GPU-hour = 2190 is outside the plausible 0..200"),
        (["--hourly-rate-usd", "abc"], "must be a number"),
        (["--gpu-count", "2.5", "--hourly-rate-usd", "2"], "GPUs in the pool must be a whole number"),
        (["--hourly-rate-usd", "2", "--pue", "0.5"], "PUE = 0.5 is outside"),
        ([], "a new GPU profile needs: Rent: USD per GPU-hour"),
    ]
    for extra, message in cases:
        result = _run("gpu-profile", "set", "rented", "--gpu-type", "H100", "--gpu-count", "8", "--pricing", "rent",
                      "--host-pattern", "cloud-*", *extra)
        assert result.exit_code == 2, (extra, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (extra, result.stderr)
        assert "Traceback" not in result.output
    assert json.loads(_run("gpu-profile", "list", "--json").stdout) == []  # nothing written
    missing = _run("gpu-profile", "delete", "nope")
    assert missing.exit_code == 2 and "no GPU profile 'nope'" in missing.stderr
