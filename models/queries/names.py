"""Names stored with invisible characters, and the lookalikes they make (for doctor, the Data page, reports)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from models.names import invisible_pattern, lookalikes, shown, skeleton

# (what, table, column): every name a person reads on a page, in the CLI or in a report.
NAME_COLUMNS = (
    ("workload", "workloads", "name"), ("team", "workloads", "team"), ("team", "usage_requests", "team"),
    ("workload", "usage_requests", "workload_tag"), ("model", "usage_requests", "model"),
    ("user", "usage_requests", "user_id"), ("project", "usage_requests", "project_id"),
    ("model", "usage_hourly", "model"), ("project", "usage_hourly", "project_id"),
    ("model", "cost_lines", "model"), ("project", "cost_lines", "project_id"), ("budget", "budgets", "name"),
    ("scenario", "scenarios", "name"),
)


def lookalike_names(conn: Connection) -> list[dict]:
    """Per kind of name, the groups that display alike but differ by invisible characters ('shown' escaped)."""
    found: dict[str, set[str]] = {}
    for kind, table, column in NAME_COLUMNS:
        odd = conn.execute(sa.text(f"SELECT DISTINCT {column} FROM {table} WHERE {column} ~ :p"),
                           {"p": invisible_pattern()}).scalars().all()
        if not odd:
            continue
        bases = sorted({skeleton(n) for n in odd})
        twins = conn.execute(sa.text(f"SELECT DISTINCT {column} FROM {table} WHERE {column} = ANY(:b)"),
                             {"b": bases}).scalars().all()
        found.setdefault(kind, set()).update(odd, twins)
    out = []
    for kind, names in sorted(found.items()):
        for group in lookalikes(sorted(names)):
            out.append({"kind": kind, "names": group, "shown": [shown(n) for n in group]})
    return out
