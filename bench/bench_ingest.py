"""Token-side load speed and memory: 1,000,000 per-request rows through the real path.

Run by hand: `python bench/bench_ingest.py [--scale 0.1]` (default a tenth: 100,000 rows).
The real path is the LiteLLM SpendLogs source (JSON lines parsed and validated) feeding the
loader (COPY into staging, merge on natural keys, run recorded). The baseline, measured in the
same run on the same server, is a plain `COPY FROM STDIN` of the same rows into a bare table.
A second baseline is a plain COPY of the same typed rows into a table shaped and indexed like
usage_requests (issue 21: the goal is >= 0.8x of that, and the ratio to the bare table is printed too);
the row-by-row file path (`collect()`, the path before issue 21) is timed in the same run. Memory: a file 10x larger is loaded in a child
process whose peak RSS is reported; streaming means it does not grow with the file (< 500 MB).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import make_engine, scratch_database  # noqa: E402

MODELS = [("openai", "gpt-4.1-mini"), ("openai", "o3"), ("anthropic", "claude-sonnet-4")]


def write_spendlogs(path: Path, rows: int, seed: int = 7) -> None:
    """A LiteLLM SpendLogs JSON-lines export with `rows` requests."""
    rng = random.Random(seed)
    t0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
    with path.open("w") as out:
        for i in range(rows):
            provider, model = MODELS[i % 3]
            start = t0 + timedelta(seconds=i * 2.5)
            prompt, completion = rng.randint(100, 4000), rng.randint(10, 800)
            out.write(json.dumps({
                "request_id": f"req-{i:09d}", "call_type": "acompletion", "api_key": f"key{i % 50:03d}",
                "spend": round(prompt * 2e-6 + completion * 8e-6, 8), "total_tokens": prompt + completion,
                "prompt_tokens": prompt, "completion_tokens": completion,
                "startTime": start.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                "endTime": (start + timedelta(milliseconds=rng.randint(200, 9000))).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                "model": model, "custom_llm_provider": provider, "user": f"u{i % 400}", "team_id": f"team{i % 5}",
                "metadata": {"project_id": f"proj{i % 12}"}, "cache_hit": "False", "request_tags": ["bench"],
                "status": "success"}) + "\n")


def time_real_path(url: str, path: Path, *, row_by_row: bool = False, source: str = "litellm") -> tuple[float, int]:
    """Seconds and rows for source + loader (the column-wise path `ingest litellm` takes, or row by row)."""
    from ingest.loader import load
    from ingest.sources.litellm import LiteLLMSpendLogsSource

    engine = make_engine(url)
    src = LiteLLMSpendLogsSource(path)
    start = time.perf_counter()
    records = src.collect() if row_by_row else src.collect_batches()
    if source != "litellm":  # the same rows under other keys, so both paths insert fresh rows
        records = (r.__class__(**{**{f: getattr(r, f) for f in r.__slots__}, "source": source}) for r in records)
    result = load(engine, records, source="litellm", target=src.describe())
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, result.rows_read


def time_records_path(url: str, path: Path) -> float:
    """Seconds for the loader alone, fed typed records (the instrumented client's path)."""
    from ingest.loader import load
    from ingest.sources.litellm import LiteLLMSpendLogsSource

    records = [r for r in LiteLLMSpendLogsSource(path).collect()]
    records = [r.__class__(**{**{f: getattr(r, f) for f in r.__slots__}, "source": "client"}) for r in records]
    engine = make_engine(url)
    start = time.perf_counter()
    load(engine, records, source="client", target="bench records")
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def time_plain_copy(url: str, path: Path) -> float:
    """Seconds for a plain COPY of the same rows (already parsed to tuples) into a bare table."""
    import psycopg

    rows = []
    with path.open() as handle:
        for line in handle:
            d = json.loads(line)
            rows.append((d["request_id"], d["startTime"], d["custom_llm_provider"], d["model"], d["prompt_tokens"],
                         d["completion_tokens"], d["spend"], d["user"], d["team_id"]))
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE bare (request_id text, started_at timestamptz, provider text, model text, "
                     "input_tokens bigint, output_tokens bigint, spend numeric, user_id text, team text)")
        start = time.perf_counter()
        with conn.cursor().copy("COPY bare FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - start


def time_indexed_copy(url: str, path: Path) -> float:
    """Seconds for a plain COPY of the same typed rows into a table shaped and indexed as usage_requests."""
    import psycopg

    from ingest.loader import SPECS, _row
    from ingest.records import UsageRequest
    from ingest.sources.litellm import LiteLLMSpendLogsSource

    spec = SPECS[UsageRequest]
    rows = [_row(r, spec) for r in LiteLLMSpendLogsSource(path).collect()]
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE indexed (LIKE usage_requests INCLUDING ALL)")
        start = time.perf_counter()
        with conn.cursor().copy(f"COPY indexed ({', '.join(spec.columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - start


def peak_rss_of_child_load(url: str, path: Path) -> float:
    """Peak resident memory (MB) of a child process that loads `path` through the real path."""
    code = ("import sys; sys.path.insert(0, %r); from ingest.loader import load; "
            "from ingest.sources.litellm import LiteLLMSpendLogsSource as S; from models.infra.database import make_engine; "
            "s = S(%r); load(make_engine(%r), s.collect_batches(), source='litellm', target=s.describe()); "
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
            % (str(Path(__file__).resolve().parent.parent), str(path), url))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0


def memory_by_size(sizes: list[int]) -> None:
    """Peak RSS of a child process loading a file of each size: flat past the first chunk, or not."""
    with tempfile.TemporaryDirectory() as tmp, scratch_database() as url:
        for rows in sizes:
            path = Path(tmp) / f"spendlogs_{rows}.jsonl"
            write_spendlogs(path, rows, seed=rows)
            print(f"{rows:>10,} rows ({path.stat().st_size / 2**20:5.0f} MB): peak RSS "
                  f"{peak_rss_of_child_load(url, path):5.0f} MB", flush=True)
            path.unlink()


def main() -> None:
    """Generate, load through both paths, print rows/s, the ratio, and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1, help="fraction of 1,000,000 rows (default 0.1)")
    parser.add_argument("--memory-rows", default="", help="comma-separated row counts: only the peak RSS of "
                        "loading a file of each size, e.g. 10000,100000,1000000")
    args = parser.parse_args()
    if args.memory_rows:
        memory_by_size([int(n) for n in args.memory_rows.split(",")])
        return
    rows = int(1_000_000 * args.scale)
    with tempfile.TemporaryDirectory() as tmp, scratch_database() as url:
        small, big = Path(tmp) / "spendlogs.jsonl", Path(tmp) / "spendlogs_x10.jsonl"
        write_spendlogs(small, rows)
        fast_s, read = time_real_path(url, small)
        slow_s, _ = time_real_path(url, small, row_by_row=True, source="litellm-row-by-row")
        records_s = time_records_path(url, small)
        copy_s = time_plain_copy(url, small)
        indexed_s = time_indexed_copy(url, small)
        print(f"rows: {read:,}")
        print(f"file path, column-wise (ingest litellm):               {fast_s:7.2f} s  {read / fast_s:10,.0f} rows/s")
        print(f"file path, row by row (before):                        {slow_s:7.2f} s  {read / slow_s:10,.0f} rows/s")
        print(f"loader alone, typed records (client path):             {records_s:7.2f} s  {read / records_s:10,.0f} rows/s")
        print(f"plain COPY FROM STDIN into a bare table:               {copy_s:7.2f} s  {read / copy_s:10,.0f} rows/s")
        print(f"plain COPY FROM STDIN into a table indexed as usage_requests: {indexed_s:7.2f} s  "
              f"{read / indexed_s:10,.0f} rows/s")
        print(f"ratio column-wise file path / COPY into the indexed table: {indexed_s / fast_s:.2f}  (goal >= 0.8)")
        print(f"ratio column-wise file path / bare COPY: {copy_s / fast_s:.2f}")
        print(f"ratio row-by-row file path (before) / COPY into the indexed table: {indexed_s / slow_s:.2f}; "
              f"/ bare COPY: {copy_s / slow_s:.2f}")
        print(f"ratio loader alone / bare COPY (rows/s): {copy_s / records_s:.2f}")
        write_spendlogs(small, max(rows // 10, 1000), seed=1)
        write_spendlogs(big, rows * 10, seed=2)
        small_mb = peak_rss_of_child_load(url, small)
        big_mb = peak_rss_of_child_load(url, big)
        print(f"peak RSS loading {max(rows // 10, 1000):,} rows: {small_mb:6.0f} MB; {rows * 10:,} rows: {big_mb:6.0f} MB "
              f"(goal: flat, < 500 MB)")
    print(f"(this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
