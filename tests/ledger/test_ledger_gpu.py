"""An owned 8-GPU pool shared between two workloads by measured GPU-hours, with an idle line."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa

from models.ledger import edits, gpu, lines

DAY = date(2026, 10, 1)
H0 = datetime(2026, 10, 1, tzinfo=timezone.utc)


def _seed(engine):
    with engine.begin() as conn:
        edits.save_gpu_profile(conn, "h100-pool", {
            "gpu_type": "H100", "gpu_count": 8, "pricing": "buy", "host_pattern": "gpu-node-*",
            "purchase_price_usd": Decimal("30000"), "amortization_months": 36, "power_watts": 700.0, "pue": 1.5,
            "electricity_usd_per_kwh": Decimal("0.10"), "ops_usd_per_gpu_month": Decimal("150"),
            "started_on": DAY}, actor="tester")
        edits.save_rule(conn, workload="labeling", match_field="namespace", pattern="labeling", priority=1,
                        actor="tester")
        edits.save_rule(conn, workload="support", match_field="pod", pattern="chat-*", priority=2, actor="tester")
        rows = []
        for hour in range(24):
            for index in range(8):
                if index < 4:    # labeling: 75 % busy at 500 W
                    ns, pod, busy, watts = "labeling", f"label-{index}", 0.75, 500.0
                elif index < 6:  # support: 50 % busy at 400 W
                    ns, pod, busy, watts = "serving", f"chat-{index}", 0.5, 400.0
                else:            # nothing scheduled, no power telemetry
                    ns, pod, busy, watts = "", "", 0.0, None
                rows.append({"h": H0 + timedelta(hours=hour), "u": f"GPU-{index}", "ns": ns, "pod": pod,
                             "b": busy, "w": watts})
        conn.execute(sa.text(
            "INSERT INTO gpu_hourly (hour_at, gpu_uuid, host, namespace, pod, samples, busy_fraction, "
            "power_mean_watts) VALUES (:h, :u, 'gpu-node-1', :ns, :pod, 60, :b, :w)"), rows)
        conn.execute(sa.text(
            "INSERT INTO inference_hourly (hour_at, endpoint, model_name, workload, prompt_tokens, generation_tokens) "
            "VALUES (:h, 'http://gpu-node-1:8000', 'llama', 'labeling', 600000000, 400000000)"), {"h": H0})


def _expected_cost() -> Decimal:
    hours = Decimal(8 * 24)
    capital = Decimal(30000) / (Decimal(36) * 730)
    ops = Decimal(150) / 730
    kwh = (Decimal(4 * 24 * 500 + 2 * 24 * 400) + Decimal(2 * 24 * 700)) / 1000  # measured, then nameplate
    return hours * (capital + ops) + kwh * Decimal("1.5") * Decimal("0.10")


def test_pool_shared_by_measured_gpu_hours_with_idle_remainder(engine):
    _seed(engine)
    with engine.connect() as conn:
        frame = gpu.pool_lines(conn, since=DAY, until=DAY + timedelta(days=1))
    by = {row["workload"]: row for row in frame.iter_rows(named=True)}
    assert set(by) == {"labeling", "support", "idle"}
    assert (by["labeling"]["gpu_hours"], by["support"]["gpu_hours"], by["idle"]["gpu_hours"]) == (72, 24, 96)
    pool = gpu.day_cost({"gpu_count": 8, "pricing": "buy", "ops_usd_per_gpu_month": 150, "purchase_price_usd": 30000,
                         "amortization_months": 36, "power_watts": 700, "pue": 1.5, "electricity_usd_per_kwh": "0.10"},
                        [("x", "x", 96, 0, 144, 67200)])
    assert abs(pool - _expected_cost()) < Decimal("1e-9")
    total = by["labeling"]["cost_usd"] + by["support"]["cost_usd"] + by["idle"]["cost_usd"]
    assert total == pool  # the three lines sum exactly to the pool's cost
    assert abs(by["labeling"]["cost_usd"] - pool * 72 / 192) < Decimal("1e-9")
    assert abs(by["idle"]["cost_usd"] - pool * 96 / 192) < Decimal("1e-9")


def test_pool_lines_enter_the_ledger_and_give_cost_per_mtok(engine):
    _seed(engine)
    with engine.begin() as conn:
        assert gpu.write_pool_lines(conn, since=DAY, until=DAY + timedelta(days=1)) == 3
    with engine.connect() as conn:
        frame = gpu.pool_lines(conn, since=DAY, until=DAY + timedelta(days=1))
        ledger = lines.totals(lines.ledger_daily(conn, since=H0, until=H0 + timedelta(days=1)), "ai_class")
        per_mtok = gpu.self_hosted_vs_api(conn, since=DAY, until=DAY + timedelta(days=1))
    assert ledger.row(0, named=True)["net"] == sum(frame["cost_usd"].to_list(), Decimal(0))
    labeling = per_mtok.filter(per_mtok["workload"] == "labeling").row(0, named=True)
    assert labeling["self_hosted_tokens"] == 1_000_000_000
    assert abs(labeling["self_hosted_usd_per_mtok"] - float(labeling["gpu_cost_usd"]) / 1000) < 1e-9
