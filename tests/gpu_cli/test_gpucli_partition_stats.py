"""Day partitions carry statistics on the rollup's groups, so the planner sizes a day's rollup right."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ingest.loader import load
from ingest.records import GpuSample
from models.infra import migrate
from models.rollups import SAMPLE_HOUR

DAY = datetime(2026, 4, 1, tzinfo=UTC)
PARTITION = "gpu_samples_p20260401"
GPUS, HOURS, PER_HOUR = 4, 3, 60  # 12 (hour, GPU) groups of 60 samples


def _samples() -> list[GpuSample]:
    return [GpuSample(sampled_at=DAY + timedelta(hours=h, minutes=m), host="h", gpu_uuid=f"GPU-{g}", source="nvml",
                      utilization_pct=float(m)) for g in range(GPUS) for h in range(HOURS) for m in range(PER_HOUR)]


def _estimated_groups(engine) -> float:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ANALYZE {PARTITION}")
        plan = conn.exec_driver_sql(
            f"EXPLAIN (FORMAT JSON) SELECT {SAMPLE_HOUR}, gpu_uuid, mig_instance, count(*) FROM {PARTITION} "
            "GROUP BY 1, 2, 3").scalar_one()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return plan[0]["Plan"]["Plan Rows"]


def _statistics(engine) -> list[str]:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT stxname FROM pg_statistic_ext WHERE stxrelid = to_regclass(:t)"),
                            {"t": PARTITION}).scalars().all()


def test_a_new_partition_knows_how_many_hour_gpu_groups_it_holds(engine):
    load(engine, _samples(), source="nvml", target="t")
    assert _statistics(engine) == [f"{PARTITION}_hour_gpu"]
    groups = GPUS * HOURS
    assert groups / 2 <= _estimated_groups(engine) <= groups * 2
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP STATISTICS {PARTITION}_hour_gpu")
    # What the planner guessed without them: far more groups than there are, so no parallel hashing.
    assert _estimated_groups(engine) > groups * 4


def test_the_migration_gives_existing_partitions_their_statistics(engine, db_url):
    load(engine, _samples(), source="nvml", target="t")
    engine.dispose()
    migrate.downgrade(db_url, "0010")
    assert _statistics(engine) == []
    migrate.upgrade(db_url)
    assert _statistics(engine) == [f"{PARTITION}_hour_gpu"]
