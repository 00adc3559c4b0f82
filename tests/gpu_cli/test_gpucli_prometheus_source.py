"""PrometheusFleetSource on canned query_range answers: hour filing, MIG rules, weighting, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ingest.base import SourceError
from ingest.sources.prometheus_fleet import PrometheusFleetSource, fleet_queries

DAY = datetime(2026, 3, 1, tzinfo=UTC)
WHOLE = {"UUID": "GPU-whole", "Hostname": "node-1", "modelName": "NVIDIA H100 80GB HBM3"}
MIG = {"UUID": "GPU-mig", "GPU_I_ID": "3", "hostname": "node-2", "modelName": "NVIDIA H100 80GB HBM3"}
OLD = {"UUID": "GPU-old", "Hostname": "node-3", "modelName": "Tesla V100"}  # no PROF_* metrics


def _answers(step: int) -> dict[str, list[tuple[dict, float]]]:
    return {
        "gr_mean": [(WHOLE, 40.0), (MIG, 80.0)], "gr_max": [(WHOLE, 90.0), (MIG, 100.0)],
        "gr_busy": [(WHOLE, 0.5), (MIG, 1.0)],
        "util_mean": [(WHOLE, 0.0), (MIG, 0.0), (OLD, 25.0)], "util_max": [(OLD, 60.0)],
        "util_busy": [(OLD, 0.25)], "power": [(WHOLE, 300.0), (OLD, 150.0)],
        "fb_used_max": [(WHOLE, 1024.0)], "fb_total": [(WHOLE, 81559.0)],
        "samples": [(WHOLE, 360.0), (MIG, 360.0), (OLD, 360.0)],
    }


def _transport(step: int, calls: list):
    by_expr = {expr: name for name, expr in fleet_queries(step).items()}

    def handler(request: httpx.Request) -> httpx.Response:
        q = request.url.params
        calls.append((float(q["start"]), float(q["end"])))
        name = by_expr[q["query"]]
        times = range(int(float(q["start"])), int(float(q["end"])) + 1, int(q["step"]))
        result = [{"metric": labels, "values": [[t, str(v)] for t in times]} for labels, v in _answers(step)[name]]
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": result}})
    return httpx.MockTransport(handler)


def test_hourly_points_filed_under_the_hour_they_cover():
    calls: list = []
    src = PrometheusFleetSource("http://prom:9090/", start=DAY, end=DAY + timedelta(hours=2),
                                client=httpx.Client(transport=_transport(3600, calls)))
    rows = {(r.gpu_uuid, r.hour_at): r for r in src.collect()}
    assert sorted({h for _, h in rows}) == [DAY, DAY + timedelta(hours=1)]
    whole = rows[("GPU-whole", DAY)]
    assert (whole.host, whole.utilization_mean_pct, whole.utilization_max_pct, whole.busy_fraction) == \
        ("node-1", 40.0, 90.0, 0.5)  # engine activity wins over GPU_UTIL
    assert whole.power_mean_watts == 300.0 and whole.memory_used_max_bytes == 1024 * 1024**2
    assert whole.samples == 360 and whole.mig_instance == ""
    mig = rows[("GPU-mig", DAY)]
    assert (mig.mig_instance, mig.host, mig.utilization_mean_pct, mig.power_mean_watts) == ("3", "node-2", 80.0, None)
    old = rows[("GPU-old", DAY)]
    assert (old.utilization_mean_pct, old.utilization_max_pct, old.busy_fraction) == (25.0, 60.0, 0.25)
    assert calls[0] == ((DAY + timedelta(hours=1)).timestamp(), (DAY + timedelta(hours=2)).timestamp())


def test_mig_instance_never_takes_gpu_util():
    mig_util_only = {"UUID": "GPU-m", "GPU_I_ID": "1", "Hostname": "n"}

    def handler(request):
        name = {e: n for n, e in fleet_queries(3600).items()}[request.url.params["query"]]
        result = [{"metric": mig_util_only, "values": [[DAY.timestamp() + 3600, "0"]]}] if name.startswith("util") else []
        return httpx.Response(200, json={"status": "success", "data": {"result": result}})
    src = PrometheusFleetSource("http://p", start=DAY, end=DAY + timedelta(hours=1),
                                client=httpx.Client(transport=httpx.MockTransport(handler)))
    [row] = list(src.collect())
    assert row.utilization_mean_pct is None and row.busy_fraction is None  # a wrong 0 is worse than none


def test_long_windows_are_chunked_under_the_point_limit():
    calls: list = []
    src = PrometheusFleetSource("http://p", start=DAY, end=DAY + timedelta(hours=25), step_s=5,
                                client=httpx.Client(transport=_transport(5, calls)))
    windows = list(src._windows())
    assert len(windows) == 2 and all((hi - lo).total_seconds() / 5 + 1 <= 10_000 for lo, hi in windows)
    assert windows[1][0] == windows[0][1] + timedelta(seconds=5)


def test_query_errors_name_the_server():
    def refuse(request):
        return httpx.Response(400, json={"status": "error", "error": "parse error"})
    src = PrometheusFleetSource("http://p", start=DAY, end=DAY + timedelta(hours=1),
                                client=httpx.Client(transport=httpx.MockTransport(refuse)))
    with pytest.raises(SourceError, match="http://p/api/v1/query_range.*parse error"):
        list(src.collect())
    with pytest.raises(SourceError):
        PrometheusFleetSource("http://p", start=DAY.replace(tzinfo=None), end=DAY)
