"""Guards: other tokens kept per request, run owners (pid, host) for abandoned runs, an audit log nobody rewrites.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 12:00:00+00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0006'
branch_labels = None
depends_on = None

# Only the table's owner (or a superuser, e.g. a restore) may change or remove audit entries; everyone
# else's inserts get the server's time and their own role, so an entry cannot be back-dated or disguised.
AUDIT_GUARD = """
CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    privileged boolean := (SELECT pg_has_role(current_user, c.relowner, 'MEMBER') FROM pg_class c
                           WHERE c.oid = TG_RELID);
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT privileged THEN
            NEW.at := now();
            NEW.db_role := current_user;
        END IF;
        RETURN NEW;
    END IF;
    IF NOT privileged THEN
        RAISE EXCEPTION 'audit_log is insert-only: % by % refused', TG_OP, current_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
"""


def upgrade() -> None:
    op.add_column('usage_requests', sa.Column('other_tokens', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('ingest_runs', sa.Column('pid', sa.Integer(), nullable=True))
    op.add_column('ingest_runs', sa.Column('host', sa.String(), server_default='', nullable=False))
    op.add_column('audit_log', sa.Column('db_role', sa.String(), server_default=sa.text('CURRENT_USER'),
                                         nullable=False))
    op.execute(AUDIT_GUARD)
    op.execute("CREATE TRIGGER audit_log_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_log "
               "FOR EACH ROW EXECUTE FUNCTION audit_log_guard()")
    op.execute("CREATE TRIGGER audit_log_guard_truncate BEFORE TRUNCATE ON audit_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_guard_truncate ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_guard ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_guard()")
    op.drop_column('audit_log', 'db_role')
    op.drop_column('ingest_runs', 'host')
    op.drop_column('ingest_runs', 'pid')
    op.drop_column('usage_requests', 'other_tokens')
