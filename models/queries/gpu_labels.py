"""GPU names people read: host:index (gpu-node-1:3), MIG instances as host:index/instance, the UUID kept for hover.

The index comes from the newest raw sample of each GPU that carries one (NVML, dcgm-exporter,
nvidia-smi report it); a GPU known only from hourly aggregates (Prometheus) or whose samples
were pruned keeps host:<first 8 characters of its UUID>.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection

INDEXES = """
SELECT u.uuid, s.gpu_index
FROM unnest(CAST(:uuids AS text[])) AS u(uuid)
CROSS JOIN LATERAL (SELECT gpu_index FROM gpu_samples
                    WHERE gpu_uuid = u.uuid AND gpu_index IS NOT NULL
                    ORDER BY sampled_at DESC LIMIT 1) s
"""


def gpu_indexes(conn: Connection, uuids: Iterable[str]) -> dict[str, int]:
    """The device index of each GPU UUID that has one in its raw samples."""
    wanted = sorted(set(uuids))
    if not wanted:
        return {}
    return {uuid: int(index) for uuid, index in conn.execute(sa.text(INDEXES), {"uuids": wanted}).all()}


def label(host: str, uuid: str, mig_instance: str, indexes: dict[str, int]) -> str:
    """host:index (host:index/mig for a MIG instance); host:UUID-prefix when the index is unknown."""
    device = str(indexes[uuid]) if uuid in indexes else uuid.removeprefix("GPU-")[:8]
    return f"{host or '?'}:{device}" + (f"/{mig_instance}" if mig_instance else "")


def with_labels(frame: pl.DataFrame, indexes: dict[str, int]) -> pl.DataFrame:
    """Add a `gpu` column (host:index) to a frame with host, gpu_uuid and mig_instance columns."""
    labels = [label(h, u, m, indexes) for h, u, m in
              zip(frame["host"].to_list(), frame["gpu_uuid"].to_list(), frame["mig_instance"].to_list())]
    return frame.with_columns(pl.Series("gpu", labels, pl.String))


def relabel_heatmap(heat: pl.DataFrame, indexes: dict[str, int]) -> pl.DataFrame:
    """A `gpu_heatmap` frame (gpu = 'host/uuid[:mig]') with gpu as host:index and the UUID in `gpu_uuid`."""
    parts = heat["gpu"].str.split_exact("/", 1).struct.rename_fields(["host", "rest"]).struct.unnest()
    rest = parts["rest"].str.split_exact(":", 1).struct.rename_fields(["gpu_uuid", "mig_instance"]).struct.unnest()
    frame = heat.drop("gpu").with_columns(parts["host"], rest["gpu_uuid"], rest["mig_instance"].fill_null(""))
    return with_labels(frame, indexes)
