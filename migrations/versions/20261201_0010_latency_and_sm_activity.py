"""vLLM latency histograms (cumulative buckets per scrape, bucket deltas per hour) and DCGM SM activity.

`inference_latency_buckets` keeps every bucket of vLLM's time-to-first-token and inter-token
latency histograms as read (cumulative, like the counters in inference_samples);
`inference_latency_hourly` holds each hour's bucket increases, reset-corrected, which p95s are
interpolated from. `gpu_samples.sm_active_frac` (DCGM_FI_PROF_SM_ACTIVE, 0..1) and its hourly mean
`gpu_hourly.sm_active_mean_frac` say how busy the SMs were, beside the engine-active utilisation.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 20:00:00+00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

NEW_TABLES = ('inference_latency_buckets', 'inference_latency_hourly')


def upgrade() -> None:
    op.create_table('inference_latency_buckets',
    sa.Column('sampled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('endpoint', sa.String(), nullable=False),
    sa.Column('model_name', sa.String(), nullable=False),
    sa.Column('engine', sa.String(), server_default='', nullable=False),
    sa.Column('metric', sa.String(), nullable=False),
    sa.Column('le_seconds', sa.Float(), nullable=False),
    sa.Column('cumulative_count', sa.Float(), nullable=False),
    sa.Column('run_id', sa.BigInteger(), nullable=True),
    sa.Column('is_demo', sa.Boolean(), server_default='false', nullable=False),
    sa.PrimaryKeyConstraint('sampled_at', 'endpoint', 'model_name', 'engine', 'metric', 'le_seconds',
                            name=op.f('pk_inference_latency_buckets'))
    )
    op.create_index('ix_inference_latency_buckets_sampled_at', 'inference_latency_buckets', ['sampled_at'])
    op.create_table('inference_latency_hourly',
    sa.Column('hour_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('endpoint', sa.String(), nullable=False),
    sa.Column('model_name', sa.String(), nullable=False),
    sa.Column('metric', sa.String(), nullable=False),
    sa.Column('le_seconds', sa.Float(), nullable=False),
    sa.Column('observations', sa.Float(), server_default='0', nullable=False),
    sa.Column('is_demo', sa.Boolean(), server_default='false', nullable=False),
    sa.PrimaryKeyConstraint('hour_at', 'endpoint', 'model_name', 'metric', 'le_seconds',
                            name=op.f('pk_inference_latency_hourly'))
    )
    op.add_column('gpu_samples', sa.Column('sm_active_frac', sa.Float(), nullable=True))
    op.add_column('gpu_hourly', sa.Column('sm_active_mean_frac', sa.Float(), nullable=True))
    for table in NEW_TABLES:  # the data-version trigger every table carries (0007)
        op.execute(f"CREATE TRIGGER hybridcost_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION hybridcost_bump_data_version()")


def downgrade() -> None:
    op.drop_column('gpu_hourly', 'sm_active_mean_frac')
    op.drop_column('gpu_samples', 'sm_active_frac')
    op.execute("DELETE FROM data_versions WHERE table_name IN ('inference_latency_buckets', 'inference_latency_hourly')")
    op.drop_table('inference_latency_hourly')
    op.drop_index('ix_inference_latency_buckets_sampled_at', table_name='inference_latency_buckets')
    op.drop_table('inference_latency_buckets')
