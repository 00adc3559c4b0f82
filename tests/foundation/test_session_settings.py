"""Every session hybridcost opens has JIT off (docs/deploy.md, "PostgreSQL server settings")."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from models.infra.database import make_engine


def test_sessions_have_jit_off_also_after_a_reconnect(db_url):
    plain = sa.create_engine(db_url)
    with plain.connect() as conn:
        default = conn.execute(sa.text("SHOW jit")).scalar_one()
    plain.dispose()
    if default != "on":
        pytest.skip(f"this test server's own default is already jit = {default}")
    engine = make_engine(db_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW jit")).scalar_one() == "off"
        engine.dispose()  # a new pool: the setting comes with every new connection, not once per engine
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW jit")).scalar_one() == "off"
        with engine.begin() as conn:  # inside a transaction too, and a rolled-back one does not undo it
            conn.execute(sa.text("SELECT 1"))
        with engine.connect() as conn:
            conn.rollback()
            assert conn.execute(sa.text("SHOW jit")).scalar_one() == "off"
    finally:
        engine.dispose()

