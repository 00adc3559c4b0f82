"""Statistics on each GPU sample day partition: how many (UTC hour, GPU, MIG instance) groups it holds.

The hourly rollup groups a day partition by those three; without this the planner guesses ten
times too many groups and aggregates a whole day serially. New partitions get theirs when the
loader makes them (ingest/gpu_partitions.py); this gives the existing ones theirs.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 16:30:00+00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_DAY_PARTITIONS = (
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'gpu_samples' AND c.relname ~ '^gpu_samples_p[0-9]{8}$'")
# Kept here as it was when written: a migration must not change when the loader's copy does.
_HOUR = "date_bin('1 hour', sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')"


def upgrade() -> None:
    conn = op.get_bind()
    for name in conn.execute(sa.text(_DAY_PARTITIONS)).scalars():
        op.execute(f"CREATE STATISTICS IF NOT EXISTS {name}_hour_gpu (ndistinct) "
                   f"ON ({_HOUR}), gpu_uuid, mig_instance FROM {name}")
        op.execute(f"ANALYZE {name}")


def downgrade() -> None:
    conn = op.get_bind()
    for name in conn.execute(sa.text(_DAY_PARTITIONS)).scalars():
        op.execute(f"DROP STATISTICS IF EXISTS {name}_hour_gpu")
