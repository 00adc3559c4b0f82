"""Workload plans: the self-hosted candidate per workload, and the figures precomputed from it for the exporter.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-01 13:44:26.984338+00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workload_plan_figures',
    sa.Column('workload', sa.String(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('since_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('until_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data_version', sa.String(), server_default='', nullable=False),
    sa.Column('assessed', sa.Boolean(), nullable=False),
    sa.Column('above_breakeven', sa.Boolean(), nullable=True),
    sa.Column('move_date', sa.Date(), nullable=True),
    sa.Column('optimal_replicas', sa.Integer(), nullable=True),
    sa.Column('api_only_usd_month', sa.Numeric(), nullable=True),
    sa.Column('hybrid_usd_month', sa.Numeric(), nullable=True),
    sa.Column('throughput_gap', sa.Float(), nullable=True),
    sa.Column('candidate', sa.String(), server_default='', nullable=False),
    sa.Column('figures', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('workload', name=op.f('pk_workload_plan_figures'))
    )
    op.create_table('workload_plans',
    sa.Column('workload', sa.String(), nullable=False),
    sa.Column('choice', sa.String(), nullable=False),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('model', sa.String(), server_default='', nullable=False),
    sa.Column('gpu_type', sa.String(), server_default='', nullable=False),
    sa.Column('tensor_parallel', sa.Integer(), nullable=True),
    sa.Column('pricing', sa.String(), server_default='', nullable=False),
    sa.Column('throughput_source', sa.String(), server_default='', nullable=False),
    sa.Column('input_tokens_per_s', sa.Float(), nullable=True),
    sa.Column('output_tokens_per_s', sa.Float(), nullable=True),
    sa.Column('hourly_rate_usd', sa.Numeric(), nullable=True),
    sa.Column('purchase_price_usd', sa.Numeric(), nullable=True),
    sa.Column('amortization_months', sa.Integer(), nullable=True),
    sa.Column('power_watts', sa.Float(), nullable=True),
    sa.Column('pue', sa.Float(), nullable=True),
    sa.Column('electricity_usd_per_kwh', sa.Numeric(), nullable=True),
    sa.Column('ops_usd_per_gpu_month', sa.Numeric(), nullable=True),
    sa.Column('max_utilization', sa.Float(), nullable=True),
    sa.Column('replaces_provider', sa.String(), server_default='', nullable=False),
    sa.Column('replaces_model', sa.String(), server_default='', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.String(), server_default='', nullable=False),
    sa.Column('is_demo', sa.Boolean(), server_default='false', nullable=False),
    sa.CheckConstraint("choice IN ('self_host', 'no_local_equivalent')", name=op.f('ck_workload_plans_choice')),
    sa.CheckConstraint("pricing IN ('', 'rent', 'buy')", name=op.f('ck_workload_plans_pricing')),
    sa.CheckConstraint("throughput_source IN ('', 'published', 'measured', 'entered')", name=op.f('ck_workload_plans_throughput_source')),
    sa.ForeignKeyConstraint(['workload'], ['workloads.name'], name=op.f('fk_workload_plans_workload_workloads'), onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workload', name=op.f('pk_workload_plans'))
    )


def downgrade() -> None:
    op.drop_table('workload_plans')
    op.drop_table('workload_plan_figures')
