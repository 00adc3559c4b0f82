"""On the demo: the comparison profile bills nothing and the ledger's GPU lines are the pools that report."""

from datetime import date

import sqlalchemy as sa

from models.ledger import gpu


def test_demo_comparison_profile_bills_nothing(demo_env):
    engine = sa.create_engine(demo_env)
    try:
        with engine.connect() as conn:
            lines = gpu.pool_lines(conn, since=date(2026, 11, 1), until=date(2026, 11, 20))
            comparison = gpu.comparison_profiles(conn)
            profiles = conn.execute(sa.text("SELECT name FROM gpu_cost_profiles")).scalars().all()
    finally:
        engine.dispose()
    assert comparison == ["rented 8x H100 (comparison)"]
    assert set(lines["profile"].to_list()) == set(profiles) - set(comparison)
    assert lines.height > 0
