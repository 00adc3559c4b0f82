"""Apply, revert and check the Alembic migrations from code."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine

from models.catalogs import seed_catalogs

from models import data_versions, discipline_rollup, request_rollups

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at our migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    cfg.set_main_option("timezone", "UTC")
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`, then seed missing catalogs, version triggers and the request rollup.

    Tables a later revision adds get the data-version trigger here; the request rollup is built
    from usage_requests the first time (and again when a rule names a tag key it does not keep).
    """
    command.upgrade(alembic_config(url), revision)
    if revision == "head":
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                seed_catalogs(conn)
                data_versions.ensure_triggers(conn)
                request_rollups.ensure_tag_keys(conn)
                discipline_rollup.ensure_built(conn)
        finally:
            engine.dispose()


def downgrade(url: str, revision: str) -> None:
    """Revert migrations down to `revision` ('base' for an empty schema)."""
    command.downgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Raise when the models and the migrations disagree (alembic check)."""
    command.check(alembic_config(url))


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty schema."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision in the migrations folder."""
    script = ScriptDirectory.from_config(alembic_config(""))
    return script.get_current_head() or ""
