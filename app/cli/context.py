"""What commands share: the settings and the engine, made on demand."""

from __future__ import annotations

import functools

from sqlalchemy import Engine

from app.cli.errors import UserError
from models.infra import migrate
from models.infra.database import database_url, make_engine
from models.infra.settings import Settings, get_settings


@functools.cache
def settings() -> Settings:
    """The settings for this command, read once."""
    return get_settings()


@functools.cache
def _engine() -> Engine:
    return make_engine(database_url(settings()))


def engine(*, check_schema: bool = True) -> Engine:
    """The engine for this command (starting the embedded server if needed).

    With check_schema, a database behind this version's migrations is a clear user error
    rather than a confusing SQL failure later.
    """
    eng = _engine()
    if check_schema:
        _check_schema(eng)
    return eng


@functools.cache
def _check_schema(eng: Engine) -> None:
    current, head = migrate.current_revision(eng), migrate.head_revision()
    if current != head:
        raise UserError(f"the database schema is at revision {current or 'empty'}, this version needs {head}: "
                        "run `hybridcost db upgrade` (or `hybridcost up`)")


def reset() -> None:
    """Forget cached settings and engine (tests change the environment between commands)."""
    if _engine.cache_info().currsize:
        _engine().dispose()
    _engine.cache_clear()
    _check_schema.cache_clear()
    settings.cache_clear()
