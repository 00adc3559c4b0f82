"""Alembic environment: the URL comes from the caller or the settings, never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from models.schema import metadata

config = context.config


def include_object(obj, name, type_, reflected, compare_to):
    """Skip partitions of partitioned tables: they are made on demand, not by migrations."""
    if type_ == "table" and reflected and compare_to is None and name.startswith("gpu_samples_"):
        return False
    return True


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from models.infra.database import database_url
        from models.infra.settings import get_settings

        url = database_url(get_settings())
    return url


def run_migrations() -> None:
    """Run migrations online, on a given connection when the caller passes one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, include_object=include_object,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, include_object=include_object,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations()
