"""Exactly-once money: FOCUS exports as units, bill fields on cost lines, 1-hour cache writes, MIG profiles.

Revision ID: 0004
Revises: 0006
Create Date: 2026-12-01 12:00:00+00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('focus_exports',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(), server_default='', nullable=False),
    sa.Column('fingerprint', sa.String(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_from', sa.String(), nullable=False),
    sa.Column('focus_version', sa.String(), server_default='', nullable=False),
    sa.Column('files', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('first_run_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('is_demo', sa.Boolean(), server_default='false', nullable=False),
    sa.ForeignKeyConstraint(['first_run_id'], ['ingest_runs.id'], name=op.f('fk_focus_exports_first_run_id_ingest_runs'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_focus_exports')),
    sa.UniqueConstraint('fingerprint', name='uq_focus_exports_fingerprint')
    )
    op.add_column('cost_lines', sa.Column('charge_kind', sa.String(), server_default='', nullable=False))
    op.add_column('cost_lines', sa.Column('token_type', sa.String(), server_default='', nullable=False))
    op.add_column('cost_lines', sa.Column('tokens', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('cost_lines', sa.Column('export_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_cost_lines_export_id_focus_exports'), 'cost_lines', 'focus_exports',
                          ['export_id'], ['id'], ondelete='SET NULL')
    op.create_index('ix_cost_lines_charge_period_end_at', 'cost_lines', ['charge_period_end_at'], unique=False)
    op.create_index('ix_cost_lines_export_id', 'cost_lines', ['export_id'], unique=False)
    # Lines loaded before this revision: token lines are token charges.
    op.execute("UPDATE cost_lines SET charge_kind = 'tokens' WHERE ai_class = 'token'")
    op.add_column('prices', sa.Column('cache_write_1h_usd_per_mtok', sa.Numeric(), nullable=True))
    op.add_column('usage_hourly', sa.Column('cache_write_1h_input_tokens', sa.BigInteger(), server_default='0',
                                            nullable=False))
    op.add_column('ingest_runs', sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default='{}',
                                           nullable=False))
    op.add_column('gpu_samples', sa.Column('mig_profile', sa.String(), server_default='', nullable=False))
    op.add_column('gpu_hourly', sa.Column('mig_profile', sa.String(), server_default='', nullable=False))


def downgrade() -> None:
    op.drop_column('gpu_hourly', 'mig_profile')
    op.drop_column('gpu_samples', 'mig_profile')
    op.drop_column('ingest_runs', 'detail')
    op.drop_column('usage_hourly', 'cache_write_1h_input_tokens')
    op.drop_column('prices', 'cache_write_1h_usd_per_mtok')
    op.drop_index('ix_cost_lines_export_id', table_name='cost_lines')
    op.drop_index('ix_cost_lines_charge_period_end_at', table_name='cost_lines')
    op.drop_constraint(op.f('fk_cost_lines_export_id_focus_exports'), 'cost_lines', type_='foreignkey')
    op.drop_column('cost_lines', 'export_id')
    op.drop_column('cost_lines', 'tokens')
    op.drop_column('cost_lines', 'token_type')
    op.drop_column('cost_lines', 'charge_kind')
    op.drop_table('focus_exports')
