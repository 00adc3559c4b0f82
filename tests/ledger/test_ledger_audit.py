"""Audit: every kind of edit records who, when, and before and after."""

import csv
import io
import json
from datetime import date, datetime, timezone
from decimal import Decimal

from ingest import records as r
from ingest.loader import load
from models.audit import audit_log
from models.ledger import edits, fx


def test_every_kind_of_edit_is_audited(engine, cli, monkeypatch):
    monkeypatch.setenv("HYBRIDCOST_ACTOR", "ops@example.com")
    assert cli("prices", "set", "openai", "gpt-x", "--input", "2", "--output", "8",
               "--effective-from", "2026-01-01", "--actor", "cfo@example.com").exit_code == 0
    assert cli("prices", "set", "openai", "gpt-x", "--input", "1.5", "--output", "8",
               "--effective-from", "2026-01-01").exit_code == 0  # retroactive: pending until reprice
    assert cli("prices", "reprice", "--since", "2026-01-01").exit_code == 0
    with engine.begin() as conn:
        rule = edits.save_rule(conn, workload="labeling", match_field="project_id", pattern="proj_lab*",
                               actor="lead@example.com")
        edits.save_rule(conn, workload="labeling", match_field="project_id", pattern="proj_label*", rule_id=rule,
                        actor="lead@example.com")
        edits.set_budget(conn, scope="team", name="data", monthly_usd="5000", actor="fin@example.com")
        edits.save_gpu_profile(conn, "pool", {"gpu_type": "H100", "gpu_count": 8, "pricing": "rent",
                                              "hourly_rate_usd": Decimal("2.99")}, actor="plat@example.com")
        fx.set_rate(conn, date(2026, 10, 1), "EUR", "1.08", to_currency="USD", actor="fin@example.com")
    assert cli("ledger", "commitment", "add", "ptu", "--provider", "azure", "--amount", "100",
               "--start", "2026-10-01", "--end", "2026-10-31").exit_code == 0
    load(engine, [r.CostLine(basis="cost_api", provider="openai", account_id="a", source_line_key="k",
                             charge_period_start_at=datetime(2026, 10, 2, tzinfo=timezone.utc),
                             charge_period_end_at=datetime(2026, 10, 3, tzinfo=timezone.utc),
                             billed_cost=Decimal(1))], source="t", target="t")
    assert cli("period", "close", "2026-10", "--actor", "cfo@example.com").exit_code == 0
    assert cli("period", "reopen", "2026-10").exit_code == 0

    with engine.connect() as conn:
        log = audit_log(conn)
    entities = set(log["entity"].to_list())
    assert {"price", "attribution_rule", "budget", "gpu_profile", "fx_rate", "commitment", "period"} <= entities
    entries = json.loads(cli("audit", "--json").stdout)
    price_create = [e for e in entries if e["entity"] == "price" and e["action"] == "create"][-1]  # oldest
    assert price_create["actor"] == "cfo@example.com"
    price_apply = next(e for e in entries if e["entity"] == "price" and e["action"] == "apply")
    assert price_apply["actor"] == "ops@example.com"  # HYBRIDCOST_ACTOR when no --actor
    assert Decimal(str(json.loads(price_apply["before"])["input_usd_per_mtok"])) == 2
    assert Decimal(str(json.loads(price_apply["after"])["input_usd_per_mtok"])) == Decimal("1.5")
    rule_update = next(e for e in entries if e["entity"] == "attribution_rule" and e["action"] == "update")
    assert json.loads(rule_update["before"])["pattern"] == "proj_lab*"
    assert json.loads(rule_update["after"])["pattern"] == "proj_label*"
    close = next(e for e in entries if e["entity"] == "period" and e["action"] == "close")
    assert close["actor"] == "cfo@example.com" and json.loads(close["after"])["state"] == "closed"
    assert any(e["entity"] == "period" and e["action"] == "reopen" for e in entries)
    exported = list(csv.DictReader(io.StringIO(cli("audit", "--csv").stdout)))
    assert len(exported) == len(entries) and {"at", "actor", "before", "after"} <= exported[0].keys()
    only_fx = json.loads(cli("audit", "--json", "--entity", "fx_rate").stdout)
    assert len(only_fx) == 1 and only_fx[0]["entity_key"] == "EUR->USD 2026-10-01"
