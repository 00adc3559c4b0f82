"""Request rollups without their wide primary keys: an index on the hour instead.

`request_hourly` (14 key columns, a JSONB among them) and `request_discipline_hourly` (21) were
keyed on every dimension. The loader only ever deletes an hour's rows and inserts a fresh GROUP BY
of them (one row per key by construction, under an advisory lock), and every read filters on the
hour; maintaining the wide unique index was most of the cost of keeping the rollups on load
(1.2 s of a 100,000-request load for request_hourly, 2.7 s for the flags: 2.3x and 1.7x less
without it). Both keep an index on hour_at.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 21:40:00+00:00
"""

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# As they were when written: a migration must not change when the models do.
_KEYS = {
    "request_hourly": ("hour_at", "provider", "account_id", "model", "endpoint_kind", "project_id", "api_key_id",
                       "user_id", "team", "workload_tag", "is_batch", "served", "tags", "is_demo"),
    "request_discipline_hourly": ("hour_at", "provider", "account_id", "model", "endpoint_kind", "project_id",
                                  "api_key_id", "user_id", "team", "workload_tag", "is_batch", "tags", "is_demo",
                                  "served", "is_repeat", "is_loop", "is_bulk", "short_output",
                                  "has_reasoning_tokens", "rate_limited", "has_fingerprint"),
}


def upgrade() -> None:
    for table in _KEYS:
        op.drop_constraint(f"pk_{table}", table, type_="primary")
        op.create_index(f"ix_{table}_hour_at", table, ["hour_at"])


def downgrade() -> None:
    for table, key in _KEYS.items():
        op.drop_index(f"ix_{table}_hour_at", table_name=table)
        op.create_primary_key(f"pk_{table}", table, list(key))
