"""Prices: a pending flag, so a retroactive price change waits for `prices reprice`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 02:10:00+00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('prices', sa.Column('pending', sa.Boolean(), server_default='false', nullable=False))
    # One applied and one pending row may share a key: the pending one replaces it on reprice.
    op.drop_constraint('uq_prices_effective_key', 'prices', type_='unique')
    op.create_unique_constraint('uq_prices_effective_key', 'prices',
                                ['provider', 'model', 'effective_from', 'above_context_tokens', 'pending'])


def downgrade() -> None:
    op.execute("DELETE FROM prices WHERE pending")
    op.drop_constraint('uq_prices_effective_key', 'prices', type_='unique')
    op.create_unique_constraint('uq_prices_effective_key', 'prices',
                                ['provider', 'model', 'effective_from', 'above_context_tokens'])
    op.drop_column('prices', 'pending')
