"""Workload plans: the pairing catalog, `plan set|show|clear|catalog`, audit, validation, measured throughput."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from ingest import records as r
from ingest.demo.reference import PLAN as DEMO_PLAN
from ingest.loader import load
from models.economics import catalog
from models.edits import EditError
from models.infra.database import make_engine
from models.planning import pairing
from models.planning.plans import Plan, validate
from tests.planning.plan_seed import LOCAL, OUTPUT_HEAVY, add_local_serving, add_output_heavy
from tests_support import DEMO_NOW


def _run(*args: str):
    context.reset()
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("model, cls", [
    ("o3", pairing.FRONTIER), ("o3-2025-04-16", pairing.FRONTIER), ("claude-opus-4-1", pairing.FRONTIER),
    ("gpt-5", pairing.FRONTIER), ("gemini-2.5-pro", pairing.FRONTIER),
    ("gpt-4.1", pairing.MID), ("claude-sonnet-4-20250514", pairing.MID), ("o4-mini", pairing.MID),
    ("gemini-2.5-flash", pairing.MID),
    ("gpt-4.1-mini", pairing.SMALL), ("gpt-4o-mini", pairing.SMALL), ("claude-3-5-haiku", pairing.SMALL),
    ("gemini-2.0-flash-lite", pairing.SMALL),
    ("gpt-4o-realtime-preview", pairing.SPEECH), ("text-embedding-3-large", pairing.SPEECH),
])
def test_api_models_pair_with_a_model_of_their_class(model, cls):
    assert pairing.model_class(model) is cls


def test_every_pairing_has_published_throughput_and_a_source():
    for cls in pairing.CLASSES:
        if cls.open_model is None:
            continue
        row = cls.throughput()
        assert row["output_tokens_per_s"] > 0 and row["input_tokens_per_s"] > row["output_tokens_per_s"]
        assert row["source"] and row["conversion_note"]
    assert pairing.FRONTIER.tensor_parallel == 8 and pairing.MID.tensor_parallel == 2 and pairing.SMALL.tensor_parallel == 1
    assert "http" in pairing.FRONTIER.throughput()["source"]
    assert pairing.model_class("some-unknown-model") is None


def test_the_demo_plan_is_a_valid_plan():
    stored = validate(Plan(**DEMO_PLAN))
    assert stored.model == "Llama 3.1 8B FP8" and stored.pricing == "buy"
    catalog.throughput(stored.model, stored.gpu_type, stored.tensor_parallel)


@pytest.fixture
def seeded(cli_env, pin_clock):
    pin_clock(DEMO_NOW)
    engine = make_engine(cli_env)
    load(engine, [r.Price(provider="anthropic", model="claude-sonnet-4", effective_from=date(2026, 1, 1),
                          input_usd_per_mtok=Decimal("3"), cached_input_usd_per_mtok=Decimal("0.3"),
                          output_usd_per_mtok=Decimal("15"))], source="t", target="t")
    add_output_heavy(engine)
    add_local_serving(engine)
    yield engine
    engine.dispose()


def test_default_pairing_is_marked_and_named_everywhere(seeded):
    shown = json.loads(_run("plan", "show", "--json").stdout)
    by = {s["workload"]: s for s in shown}
    heavy = by[OUTPUT_HEAVY]
    assert heavy["marker"] == pairing.DEFAULT_PAIRING
    assert heavy["candidate"] == "Llama 3.3 70B FP8 on 2x H100, rented"  # gpt-4.1 is mid-size
    assert heavy["candidate_detail"]["replaces"] == "openai/gpt-4.1"
    text = _run("plan", "show", OUTPUT_HEAVY).stdout
    assert "default pairing, not chosen" in text and "Llama 3.3 70B FP8" in text


def test_set_show_clear_is_audited_and_changes_the_figures(seeded):
    before = json.loads(_run("plan", "show", OUTPUT_HEAVY, "--json").stdout)[0]
    result = _run("plan", "set", OUTPUT_HEAVY, "--model", "Llama 3.1 8B FP8", "--gpu", "H100", "--tp", "1",
                  "--pricing", "buy", "--purchase-price", "2.5e4")
    assert result.exit_code == 0, result.output
    after = json.loads(_run("plan", "show", OUTPUT_HEAVY, "--json").stdout)[0]
    assert after["marker"] == "chosen plan" and after["candidate"] == "Llama 3.1 8B FP8 on 1x H100, bought"
    assert after["candidate_detail"]["gpu"]["purchase_price"] == 25000.0
    assert after["hybrid_usd_month"] != before["hybrid_usd_month"]
    with seeded.connect() as conn:
        audit = conn.execute(sa.text("SELECT action, after->>'model' FROM audit_log WHERE entity = 'workload_plan' "
                                     "ORDER BY id")).all()
        stored = conn.execute(sa.text("SELECT count(*) FROM workload_plan_figures")).scalar_one()
    assert audit == [("create", "Llama 3.1 8B FP8")]
    assert stored == 2  # `plan set` refreshed the exporter's precomputed figures
    assert _run("plan", "clear", OUTPUT_HEAVY).exit_code == 0
    back = json.loads(_run("plan", "show", OUTPUT_HEAVY, "--json").stdout)[0]
    assert back["marker"] == pairing.DEFAULT_PAIRING and back["hybrid_usd_month"] == before["hybrid_usd_month"]


def test_no_local_equivalent_stays_on_tokens_and_says_why(seeded):
    refused = _run("plan", "set", OUTPUT_HEAVY, "--no-local-equivalent")
    assert refused.exit_code == 2 and "why" in refused.output
    assert _run("plan", "set", OUTPUT_HEAVY, "--no-local-equivalent", "--reason", "needs the frontier model's "
                "long-form quality").exit_code == 0
    shown = json.loads(_run("plan", "show", OUTPUT_HEAVY, "--json").stdout)[0]
    assert shown["candidate"] == "no local equivalent" and shown["action"] == "stay on tokens: no local equivalent"
    assert "long-form quality" in shown["sentence"] and shown["api_only_usd_month"] > 0
    simulated = _run("simulate", "--workload", OUTPUT_HEAVY, "--json")
    assert simulated.exit_code == 2 and "no self-hosted candidate" in simulated.output


@pytest.mark.parametrize("args, message", [
    (["--model", "Llama 3.1 8B FP8", "--gpu", "H100", "--tp", "1", "--hourly-rate", "-1"], "rent"),
    (["--model", "Llama 3.1 8B FP8", "--gpu", "H100", "--tp", "1", "--hourly-rate", "900"], "plausible range"),
    (["--model", "Unknown 1B", "--gpu", "H100", "--tp", "1"], "no throughput"),
    (["--model", "Llama 3.1 8B FP8", "--gpu", "H100", "--tp", "1", "--pricing", "lease"], "rent or buy"),
    (["--model", "Llama 3.1 8B FP8", "--gpu", "H100", "--tp", "1", "--throughput", "entered"], "--input-tps"),
    (["--model", "Llama 3.1 8B FP8", "--gpu", "H100", "--tp", "1", "--max-utilization", "1.5"], "plausible range"),
])
def test_bad_plans_are_refused_in_one_line(seeded, args, message):
    result = _run("plan", "set", OUTPUT_HEAVY, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_unknown_workload_is_refused(seeded):
    result = _run("plan", "set", "nope", "--model", "Llama 3.1 8B FP8", "--gpu", "H100", "--tp", "1")
    assert result.exit_code == 2 and "unknown workload" in result.output


def test_validate_reads_numbers_written_as_text():
    plan = validate(Plan(workload="w", choice="self_host", model="Llama 3.1 8B FP8", gpu_type="H100",
                         tensor_parallel=1, pricing="rent", hourly_rate_usd="2e0"))
    assert plan.hourly_rate_usd == 2.0
    with pytest.raises(EditError, match="must be a number"):
        validate(Plan(workload="w", choice="self_host", model="Llama 3.1 8B FP8", gpu_type="H100",
                      tensor_parallel=1, pricing="rent", hourly_rate_usd="cheap"))
    with pytest.raises(EditError, match="finite"):
        validate(Plan(workload="w", choice="self_host", model="Llama 3.1 8B FP8", gpu_type="H100",
                      tensor_parallel=1, pricing="rent", hourly_rate_usd="9" * 400))


def test_measured_throughput_is_shown_flagged_and_offered(seeded):
    shown = json.loads(_run("plan", "show", LOCAL, "--json").stdout)[0]
    m = shown["measured"]
    assert m["servers"] == 1 and m["saturated_hours"] > 0
    assert m["output_tokens_per_s"] == pytest.approx(2_000_000 / 3600)
    assert m["input_per_output"] == pytest.approx(15.0)
    assert m["flagged"] == (m["gap"] > 1.5 or m["gap"] < 1 / 1.5)
    assert shown["at_measured_throughput"] is not None
    result = _run("plan", "set", LOCAL, "--throughput", "measured")
    assert result.exit_code == 0, result.output
    again = json.loads(_run("plan", "show", LOCAL, "--json").stdout)[0]
    assert again["candidate_detail"]["throughput_source"] == "measured"
    assert again["measured"]["gap"] == pytest.approx(1.0) and not again["measured"]["flagged"]
    assert again["optimal_replicas"] == shown["at_measured_throughput"]["optimal_replicas"]
