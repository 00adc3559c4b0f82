"""Time from `hybridcost up` on an empty data folder to the first page served (demo load included).

Run by hand: `python bench/bench_up.py`. Goal: under 20 s on a 2-core machine (pip excluded).
It also times a second `up` on the same folder (server and data reused) as the baseline of a
warm start, and prints the ratio.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_up(data_dir: Path, timeout_s: float = 120.0) -> float:
    """Seconds from starting `hybridcost up` to the dashboard answering its first page."""
    port = free_port()
    env = {**os.environ, "HYBRIDCOST_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    start = time.perf_counter()
    proc = subprocess.Popen(["hybridcost", "up", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < timeout_s:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("the dashboard did not answer")
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    """Cold start (empty folder) and warm start (reused folder), printed with their ratio."""
    data_dir = Path(tempfile.mkdtemp(prefix="hybridcost-bench-up-"))
    try:
        cold = time_up(data_dir)
        warm = time_up(data_dir)
        print(f"cold up (initdb + migrations + demo load + first page): {cold:6.2f} s  (goal < 20 s)")
        print(f"warm up (server and data reused):                       {warm:6.2f} s")
        print(f"cold / warm ratio: {cold / warm:.1f}x")
    finally:
        subprocess.run(["hybridcost", "db", "stop"], env={**os.environ, "HYBRIDCOST_DATA_DIR": str(data_dir)},
                       capture_output=True)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
