"""Workload plans carry the contract-v2 inputs only the plan can say: escalation, lead time, SLO targets, on-demand rate.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 17:00:00+00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None

_COLUMNS = (
    ('escalation_share', sa.Float()),
    ('lead_time_days', sa.Float()),
    ('slo_p95_itl_ms', sa.Float()),
    ('slo_p95_ttft_ms', sa.Float()),
    ('on_demand_usd_per_gpu_hour', sa.Numeric()),
)


def upgrade() -> None:
    for name, kind in _COLUMNS:
        op.add_column('workload_plans', sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(_COLUMNS):
        op.drop_column('workload_plans', name)
