"""Which database to use, and engines for it."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from models.infra import embedded
from models.infra.settings import Settings, get_settings

DEFAULT_DB_NAME = "hybridcost"


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver whatever scheme the user wrote."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def database_url(settings: Settings, *, start: bool = True) -> str:
    """The URL of the configured database, starting the embedded server when needed."""
    if settings.database_url is not None:
        return normalise_url(settings.database_url.get_secret_value())
    socket_dir = embedded.start(settings.data_dir) if start else embedded.socket_dir_if_running(settings.data_dir)
    if socket_dir is None:
        state = "is not running" if (settings.pg_dir / "PG_VERSION").exists() else "was never created"
        raise embedded.EmbeddedDatabaseError(f"embedded PostgreSQL in {settings.pg_dir} {state}: "
                                             "start it with `hybridcost up` (or set DATABASE_URL)")
    ensure_database(embedded.url_for(socket_dir, "postgres"), DEFAULT_DB_NAME)
    return embedded.url_for(socket_dir, DEFAULT_DB_NAME)


def ensure_database(admin_url: str, name: str) -> None:
    """Create database `name` on the server at admin_url if it does not exist."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def _session_settings(dbapi_connection, _record) -> None:
    """JIT off for every session: the planner's estimates for the spend query's CTEs pass jit_above_cost
    on tiny data, and compiling it took 25-30 s per query on a Debian/Docker PostgreSQL built with LLVM."""
    with dbapi_connection.cursor() as cur:
        cur.execute("SET jit = off")
    if not dbapi_connection.autocommit:
        dbapi_connection.commit()


def make_engine(url: str, **kwargs) -> Engine:
    """An engine with pre-ping (a restarted server is reconnected transparently) and JIT off per session."""
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    event.listen(engine, "connect", _session_settings)
    return engine


def get_engine(settings: Settings | None = None) -> Engine:
    """The engine for the configured database (embedded started if needed)."""
    return make_engine(database_url(settings or get_settings()))


def reader_url(settings: Settings) -> str:
    """The URL pages read through: HYBRIDCOST_READER_DATABASE_URL, else the main database."""
    if settings.reader_database_url is not None:
        return normalise_url(settings.reader_database_url.get_secret_value())
    return database_url(settings)


def writer_url(settings: Settings) -> str:
    """The URL edits go through: HYBRIDCOST_WRITER_DATABASE_URL, else the main database."""
    if settings.writer_database_url is not None:
        return normalise_url(settings.writer_database_url.get_secret_value())
    return database_url(settings)


def reader_engine(settings: Settings | None = None) -> Engine:
    """An engine that connects as the read-only role when one is configured."""
    return make_engine(reader_url(settings or get_settings()))


def writer_engine(settings: Settings | None = None) -> Engine:
    """An engine that connects as the writer role when one is configured."""
    return make_engine(writer_url(settings or get_settings()))
