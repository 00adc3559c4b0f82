"""What commands share: the settings and the engine, made on demand."""

from __future__ import annotations

import functools

from sqlalchemy import Engine

from models.database import database_url, make_engine
from models.settings import Settings, get_settings


@functools.cache
def settings() -> Settings:
    """The settings for this command, read once."""
    return get_settings()


@functools.cache
def engine() -> Engine:
    """The engine for this command (starting the embedded server if needed)."""
    return make_engine(database_url(settings()))


def reset() -> None:
    """Forget cached settings and engine (tests change the environment between commands)."""
    if engine.cache_info().currsize:
        engine().dispose()
    engine.cache_clear()
    settings.cache_clear()
