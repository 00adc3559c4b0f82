"""dcgm-exporter scrapes: every sample file, MIG, sentinels, labels, URL mode."""

from __future__ import annotations

import http.server
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.base import Source, SourceError
from ingest.sources.dcgm import DcgmSource

from tests_support import SAMPLES as _ALL_SAMPLES  # noqa: E402

SAMPLES = _ALL_SAMPLES / "dcgm"
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MIB = 1024 * 1024
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared samples not present")


@needs_samples
def test_aicr_h100_eight_gpus_pod_labels_only_on_gpu0():
    src = DcgmSource(SAMPLES / "dcgm_metrics_8xH100_k8s_pod_labels_sampled_aicr.txt", at=AT)
    assert isinstance(src, Source)
    rows = list(src.collect())
    assert len(rows) == 8 and [r.gpu_index for r in rows] == list(range(8))
    g0 = rows[0]
    assert g0.gpu_uuid == "GPU-c4529c8d-69c4-b61d-e0bc-7b2460096005"
    assert (g0.namespace, g0.pod, g0.container) == ("dynamo-workload", "vllm-agg-0-vllmdecodeworker-s65j5", "main")
    assert all((r.pod, r.namespace, r.container) == ("", "", "") for r in rows[1:])
    assert g0.power_watts == pytest.approx(113.611) and g0.temperature_c == 30.0
    assert g0.utilization_pct == 0.0  # GPU_UTIL only, no MIG: a real zero
    assert all(r.host == "gpu-node-1" and r.model_name == "NVIDIA H100 80GB HBM3" for r in rows)
    assert all(r.memory_used_bytes is None and r.energy_mj is None for r in rows)  # not in this excerpt
    assert all(r.sampled_at == AT and r.source == "dcgm" for r in rows)


@needs_samples
def test_l4_power_energy_memory_clock():
    (r,) = DcgmSource(SAMPLES / "dcgm_metrics_nvidia_L4_kops_cncf_conformance.txt", at=AT).collect()
    assert r.model_name == "NVIDIA L4" and r.host == "i-030791dc5a37cd257"
    assert r.power_watts == pytest.approx(16.365)
    assert r.energy_mj == 4742776.0  # a counter: prometheus_client names it *_total
    assert r.memory_used_bytes == 0 and r.memory_total_bytes == (0 + 22563 + 470) * MIB
    assert r.sm_clock_mhz == 210.0 and r.temperature_c == 31.0
    assert r.utilization_pct == 0.0  # from PROF_GR_ENGINE_ACTIVE (fraction 0.0)


@needs_samples
def test_file_time_defaults_to_mtime():
    path = SAMPLES / "dcgm_metrics_nvidia_L4_kops_cncf_conformance.txt"
    (r,) = DcgmSource(path).collect()
    assert r.sampled_at == datetime.fromtimestamp(os.stat(path).st_mtime, UTC)


LABELS = 'gpu="{g}",UUID="GPU-x",modelName="NVIDIA H100 80GB HBM3",hostname="new-host",GPU_I_PROFILE="3g.40gb",GPU_I_ID="{i}"'


def mig_text() -> str:
    lines = []
    for inst, active in (("1", "0.25"), ("2", None)):
        lab = LABELS.format(g=0, i=inst)
        if active is not None:
            lines.append(f"DCGM_FI_PROF_GR_ENGINE_ACTIVE{{{lab}}} {active}")
        lines += [f"DCGM_FI_DEV_GPU_UTIL{{{lab}}} 0", f"DCGM_FI_DEV_FB_USED{{{lab}}} 100",
                  f"DCGM_FI_DEV_FB_FREE{{{lab}}} 300", f"DCGM_FI_DEV_MEMORY_TEMP{{{lab}}} 9223372036854775794",
                  f"DCGM_FI_DEV_GPU_TEMP{{{lab}}} 9223372036854775794"]
    return "\n".join(lines) + "\n"


def test_mig_instances_engine_active_as_percent_gpu_util_zero_is_missing():
    a, b = DcgmSource(mig_text(), at=AT).collect()
    assert (a.gpu_uuid, a.mig_instance, b.mig_instance) == ("GPU-x", "1", "2")
    assert a.utilization_pct == pytest.approx(25.0)
    assert b.utilization_pct is None  # GPU_UTIL reads 0 under MIG
    assert a.memory_used_bytes == 100 * MIB and a.memory_total_bytes == 400 * MIB
    assert a.temperature_c is None  # sentinel
    assert a.host == "new-host"  # lowercase label after exporter commit d5e5f51


def test_sm_active_used_when_gr_engine_missing_and_lowercase_uuid():
    text = ('DCGM_FI_PROF_SM_ACTIVE{gpu="1",uuid="GPU-y"} 0.5\nDCGM_FI_DEV_GPU_UTIL{gpu="1",uuid="GPU-y"} 99\n'
            'DCGM_FI_DEV_POWER_USAGE{gpu="1",uuid="GPU-y"} 300\n')
    (r,) = DcgmSource(text, at=AT, host_default="fallback").collect()
    assert r.gpu_uuid == "GPU-y" and r.utilization_pct == 50.0 and r.host == "fallback" and r.power_watts == 300.0


def test_text_needs_at_and_garbage_is_source_error(tmp_path):
    with pytest.raises(SourceError, match="at="):
        list(DcgmSource('DCGM_FI_DEV_GPU_UTIL{UUID="u"} 1\n').collect())
    with pytest.raises(SourceError, match="not Prometheus text"):
        list(DcgmSource("this is {not prometheus\nat all\n", at=AT).collect())
    with pytest.raises(SourceError, match="no such file"):
        list(DcgmSource(str(tmp_path / "missing.txt"), at=AT).collect())
    with pytest.raises(SourceError, match="timezone-aware"):
        list(DcgmSource("x 1\ny 2\n", at=datetime(2026, 1, 1)).collect())


@pytest.fixture
def server():
    body = {"/metrics": (200, b'DCGM_FI_DEV_POWER_USAGE{UUID="GPU-z",Hostname="h"} 70.5\n')}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, payload = body.get(self.path, (503, b"down"))
            self.send_response(status)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_url_mode_fetches_and_reports_status(server):
    (r,) = DcgmSource(f"{server}/metrics").collect()
    assert r.power_watts == 70.5 and r.host == "h" and r.sampled_at.tzinfo is not None
    with pytest.raises(SourceError) as err:
        list(DcgmSource(f"{server}/broken").collect())
    assert "503" in str(err.value) and f"{server}/broken" in str(err.value)
    with pytest.raises(SourceError, match="fetch failed"):
        list(DcgmSource("http://127.0.0.1:9/metrics").collect())
