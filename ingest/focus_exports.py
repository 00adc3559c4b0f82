"""FOCUS exports in the load: a re-issue replaces exactly the rows of the export it supersedes.

Runs inside the loader's transaction, once the export's rows are staged and before they are
merged. Per billing scope (provider, billing account, billing period start) that the new export
carries, every earlier export with rows there is either

- the **same series** (it has the same export name, or shares at least one line key with the new
  rows): the newer by issue time wins. An older one's rows in that scope are deleted and
  replaced; if an existing one is newer, the new rows of that scope are superseded and not
  stored. Equal issue times merge line by line. Load order never decides.
- **another export** (no shared name, no shared line): left alone, whatever it holds.

A byte-identical re-import is the same export (same fingerprint) and changes nothing. What the
load did (added, replaced, removed, unchanged, left alone, superseded: rows and money) is
returned as the run's detail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ingest import records as r
from ingest.loader import SPECS
from ingest.sources.focus_export import ExportUnit

_SPEC = SPECS[r.CostLine]
_KEY = ("basis", "provider", "account_id", "source_line_key")
_VALUES = tuple(c for c in _SPEC.columns if c not in _KEY and c != "export_id")
_SCOPE = "provider, account_id, billing_period_start_at"


def _money(value) -> str:
    return str(value if value is not None else Decimal(0))


def _register(conn: Connection, unit: ExportUnit, run_id: int, name: str, issued_at: datetime,
              issued_from: str) -> tuple[int, datetime, bool]:
    """The export's id and issue time, inserting it unless a byte-identical one is already stored."""
    row = conn.execute(sa.text(
        "INSERT INTO focus_exports (name, fingerprint, issued_at, issued_from, focus_version, files, first_run_id) "
        "VALUES (:n, :f, :i, :src, :v, CAST(:files AS jsonb), :run) "
        "ON CONFLICT (fingerprint) DO UPDATE SET fingerprint = EXCLUDED.fingerprint "
        "RETURNING id, issued_at, (xmax = 0) AS inserted"),
        {"n": name, "f": unit.fingerprint(name), "i": issued_at, "src": issued_from, "v": unit.focus_version,
         "files": json.dumps(unit.file_records()), "run": run_id}).one()
    return row.id, row.issued_at, row.inserted


def _staged(conn: Connection) -> bool:
    return conn.execute(sa.text("SELECT to_regclass('pg_temp.stage_cost_lines') IS NOT NULL")).scalar_one()


def supersede(conn: Connection, unit: ExportUnit, run_id: int, *, name: str | None = None,
              issued_at: datetime | None = None, issued_from: str | None = None) -> dict[str, Any]:
    """Tie the staged rows to their export, drop or replace what the issue order says; return the detail."""
    name = unit.name if name is None else name
    issued_at = issued_at or unit.issued_at
    issued_from = issued_from or unit.issued_from
    export_id, issued_at, inserted = _register(conn, unit, run_id, name, issued_at, issued_from)
    detail: dict[str, Any] = {"export_id": export_id, "export_name": name, "issued_at": issued_at.isoformat(),
                              "issued_from": issued_from, "new_export": inserted, "files": unit.file_records()}
    if not _staged(conn):
        return {**detail, **_empty_counts()}
    conn.execute(sa.text("UPDATE stage_cost_lines SET export_id = :e"), {"e": export_id})
    key = ", ".join(_KEY)
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE new_lines ON COMMIT DROP AS SELECT DISTINCT ON ({key}) * FROM stage_cost_lines "
        f"ORDER BY {key}, _seq DESC")
    _ensure_old(conn)
    earlier = conn.execute(sa.text(f"""
        SELECT c.provider, c.account_id, c.billing_period_start_at, c.export_id, e.issued_at, coalesce(e.name, ''),
               count(*), sum(c.billed_cost), count(n.source_line_key)
        FROM cost_lines c
        JOIN (SELECT DISTINCT {_SCOPE} FROM new_lines) s
          ON s.provider = c.provider AND s.account_id = c.account_id
         AND s.billing_period_start_at IS NOT DISTINCT FROM c.billing_period_start_at
        LEFT JOIN focus_exports e ON e.id = c.export_id
        LEFT JOIN new_lines n ON n.basis = c.basis AND n.provider = c.provider AND n.account_id = c.account_id
                             AND n.source_line_key = c.source_line_key
        WHERE c.basis = 'focus' AND c.export_id IS DISTINCT FROM :me
        GROUP BY 1, 2, 3, 4, 5, 6"""), {"me": export_id}).all()
    scopes: dict[tuple, list] = {}
    for provider, account, period, other, other_issued, other_name, rows, billed, overlap in earlier:
        scopes.setdefault((provider, account, period), []).append(
            (other, other_issued, other_name, rows, billed or Decimal(0), overlap))
    superseded_rows, superseded_money, superseded_by = 0, Decimal(0), set()
    left_rows, left_money, left_exports = 0, Decimal(0), set()
    replaced_exports: set[int | None] = set()
    for (provider, account, period), others in scopes.items():
        series = [o for o in others if (name and o[2] == name) or o[5] > 0]
        newer = [o for o in series if o[1] is not None and o[1] > issued_at]
        for o in others:
            if o not in series:
                left_rows, left_money = left_rows + o[3], left_money + o[4]
                left_exports.add(o[0])
        params = {"p": provider, "a": account, "b": period}
        where = ("provider = :p AND account_id = :a AND billing_period_start_at IS NOT DISTINCT FROM :b")
        if newer:
            rows, money = conn.execute(sa.text(
                f"SELECT count(*), coalesce(sum(billed_cost), 0) FROM new_lines WHERE {where}"), params).one()
            superseded_rows, superseded_money = superseded_rows + rows, superseded_money + money
            superseded_by |= {o[0] for o in newer}
            conn.execute(sa.text(f"DELETE FROM stage_cost_lines WHERE {where}"), params)
            conn.execute(sa.text(f"DELETE FROM new_lines WHERE {where}"), params)
            continue
        older = [o[0] for o in series if o[1] is None or o[1] < issued_at]
        if older:
            replaced_exports |= set(older)
            conn.execute(sa.text(
                f"INSERT INTO old_lines SELECT {', '.join(_KEY + _VALUES)} FROM cost_lines "
                f"WHERE basis = 'focus' AND {where} AND (export_id = ANY(:ids) OR (:legacy AND export_id IS NULL))"),
                {**params, "ids": [o for o in older if o is not None], "legacy": None in older})
    counts = _diff(conn)
    if replaced_exports:
        ids = [o for o in replaced_exports if o is not None]
        conn.execute(sa.text(
            "DELETE FROM cost_lines c USING old_lines o WHERE c.basis = o.basis AND c.provider = o.provider "
            "AND c.account_id = o.account_id AND c.source_line_key = o.source_line_key "
            "AND (c.export_id = ANY(:ids) OR (:legacy AND c.export_id IS NULL))"),
            {"ids": ids, "legacy": None in replaced_exports})
    changed = counts["added"]["rows"] + counts["replaced"]["rows"] + counts["removed"]["rows"]
    return {**detail, **counts, "changed_rows": changed,
            "left_alone": {"rows": left_rows, "money": _money(left_money), "exports": len(left_exports)},
            "superseded": {"rows": superseded_rows, "money": _money(superseded_money),
                           "by_exports": sorted(superseded_by)},
            "replaced_exports": sorted(o for o in replaced_exports if o is not None)}


def _ensure_old(conn: Connection) -> None:
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS old_lines ON COMMIT DROP AS SELECT {', '.join(_KEY + _VALUES)} "
        "FROM cost_lines WITH NO DATA")


def _empty_counts() -> dict[str, Any]:
    zero = {"rows": 0, "money": "0"}
    return {"added": zero, "replaced": {"rows": 0, "before": "0", "after": "0"}, "removed": zero,
            "unchanged": zero, "changed_rows": 0, "left_alone": {**zero, "exports": 0},
            "superseded": {**zero, "by_exports": []}, "replaced_exports": []}


def _diff(conn: Connection) -> dict[str, Any]:
    """Compare the new rows with what they meet: replaced exports' rows and stored rows with the same key."""
    on = " AND ".join(f"o.{c} = n.{c}" for c in _KEY)
    # Stored rows of any export that the new rows will overwrite by key are part of what they meet.
    conn.exec_driver_sql(
        f"INSERT INTO old_lines SELECT {', '.join('c.' + c for c in _KEY + _VALUES)} FROM cost_lines c "
        f"JOIN new_lines n ON {' AND '.join(f'c.{k} = n.{k}' for k in _KEY)} "
        f"WHERE NOT EXISTS (SELECT 1 FROM old_lines o WHERE {' AND '.join(f'o.{k} = c.{k}' for k in _KEY)})")
    same = "ROW(" + ", ".join(f"o.{c}" for c in _VALUES) + ") IS NOT DISTINCT FROM ROW(" + \
        ", ".join(f"n.{c}" for c in _VALUES) + ")"
    row = conn.exec_driver_sql(f"""
        SELECT count(*) FILTER (WHERE o.source_line_key IS NULL),
               coalesce(sum(n.billed_cost) FILTER (WHERE o.source_line_key IS NULL), 0),
               count(*) FILTER (WHERE n.source_line_key IS NULL),
               coalesce(sum(o.billed_cost) FILTER (WHERE n.source_line_key IS NULL), 0),
               count(*) FILTER (WHERE o.source_line_key IS NOT NULL AND n.source_line_key IS NOT NULL AND NOT ({same})),
               coalesce(sum(o.billed_cost) FILTER (WHERE o.source_line_key IS NOT NULL
                                                   AND n.source_line_key IS NOT NULL AND NOT ({same})), 0),
               coalesce(sum(n.billed_cost) FILTER (WHERE o.source_line_key IS NOT NULL
                                                   AND n.source_line_key IS NOT NULL AND NOT ({same})), 0),
               count(*) FILTER (WHERE o.source_line_key IS NOT NULL AND n.source_line_key IS NOT NULL AND {same}),
               coalesce(sum(n.billed_cost) FILTER (WHERE o.source_line_key IS NOT NULL
                                                   AND n.source_line_key IS NOT NULL AND {same}), 0)
        FROM old_lines o FULL OUTER JOIN new_lines n ON {on}""").one()
    added, added_m, removed, removed_m, changed, before, after, unchanged, unchanged_m = row
    return {"added": {"rows": added, "money": _money(added_m)},
            "replaced": {"rows": changed, "before": _money(before), "after": _money(after)},
            "removed": {"rows": removed, "money": _money(removed_m)},
            "unchanged": {"rows": unchanged, "money": _money(unchanged_m)}}


def preparer(unit: ExportUnit, *, name: str | None = None, issued_at: datetime | None = None,
             issued_from: str | None = None) -> Callable[[Connection, int], dict[str, Any]]:
    """The loader's `prepare` hook for one export unit."""

    def prepare(conn: Connection, run_id: int) -> dict[str, Any]:
        return supersede(conn, unit, run_id, name=name, issued_at=issued_at, issued_from=issued_from)

    return prepare
