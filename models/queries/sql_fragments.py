"""SQL shared by the queries: price lookup and attribution rules applied at query time."""

from __future__ import annotations

# Glob (* and ?) to LIKE, escaping LIKE's own wildcards so hostile names match literally.
LIKE_FROM_GLOB = (
    "replace(replace(replace(replace(replace(ar.pattern, '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '*', '%'), '?', '_')"
)


def attribution_join(alias: str, *, has_tags: bool = False, gpu: bool = False) -> str:
    """LATERAL join giving `wl.workload` and `wl.team` for rows of `alias`: first matching rule wins.

    GPU rows (gpu=True, gpu_hourly) match on their Kubernetes labels: match_field 'namespace' or 'pod'.
    """
    tag_case = f"WHEN 'tag' THEN {alias}.tags ->> ar.tag_key " if has_tags else ""
    if gpu:
        return f"""
    LEFT JOIN LATERAL (
        SELECT w.name AS workload, w.team AS team
        FROM attribution_rules ar JOIN workloads w ON w.id = ar.workload_id
        WHERE ar.enabled AND (CASE ar.match_field
            WHEN 'namespace' THEN {alias}.namespace WHEN 'pod' THEN {alias}.pod
            ELSE NULL END) LIKE {LIKE_FROM_GLOB}
        ORDER BY ar.priority, ar.id LIMIT 1
    ) wl ON TRUE"""
    return f"""
    LEFT JOIN LATERAL (
        SELECT w.name AS workload, w.team AS team
        FROM attribution_rules ar JOIN workloads w ON w.id = ar.workload_id
        WHERE ar.enabled AND (CASE ar.match_field
            WHEN 'provider' THEN {alias}.provider WHEN 'account_id' THEN {alias}.account_id
            WHEN 'project_id' THEN {alias}.project_id WHEN 'api_key_id' THEN {alias}.api_key_id
            WHEN 'user_id' THEN {alias}.user_id WHEN 'model' THEN {alias}.model {tag_case}
            ELSE NULL END) LIKE {LIKE_FROM_GLOB}
        ORDER BY ar.priority, ar.id LIMIT 1
    ) wl ON TRUE"""


def price_join(alias: str, at_column: str, *, include_pending: bool = False) -> str:
    """LATERAL join giving `p.*` prices in effect for rows of `alias` at `at_column` (NULLs when unpriced).

    Pending (not yet applied) price changes are ignored unless include_pending, which the
    reprice dry-run uses to show what applying them would change.
    """
    pending = "" if include_pending else "AND NOT pr.pending"
    return f"""
    LEFT JOIN LATERAL (
        SELECT pr.input_usd_per_mtok, pr.cached_input_usd_per_mtok, pr.cache_write_usd_per_mtok,
               pr.cache_write_1h_usd_per_mtok, pr.output_usd_per_mtok, pr.batch_input_usd_per_mtok, pr.batch_output_usd_per_mtok
        FROM prices pr
        WHERE pr.provider = {alias}.provider AND pr.model = {alias}.model AND pr.above_context_tokens = 0 {pending}
          AND pr.effective_from <= CAST(({alias}.{at_column} AT TIME ZONE 'UTC') AS date)
        ORDER BY pr.effective_from DESC, pr.pending DESC LIMIT 1
    ) p ON TRUE"""


def priced_cost(alias: str, *, cache_write: bool = True) -> str:
    """NUMERIC expression: the row's tokens times the prices in effect; NULL when unpriced.

    Batch traffic uses the batch prices, or half the standard ones where the catalog has none
    (the batch APIs' published 50 % discount). Cache writes are priced by duration: 5-minute
    writes at the cache-write price (else the input price), 1-hour writes at the 1-hour price,
    else twice the input price (Anthropic's published 1-hour rate).
    """
    cw_tokens = f"{alias}.cache_write_input_tokens" if cache_write else "0"
    cw_1h = f"{alias}.cache_write_1h_input_tokens" if cache_write else "0"
    half = f"(CASE WHEN {alias}.is_batch THEN 0.5 ELSE 1 END)"
    inp = f"(CASE WHEN {alias}.is_batch THEN coalesce(p.batch_input_usd_per_mtok, p.input_usd_per_mtok * 0.5) ELSE p.input_usd_per_mtok END)"
    out = f"(CASE WHEN {alias}.is_batch THEN coalesce(p.batch_output_usd_per_mtok, p.output_usd_per_mtok * 0.5) ELSE p.output_usd_per_mtok END)"
    return f"""(CASE WHEN p.input_usd_per_mtok IS NULL OR p.output_usd_per_mtok IS NULL THEN NULL ELSE (
        ({alias}.input_tokens - {alias}.cached_input_tokens - {cw_tokens}) * {inp}
        + {alias}.cached_input_tokens * coalesce(p.cached_input_usd_per_mtok, p.input_usd_per_mtok) * {half}
        + ({cw_tokens} - {cw_1h}) * coalesce(p.cache_write_usd_per_mtok, p.input_usd_per_mtok)
        + {cw_1h} * coalesce(p.cache_write_1h_usd_per_mtok, p.input_usd_per_mtok * 2)
        + {alias}.output_tokens * {out}
    ) / 1000000.0 END)"""
