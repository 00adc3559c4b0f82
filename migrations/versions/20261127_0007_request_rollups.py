"""Request rollups (request_hourly, request_discipline_hourly) and data versions (a trigger on every table).

`migrate.upgrade` fills both rollups from usage_requests after this revision (the rollup's
tag keys come from the attribution rules) and adds the version trigger to tables that later
revisions create.

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-27 09:00:00+00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0004'
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION hybridcost_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_versions (table_name, version, changed_at) VALUES (TG_TABLE_NAME, 1, now())
    ON CONFLICT (table_name) DO UPDATE SET version = data_versions.version + 1, changed_at = now();
    RETURN NULL;
END $$
"""

TRIGGERS = """
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND c.relname NOT IN ('data_versions', 'alembic_version')
               AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid
                               AND g.tgname = 'hybridcost_data_version')
    LOOP
        EXECUTE format('CREATE TRIGGER hybridcost_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                       'ON %I FOR EACH STATEMENT EXECUTE FUNCTION hybridcost_bump_data_version()', t);
    END LOOP;
END $$
"""

DROP_TRIGGERS = """
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
             WHERE g.tgname = 'hybridcost_data_version'
    LOOP
        EXECUTE format('DROP TRIGGER hybridcost_data_version ON %I', t);
    END LOOP;
END $$
"""


def upgrade() -> None:
    op.create_table('data_versions',
    sa.Column('table_name', sa.String(), nullable=False),
    sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('table_name', name=op.f('pk_data_versions'))
    )
    op.create_table('request_hourly',
    sa.Column('hour_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('provider', sa.String(), nullable=False),
    sa.Column('account_id', sa.String(), nullable=False),
    sa.Column('model', sa.String(), nullable=False),
    sa.Column('endpoint_kind', sa.String(), nullable=False),
    sa.Column('project_id', sa.String(), nullable=False),
    sa.Column('api_key_id', sa.String(), nullable=False),
    sa.Column('user_id', sa.String(), nullable=False),
    sa.Column('team', sa.String(), nullable=False),
    sa.Column('workload_tag', sa.String(), nullable=False),
    sa.Column('is_batch', sa.Boolean(), nullable=False),
    sa.Column('served', sa.Boolean(), nullable=False),
    sa.Column('tags', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('requests', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('input_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cached_input_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('output_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('reasoning_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('reported_cost_usd', sa.Numeric(), nullable=True),
    sa.Column('unreported_requests', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('unreported_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('fingerprinted_requests', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('reasoning_token_requests', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('rate_limited_requests', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('hour_at', 'provider', 'account_id', 'model', 'endpoint_kind', 'project_id',
                            'api_key_id', 'user_id', 'team', 'workload_tag', 'is_batch', 'served', 'tags', 'is_demo',
                            name=op.f('pk_request_hourly'))
    )
    op.create_table('request_discipline_hourly',
    sa.Column('hour_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('provider', sa.String(), nullable=False),
    sa.Column('account_id', sa.String(), nullable=False),
    sa.Column('model', sa.String(), nullable=False),
    sa.Column('endpoint_kind', sa.String(), nullable=False),
    sa.Column('project_id', sa.String(), nullable=False),
    sa.Column('api_key_id', sa.String(), nullable=False),
    sa.Column('user_id', sa.String(), nullable=False),
    sa.Column('team', sa.String(), nullable=False),
    sa.Column('workload_tag', sa.String(), nullable=False),
    sa.Column('is_batch', sa.Boolean(), nullable=False),
    sa.Column('tags', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('served', sa.Boolean(), nullable=False),
    sa.Column('is_repeat', sa.Boolean(), nullable=False),
    sa.Column('is_loop', sa.Boolean(), nullable=False),
    sa.Column('is_bulk', sa.Boolean(), nullable=False),
    sa.Column('short_output', sa.Boolean(), nullable=False),
    sa.Column('has_reasoning_tokens', sa.Boolean(), nullable=False),
    sa.Column('rate_limited', sa.Boolean(), nullable=False),
    sa.Column('has_fingerprint', sa.Boolean(), nullable=False),
    sa.Column('requests', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('input_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cached_input_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('output_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('reasoning_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('reported_cost_usd', sa.Numeric(), nullable=True),
    sa.Column('latencies_ms', postgresql.ARRAY(sa.Float()), server_default='{}', nullable=False),
    sa.PrimaryKeyConstraint('hour_at', 'provider', 'account_id', 'model', 'endpoint_kind', 'project_id',
                            'api_key_id', 'user_id', 'team', 'workload_tag', 'is_batch', 'tags', 'is_demo', 'served',
                            'is_repeat', 'is_loop', 'is_bulk', 'short_output', 'has_reasoning_tokens', 'rate_limited',
                            'has_fingerprint', name=op.f('pk_request_discipline_hourly'))
    )
    op.execute(FUNCTION)
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute(DROP_TRIGGERS)
    op.execute("DROP FUNCTION IF EXISTS hybridcost_bump_data_version()")
    op.execute("DELETE FROM app_settings WHERE key = 'request_rollup_tag_keys'")
    op.drop_table('request_discipline_hourly')
    op.drop_table('request_hourly')
    op.drop_table('data_versions')
