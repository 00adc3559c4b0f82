"""Shared bench helpers: a throwaway embedded server and a migrated database on it."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from models.infra import embedded, migrate
from models.infra.database import ensure_database, make_engine


@contextlib.contextmanager
def scratch_database(name: str = "bench") -> Iterator[str]:
    """A migrated database on a private embedded server, removed afterwards; yields its URL."""
    data_dir = Path(tempfile.mkdtemp(prefix="hybridcost-bench-"))
    try:
        socket_dir = embedded.start(data_dir)
        ensure_database(embedded.url_for(socket_dir, "postgres"), name)
        url = embedded.url_for(socket_dir, name)
        migrate.upgrade(url)
        yield url
    finally:
        with contextlib.suppress(Exception):
            embedded.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


__all__ = ["scratch_database", "make_engine"]
