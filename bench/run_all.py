"""Run every benchmark in turn: `python bench/run_all.py [--scale 0.1]` (by hand, never in CI).

Each script prints its own figures and ratios against a baseline measured in the same run;
this runner only sequences them and reports which ones failed to run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = [  # (script, takes --scale)
    ("bench_economics.py", False),
    ("bench_nvml_tick.py", False),
    ("bench_client_overhead.py", False),
    ("bench_up.py", False),
    ("bench_ingest.py", True),
    ("bench_gpu_load.py", True),
    ("bench_dashboard.py", True),
    ("bench_exporter.py", False),
    ("bench_sessions.py", True),
    ("bench_sizing.py", False),
]


def main() -> int:
    """Run each benchmark; exit non-zero when any of them failed to run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="0.1", help="passed to the benchmarks that take it (default 0.1)")
    args = parser.parse_args()
    failed = []
    for script, scaled in SCRIPTS:
        print(f"\n=== {script} ===", flush=True)
        command = [sys.executable, str(BENCH / script)] + (["--scale", args.scale] if scaled else [])
        if subprocess.run(command, check=False).returncode != 0:
            failed.append(script)
    if failed:
        print(f"\nfailed to run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
