"""One MIG GPU is one GPU for GPU-hours, cost and counts; a profile that matches no host bills nothing."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest

from ingest.loader import load
from ingest.sources.dcgm import DcgmSource
from models.ledger import edits, gpu
from models.queries.fleet import fleet_gpus, fleet_summary
from models.queries.gpu_spend import gpu_spend_daily

H0 = datetime(2026, 10, 1, 10, tzinfo=UTC)
UUID = "GPU-5a1c3c9e-0000-4000-8000-00000000a100"
# The shape of NVIDIA's dcgm-exporter example of an A100 in MIG mode (values and names our own): device-level
# series without GPU_I_ID, and the same metrics per GPU instance with GPU_I_PROFILE and GPU_I_ID.
SCRAPE = f"""
DCGM_FI_DEV_GPU_TEMP{{gpu="0",UUID="{UUID}",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",Hostname="mig-node-1"}} 41
DCGM_FI_DEV_POWER_USAGE{{gpu="0",UUID="{UUID}",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",Hostname="mig-node-1"}} 210.5
DCGM_FI_DEV_GPU_UTIL{{gpu="0",UUID="{UUID}",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",Hostname="mig-node-1"}} 0
DCGM_FI_PROF_GR_ENGINE_ACTIVE{{gpu="0",UUID="{UUID}",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",Hostname="mig-node-1"}} 0.931
DCGM_FI_PROF_GR_ENGINE_ACTIVE{{gpu="0",UUID="{UUID}",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",GPU_I_PROFILE="1g.5gb",GPU_I_ID="13",Hostname="mig-node-1",namespace="labeling",pod="label-0"}} 0.996
DCGM_FI_DEV_FB_USED{{gpu="0",UUID="{UUID}",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",GPU_I_PROFILE="1g.5gb",GPU_I_ID="13",Hostname="mig-node-1",namespace="labeling",pod="label-0"}} 4100
"""
PLAIN = SCRAPE.replace(UUID, "GPU-plain-0000").replace("mig-node-1", "plain-node-1").split("\n")
PLAIN = "\n".join(line for line in PLAIN if "GPU_I_ID" not in line) + "\n"


@pytest.fixture
def mig_fleet(engine):
    records = []
    for minute in range(0, 60, 10):
        records += list(DcgmSource(SCRAPE, at=H0 + timedelta(minutes=minute)).collect())
        records += list(DcgmSource(PLAIN, at=H0 + timedelta(minutes=minute)).collect())
    load(engine, records, source="dcgm", target="two scrapes")
    with engine.begin() as conn:
        edits.save_gpu_profile(conn, "a100-rented", {"gpu_type": "A100", "gpu_count": 2, "pricing": "rent",
                                                    "host_pattern": "*-node-1", "hourly_rate_usd": Decimal("2"),
                                                    "ops_usd_per_gpu_month": Decimal(0)}, actor="tester")
        edits.save_gpu_profile(conn, "rented 8x H100 (comparison)", {
            "gpu_type": "H100", "gpu_count": 8, "pricing": "rent", "host_pattern": "h100-cloud-*",
            "hourly_rate_usd": Decimal("3.99"), "ops_usd_per_gpu_month": Decimal(0)}, actor="tester")
        edits.save_rule(conn, workload="labeling", match_field="namespace", pattern="labeling", priority=1,
                        actor="tester")
    return engine


def test_the_scrape_keeps_profile_and_no_wrong_zero(mig_fleet):
    parent, instance = sorted((s for s in DcgmSource(SCRAPE, at=H0).collect()), key=lambda s: s.mig_instance)
    assert (parent.mig_instance, instance.mig_instance, instance.mig_profile) == ("", "13", "1g.5gb")
    assert parent.utilization_pct == pytest.approx(93.1) and instance.utilization_pct == pytest.approx(99.6)


def test_mig_gpu_counts_once_in_fleet_and_spend(mig_fleet):
    since, until = H0, H0 + timedelta(hours=1)
    with mig_fleet.connect() as conn:
        gpus = fleet_gpus(conn, since, until)
        pools = fleet_summary(conn, since, until)
        spend = gpu_spend_daily(conn, since=since, until=until)
    assert gpus.height == 2 and pools["gpus"].sum() == 2
    mig = gpus.filter(pl.col("gpu_uuid") == UUID).row(0, named=True)
    assert mig["mig_instance"] == "13"
    assert mig["busy_hours"] == pytest.approx(1 / 7)  # the 1g.5gb slice is a seventh of the A100, busy all hour
    assert mig["power_mean_watts"] == pytest.approx(210.5)
    assert spend["gpu_hours"].sum() == 2 and spend["cost_usd"].sum() == pytest.approx(4.0)


def test_ledger_bills_one_gpu_hour_per_gpu_and_never_a_comparison(mig_fleet, cli):
    with mig_fleet.connect() as conn:
        lines = gpu.pool_lines(conn, since=date(2026, 10, 1), until=date(2026, 10, 2))
        comparison = gpu.comparison_profiles(conn)
    assert comparison == ["rented 8x H100 (comparison)"]
    assert set(lines["profile"].to_list()) == {"a100-rented"}
    assert sum(lines["cost_usd"].to_list(), Decimal(0)) == Decimal("96")  # 2 GPUs x 24 h x $2
    busy = {r["workload"]: r["gpu_hours"] for r in lines.iter_rows(named=True)}
    # labeling ran on the slice (1/7 of a GPU-hour); the plain GPU's busy hour is unallocated; the rest is idle
    assert busy["labeling"] == pytest.approx(1 / 7) and busy["unallocated"] == pytest.approx(1.0)
    assert busy["idle"] == pytest.approx(48 - 1 - 1 / 7)
    out = cli("ledger", "gpu", "--since", "2026-10-01", "--until", "2026-10-01")
    assert out.exit_code == 0 and "total: $96.00 USD" in out.output
    assert "comparison only, not billed (no reporting host matches): rented 8x H100 (comparison)" in out.output
