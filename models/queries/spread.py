"""Charges spread over their period: every day-level view sees a line's money on the days it covers.

A cost line whose charge period spans more than one UTC day (a monthly invoice line, a monthly
FOCUS row) is shared over the UTC days of [ChargePeriodStart, ChargePeriodEnd) in proportion to
the hours of each day it covers. Each day's share is rounded to 1e-10 and the last day takes the
remainder, the rule the system of record uses for every share, so the days add up to the line
exactly. A line within one day stays on that day. Example: 31.00 over October is 1.00 a day;
10.00 from 22:00 on 1 March to 02:00 on 2 March is 5.00 on each day.
"""

from __future__ import annotations


def spread_join(start: str, end: str, alias: str = "sp") -> str:
    """CROSS JOIN LATERAL giving `alias.day`, `.secs` (seconds of the period on that day), `.total_secs`,
    `.rn` and `.n` (the day's position among the period's days) for a charge period [start, end), and
    `.win_secs`: the seconds of that day's part that fall inside the query's [:since, :until)."""
    return f"""CROSS JOIN LATERAL (
        SELECT CAST(g AS date) AS day,
               extract(epoch FROM least(g + interval '1 day', t.e) - greatest(g, t.s)) AS secs,
               extract(epoch FROM least(g + interval '1 day', t.e, CAST(:until AS timestamptz) AT TIME ZONE 'UTC')
                                  - greatest(g, t.s, CAST(:since AS timestamptz) AT TIME ZONE 'UTC')) AS win_secs,
               extract(epoch FROM t.e - t.s) AS total_secs,
               row_number() OVER (ORDER BY g) AS rn, count(*) OVER () AS n
        FROM (SELECT ({start}) AT TIME ZONE 'UTC' AS s,
                     greatest(({end}), ({start}) + interval '1 microsecond') AT TIME ZONE 'UTC' AS e) t,
             generate_series(date_trunc('day', t.s), t.e - interval '1 microsecond', interval '1 day') g
    ) {alias}"""


def share(amount: str, line_id: str, alias: str = "sp") -> str:
    """NUMERIC: the day's share of `amount` (rounded to 1e-10), the period's last day taking the remainder.

    Use in a query that has `spread_join` as `alias`; `line_id` partitions the days of one line.
    """
    part = f"round(({amount}) * {alias}.secs / {alias}.total_secs, 10)"
    return (f"CASE WHEN {alias}.rn = {alias}.n THEN ({amount}) - coalesce(sum({part}) OVER "
            f"(PARTITION BY {line_id}) - {part}, 0) ELSE {part} END")


def in_window(day_share: str, alias: str = "sp") -> str:
    """The part of a day's share inside [:since, :until): all of it for whole days, else by seconds (1e-10)."""
    return (f"CASE WHEN {alias}.win_secs >= {alias}.secs THEN {day_share} "
            f"ELSE round({day_share} * {alias}.win_secs / {alias}.secs, 10) END")


def share_int(amount: str, line_id: str, alias: str = "sp") -> str:
    """BIGINT: the day's whole share of a count (tokens), the last day taking the remainder."""
    part = f"round(({amount}) * {alias}.secs / {alias}.total_secs)"
    return (f"CAST(CASE WHEN {alias}.rn = {alias}.n THEN ({amount}) - coalesce(sum({part}) OVER "
            f"(PARTITION BY {line_id}) - {part}, 0) ELSE {part} END AS bigint)")


def window_filter(alias: str = "sp") -> str:
    """WHERE condition on spread days: the day's part of the period overlaps [:since, :until)."""
    return f"{alias}.win_secs > 0"


def overlaps(alias: str = "c") -> str:
    """WHERE condition: the line's charge period overlaps [:since, :until)."""
    return (f"{alias}.charge_period_start_at < :until AND ({alias}.charge_period_end_at > :since "
            f"OR {alias}.charge_period_start_at >= :since)")
