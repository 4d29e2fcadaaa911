"""Benchmark `svidok demo`: generation time, rows/s and peak memory per scale.

Each scale runs in a subprocess of its own (so its peak RSS is its own) into a
temporary SQLite register. Prints a table and writes `bench/results/demo.md`
with the machine, the date and the exact command.

    .venv/bin/python bench/bench_demo.py            # 10k and 100k testimonies
    .venv/bin/python bench/bench_demo.py --full     # and 1M
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from figures import record

SIZES = (10_000, 100_000)
FULL = 1_000_000
RESULTS = Path(__file__).parent / "results" / "demo.md"


def child(scale: int, seed: int, data_dir: Path) -> None:
    """Run one generation and print its figures as JSON (runs in the subprocess)."""
    from svidok.demo.generator import DemoConfig, generate
    from svidok.settings import Settings
    from svidok.store.register import Store

    store = Store.open(Settings(data_dir=data_dir), create=True)
    started = time.perf_counter()
    result = generate(store, data_dir, DemoConfig(scale=scale, seed=seed))
    seconds = time.perf_counter() - started
    store.close()
    rows = sum(result.counts.values())
    figures = {
        "scale": scale,
        "seconds": round(seconds, 2),
        "rows": rows,
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "db_mb": round((data_dir / "register.db").stat().st_size / 2**20, 1),
        "counts": result.counts,
    }
    print(json.dumps(figures))


def machine() -> str:
    mem = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split("\n")[0].split()[1])
        mem = f", {kb / 2**20:.1f} GiB RAM"
    return (
        f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs{mem}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def run(scale: int, seed: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="svidok-bench-demo-") as tmp:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(scale), "--seed", str(seed), "--dir", tmp],
            check=True,
            capture_output=True,
            text=True,
        )
    figures: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def report(results: list[dict[str, object]], command: str, note: str) -> str:
    lines = [
        "# `svidok demo` benchmark",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- command: `{command}`",
        "- each scale runs in its own subprocess into a fresh temporary SQLite register;",
        "  peak memory is that process's maximum RSS (`resource.getrusage`).",
    ]
    if note:
        lines.append(f"- note: {note}")
    lines += [
        "",
        "| testimonies | seconds | rows | rows/s | peak RSS (MB) | register (MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['scale']:,} | {r['seconds']} | {r['rows']:,} | {r['rows_per_s']:,} "
            f"| {r['peak_rss_mb']} | {r['db_mb']} |"
        )
    lines += ["", "Rows per record kind at the largest scale:", ""]
    counts = results[-1]["counts"]
    assert isinstance(counts, dict)
    lines += [f"- {kind}: {n:,}" for kind, n in counts.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run 1,000,000 testimonies")
    parser.add_argument("--sizes", type=int, nargs="*", help="scales to run instead of the defaults")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--note", default="", help="a remark for the results file")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.seed, args.dir)
        return
    sizes = list(args.sizes or SIZES) + ([FULL] if args.full else [])
    command = shlex.join([".venv/bin/python", "bench/bench_demo.py", *sys.argv[1:]])
    results = []
    for scale in sizes:
        figures = run(scale, args.seed)
        results.append(figures)
        # No issue sets a goal for generation speed: the figures are recorded for comparison only.
        record("demo", f"rows/s at {scale:,} testimonies", figures["rows_per_s"], "rows/s", command=command)  # type: ignore[arg-type]
        record("demo", f"seconds at {scale:,} testimonies", figures["seconds"], "s", command=command)  # type: ignore[arg-type]
        print(
            f"{scale:>9,} testimonies: {figures['seconds']} s, {figures['rows']:,} rows, "
            f"{figures['rows_per_s']:,} rows/s, peak RSS {figures['peak_rss_mb']} MB",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(results, command, args.note), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
