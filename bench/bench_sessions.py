"""Concurrent dashboard sessions per CPU core at the page-time goal (p95 < 1 s warm, < 3 s cold).

Run: python bench/bench_sessions.py [--scale 0.02] [--sessions 1,2,4,8] [--seconds 20]
Fills a throwaway embedded PostgreSQL like bench_dashboard.py (10M x scale request rows and GPU
samples), starts the real dashboard server (`streamlit run` of app/streamlit_app.py, login off,
clock pinned to the data's end) pinned to ONE CPU core, and drives it with N sessions speaking
Streamlit's own websocket protocol, as browsers do: each session asks for a page (a rerun with
that page's name), waits for the script-finished message, and goes on to the next page at once,
round-robin over every page. A page time is request to script finished, what a user waits for
before the page is complete (the browser's own rendering comes on top, on the user's machine).
The baseline, measured in the same run, is one session alone. Not run by pytest or CI.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dashboard import END, fill  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PAGES = ["", "spend", "workloads", "breakeven", "fleet", "whatif", "workflow", "reports", "data"]
GOAL_WARM_S, GOAL_COLD_S = 1.0, 3.0
THINK_S = 30.0  # seconds between a user's page views, for the derived sessions-per-core figure


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _page(ws, name: str) -> float:
    """Ask for one page and wait until its script has finished; seconds taken."""
    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_name = name
    started = time.perf_counter()
    await ws.send(msg.SerializeToString())
    while True:
        fwd = ForwardMsg()
        fwd.ParseFromString(await ws.recv())
        kind = fwd.WhichOneof("type")
        if kind == "script_finished":
            # 0: finished successfully, 1: rerun requested; errors are shown in the page, never raised
            if fwd.script_finished in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
                return time.perf_counter() - started
        elif kind == "page_not_found":
            raise RuntimeError(f"page {name!r} not found")


async def _session(url: str, until: float, times: list[float], offset: int) -> None:
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=None) as ws:
        i = offset
        while time.perf_counter() < until:
            times.append(await _page(ws, PAGES[i % len(PAGES)]))
            i += 1


async def _drive(url: str, sessions: int, seconds: float) -> list[float]:
    times: list[float] = []
    until = time.perf_counter() + seconds
    await asyncio.gather(*(_session(url, until, times, k) for k in range(sessions)))
    return times


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def main() -> None:
    """Fill, serve on one core, and print a table of page times by number of sessions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.02, help="fraction of 10M rows per table (default 0.02)")
    parser.add_argument("--sessions", default="1,2,4,8,16", help="comma list of concurrent sessions")
    parser.add_argument("--seconds", type=float, default=20, help="seconds of load per step")
    parser.add_argument("--core", type=int, default=0, help="the CPU core the dashboard server is pinned to")
    args = parser.parse_args()
    from app.cli.serve import streamlit_command
    from models.infra import embedded
    from models.infra.database import ensure_database, make_engine
    from models.infra.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="hybridcost-bench-sessions-"))
    server = None
    try:
        socket_dir = embedded.start(folder)
        ensure_database(embedded.url_for(socket_dir, "postgres"), "bench")
        db_url = embedded.url_for(socket_dir, "bench")
        upgrade(db_url)
        engine = make_engine(db_url)
        fill(engine, args.scale)
        engine.dispose()
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": db_url, "HYBRIDCOST_DATA_DIR": str(folder / "data"),
               "HYBRIDCOST_AS_OF": END.isoformat(), "PYTHONPATH": str(REPO), "HYBRIDCOST_LOG_LEVEL": "ERROR"}
        server = subprocess.Popen(streamlit_command("127.0.0.1", port), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, preexec_fn=lambda: os.sched_setaffinity(0, {args.core}))
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        ws_url = f"ws://127.0.0.1:{port}/_stcore/stream"
        cold = asyncio.run(_one_pass(ws_url))
        print(f"{int(10_000_000 * args.scale):,} request rows and GPU samples; server pinned to core {args.core}; "
              f"load average {os.getloadavg()[0]:.1f} at start")
        warm = asyncio.run(_one_pass(ws_url))
        print(f"cold pass (empty caches), one session: max page {max(cold):.2f} s, "
              f"{'meets' if max(cold) < GOAL_COLD_S else 'misses'} the {GOAL_COLD_S:.0f} s goal")
        print("one session, per page, cold / warm (s): " + ", ".join(
            f"{name or 'overview'} {c:.2f} / {w:.2f}" for name, c, w in zip(PAGES, cold, warm)) + "\n")
        print("| sessions | pages | pages/s | p50 page (s) | p95 page (s) | p95 vs 1 session | server CPU per page (s) |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        baseline, cpu_per_page = None, []
        for n in (int(x) for x in args.sessions.split(",")):
            cpu = _cpu_seconds(server.pid)
            times = asyncio.run(_drive(ws_url, n, args.seconds))
            cpu_per_page.append((_cpu_seconds(server.pid) - cpu) / len(times))
            p95 = _p95(times)
            baseline = baseline or p95
            print(f"| {n} | {len(times)} | {len(times) / args.seconds:.2f} | {statistics.median(times):.3f} | "
                  f"{p95:.3f} | {p95 / baseline:.1f}x | {cpu_per_page[-1]:.3f} |", flush=True)
        c = statistics.median(cpu_per_page)
        print(f"\none core serves at most {1 / c:.1f} warm pages/s ({c:.3f} CPU-s each). At one page view per "
              f"{THINK_S:.0f} s per user and the core kept half busy (so queueing stays below one page time), "
              f"one core carries about {0.5 * THINK_S / c:.0f} concurrent sessions (derived, not measured)")
        print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        try:
            embedded.stop(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


async def _one_pass(url: str) -> list[float]:
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=None) as ws:
        return [await _page(ws, name) for name in PAGES]


if __name__ == "__main__":
    main()
