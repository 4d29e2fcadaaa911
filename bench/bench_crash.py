"""Crash recovery under load: SIGKILL `svidok serve` N times, time until it serves again, records lost (issue #9).

    .venv/bin/python bench/bench_crash.py [--kills 20] [--soak] [--seed S]
                                          [--backend sqlcipher|postgresql|both] [--warm]

For each backend, a fresh register (SQLCipher file, or a private schema on the
PostgreSQL server at SVIDOK_TEST_PG_URL, dropped afterwards) is served by
`svidok serve` while three sources post submissions with files (the form) and
without (the API), add to them with their receipts (`/add`), and an operator
structures them (`/api/v1/intake/...`). Each round waits for two new
acknowledgements, then at a random moment 0-1.5 s later the server's process
group gets SIGKILL, and it is started again. Recovery time runs from the SIGKILL
to the first 200 of `/api/v1/health` on the new process: by default a new
interpreter each time (`svidok serve`, as a supervisor would restart it, imports
included); `--warm` forks it from a process that has already imported Svidok
(what the CI test does), which leaves the register's own recovery: open,
start-up cleanup, app, bind.

After each restart (every 10th with `--soak`, and after the last) the harness of
`tests/reliability` checks: every acknowledged submission present with its text
and its files' SHA-256, every acknowledged structuring's incident present, no
submission with fewer files than its audit entry announced, no orphaned blob or
spool file, `svidok audit verify` and `svidok evidence verify` pass, and
`PRAGMA integrity_check`/`foreign_key_check` (SQLCipher) or amcheck (PostgreSQL)
are clean. "Records lost" counts every problem found; the goal is 0.

Writes `bench/results/crash.md` (`crash-soak.md` with `--soak`) and the figures of
bench `crash` (their names say `warm` and `soak` when those options are given).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from figures import record  # noqa: E402
from tests.reliability.harness import (  # noqa: E402
    Register,
    crash_run,
    drop_pg_schema,
    new_pg_schema,
)


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=None, help="SIGKILLs per backend (default 20, soak 200)")
    parser.add_argument("--soak", action="store_true", help="a long run: 200 kills, checked every 10th")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--backend", choices=["sqlcipher", "postgresql", "both"], default="both")
    parser.add_argument("--warm", action="store_true", help="fork restarts from a pre-imported process")
    args = parser.parse_args()
    kills = args.kills or (200 if args.soak else 20)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    check_every = 10 if args.soak else 1
    backends = ["sqlcipher", "postgresql"] if args.backend == "both" else [args.backend]
    command = "bench/bench_crash.py " + " ".join(sys.argv[1:])
    mode = "warm (forked from a pre-imported process)" if args.warm else "cold (a new `svidok serve` process)"
    lines = [
        "# Crash recovery under load (issue #9)",
        "",
        f"Command: `.venv/bin/python {command.strip()}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; seed {seed}; restarts {mode}  ",
        f"Load average at start: {_load()}",
        "",
        "| backend | kills | recovery p50 | recovery p95 | recovery max | submissions acknowledged "
        "| additions acknowledged | structurings acknowledged | records lost | wall time | load average after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    problems_all: list[str] = []
    for backend in backends:
        root = Path(tempfile.mkdtemp(prefix=f"svidok-crash-{backend}-"))
        schema = None
        try:
            url = None
            if backend == "postgresql":
                schema, url = new_pg_schema()
            reg = Register.create(root, url)
            began = time.monotonic()
            result = crash_run(
                reg, root / "serve.log", kills=kills, seed=seed, check_every=check_every, warm=args.warm
            )
            wall = time.monotonic() - began
        finally:
            if schema:
                drop_pg_schema(schema)
        p50, p95 = _pct(result.recoveries, 0.5), _pct(result.recoveries, 0.95)
        worst = max(result.recoveries)
        lost = len(result.lost)
        problems_all += [f"{backend}: {p}" for p in result.lost]
        load_after = _load()
        lines.append(
            f"| {backend} | {result.kills} | {p50:.2f} s | {p95:.2f} s | {worst:.2f} s | {result.acked} "
            f"| {result.added} | {result.structured} | {lost} | {wall:.0f} s | {load_after} |"
        )
        print(lines[-1], flush=True)
        note = f"{mode}; seed {seed}; load average {load_after}"
        tag = "".join(t for t, on in ((", warm", args.warm), (", soak", args.soak)) if on)
        record(
            "crash",
            f"{backend}: recovery p50 (SIGKILL to serving{tag})",
            round(p50, 2),
            "s",
            command=command,
            note=note,
        )
        record(
            "crash",
            f"{backend}: recovery p95 (SIGKILL to serving{tag})",
            round(p95, 2),
            "s",
            command=command,
            note=note,
        )
        record(
            "crash",
            f"{backend}: kills performed{tag}",
            result.kills,
            "kills",
            goal=f">= {kills}",
            met=result.kills >= kills,
            command=command,
            note=note,
        )
        record(
            "crash",
            f"{backend}: submissions acknowledged{tag}",
            result.acked,
            "submissions",
            command=command,
            note=note,
        )
        record(
            "crash",
            f"{backend}: records lost{tag}",
            lost,
            "records",
            goal="0",
            met=lost == 0,
            command=command,
            note=note,
        )
        if lost == 0:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root} for inspection", flush=True)
    lines += [
        "",
        "Answers seen by the clients are in the harness's counters (`cut` = connection lost at a kill).",
        "Recovery time includes Python's start-up and imports unless `--warm`; the register's own",
        "work at start (unlock with a key file, start-up cleanup, app) is what `--warm` measures.",
        "",
        "Problems found: " + ("none" if not problems_all else ""),
        *[f"- {p}" for p in problems_all[:50]],
        "",
    ]
    out = HERE / "results" / ("crash-soak.md" if args.soak else "crash.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {out}")
    if problems_all:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
