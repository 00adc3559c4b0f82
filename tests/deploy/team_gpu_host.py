"""`hybridcost` as it runs on a GPU host, with NVML replaced by the fake in tests/gpu_sources/gpu_fake_nvml.py.

The team-path test puts this on the GPU collector's PATH as `hybridcost`, so the compose
service's own command runs unchanged against the real CLI, loader and database; only the
hardware is fake: two H100s, 99 % busy. Collectors stamp samples with the machine's clock;
this host's clock reads HYBRIDCOST_TEST_GPU_CLOCK_START when the process starts and runs at
real speed, so its samples fall just before the moment the test pins the product's clock to.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

from app.cli import gpu as gpu_cli
from app.cli.main import main as cli_main
from ingest.sources.nvml import NvmlSampler
from tests.gpu_sources.gpu_fake_nvml import FakeGpu, FakeNvml

CLOCK_ENV = "HYBRIDCOST_TEST_GPU_CLOCK_START"
BUSY_PCT = 99
GPU_UUIDS = ("GPU-team-path-0", "GPU-team-path-1")


def main() -> None:
    """Run the CLI with the fake NVML and the host clock from the environment."""
    start, started = datetime.fromisoformat(os.environ[CLOCK_ENV]), time.monotonic()

    def host_clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - started)

    gpus = [FakeGpu(uuid=uuid, util=BUSY_PCT, processes=[(4242, 1024**3)]) for uuid in GPU_UUIDS]
    gpu_cli.SAMPLER_FACTORY = lambda host: NvmlSampler(nvml=FakeNvml(gpus), host=host, now=host_clock)
    cli_main()


if __name__ == "__main__":
    main()
