"""Audit log throughput: durable appends per second, and `verify` of 1,000,000 entries.

    .venv/bin/python bench/bench_audit.py [--entries 1000000] [--batch 100] [--appends 20000] [--deep]

Appends are measured on an SQLite file in WAL mode with `synchronous=FULL` (durable
against power loss): `append` called once per entry, `--batch` entries per transaction
(the normal write path of a service writing many records); `append_many` with
`--batch` entries per call; and one entry per transaction (one fsync each). The log
is then filled to `--entries` with a signed checkpoint at the half and at the end,
and `verify` runs from a cold connection (every entry re-hashed against the signed
roots and the chain), three times; wall-clock and CPU time of the process are both
reported because the machine is shared (CPU time does not count waiting for a core).
Results: `bench/results/security.md` (section rewritten) and `bench/results/audit.json`.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from figures import record
from sqlalchemy import event

from svidok.audit import AuditKey, AuditLog
from svidok.store.db import make_engine
from svidok.store.models import Base

RESULTS = Path(__file__).resolve().parent / "results" / "security.md"
START, END = "<!-- bench_audit:start -->", "<!-- bench_audit:end -->"
DETAILS = {"fields": ["primary_name", "birth_date"], "sha256": "ab" * 32}


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--appends", type=int, default=20_000)
    parser.add_argument("--deep", action="store_true", help="Also time `verify --deep` once.")
    parser.add_argument("--no-write", action="store_true", help="Print only; do not write results.")
    args = parser.parse_args()
    command = "bench/bench_audit.py " + " ".join(sys.argv[1:])
    private = Ed25519PrivateKey.generate()
    log = AuditLog(AuditKey("svidok.bench/log", private.public_key(), private))
    rows: list[tuple[str, str, str]] = []
    figures: dict[str, float] = {}
    load_before = loadavg()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        event.listen(engine, "connect", lambda c, _r: c.execute("PRAGMA synchronous=FULL"))
        Base.metadata.create_all(engine)

        # The disk's bound for durable batches: one committed transaction per `--batch`
        # entries can go no faster than the commits themselves (one fsync each).
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE scratch (n INTEGER)")
        commits = 200
        t0 = time.perf_counter()
        for i in range(commits):
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO scratch VALUES (?)", (i,))
        bound = commits * args.batch / (time.perf_counter() - t0)
        figures["bound"] = bound
        rows.append(
            (
                f"reference: empty durable commits × {args.batch} (the disk's bound at this batch size)",
                f"{bound:,.0f} /s",
                "no audit work",
            )
        )
        print(rows[-1], loadavg(), flush=True)

        n = args.appends
        t0, c0 = time.perf_counter(), time.process_time()
        for start in range(0, n, args.batch):
            with engine.begin() as conn:
                for i in range(start, min(n, start + args.batch)):
                    log.append(conn, "bench", "record.update", "person", f"pe_{i}", DETAILS)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        figures["append"] = n / dt
        rows.append(
            (
                f"`append`, 1 call per entry, {args.batch} per transaction, durable",
                f"**{n / dt:,.0f} /s**",
                f"{n / cpu:,.0f} /s CPU-bound; {n / dt / bound:.2f}× the disk's bound",
            )
        )
        print(rows[-1], loadavg(), flush=True)

        t0, c0 = time.perf_counter(), time.process_time()
        for start in range(0, n, args.batch):
            with engine.begin() as conn:
                log.append_many(
                    conn,
                    [
                        ("bench", "record.update", "person", f"pe_b{i}", DETAILS)
                        for i in range(start, min(n, start + args.batch))
                    ],
                )
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        figures["append_many"] = n / dt
        rows.append(
            (
                f"`append_many`, {args.batch} per call and transaction, durable",
                f"{n / dt:,.0f} /s",
                f"{n / cpu:,.0f} /s CPU-bound",
            )
        )
        print(rows[-1], loadavg(), flush=True)

        single = 500
        t0 = time.perf_counter()
        for i in range(single):
            with engine.begin() as conn:
                log.append(conn, "bench", "record.update", "person", f"pe_s{i}", DETAILS)
        dt = time.perf_counter() - t0
        rows.append(("`append`, 1 per transaction (one fsync each)", f"{single / dt:,.0f} /s", "fsync-bound"))
        print(rows[-1], loadavg(), flush=True)

        t0 = time.perf_counter()
        done = 2 * n + single
        half = args.entries // 2
        with engine.begin() as conn:
            while done < args.entries:
                k = min(10_000, args.entries - done, half - done if done < half else 10_000)
                log.append_many(
                    conn, [("bench", "record.update", "person", f"pe_{done + j}", DETAILS) for j in range(k)]
                )
                done += k
                if done == half:
                    log.checkpoint(conn)
        print(f"filled to {args.entries:,} entries in {time.perf_counter() - t0:.1f} s", flush=True)
        with engine.begin() as conn:
            t0 = time.perf_counter()
            log.checkpoint(conn)
            took = time.perf_counter() - t0
        rows.append((f"`checkpoint` (verify + Ed25519 sign) of {args.entries:,}", f"{took:.2f} s", ""))
        engine.dispose()

        best_wall, best_cpu = float("inf"), float("inf")
        for _ in range(3):
            engine = make_engine(url)
            with engine.connect() as conn:
                t0, c0 = time.perf_counter(), time.process_time()
                report = log.verify(conn)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            engine.dispose()
            assert report.ok and report.entries == args.entries, report.summary()
            best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
            print(
                f"verify of {report.entries:,}: {wall:.2f} s wall, {cpu:.2f} s CPU (load {loadavg()})",
                flush=True,
            )
        figures["verify_wall"], figures["verify_cpu"] = best_wall, best_cpu
        rows.append(
            (
                f"`verify` of {args.entries:,} entries, cold connection, best of 3",
                f"**{best_wall:.2f} s** wall",
                f"**{best_cpu:.2f} s** CPU",
            )
        )
        if args.deep:
            engine = make_engine(url)
            with engine.connect() as conn:
                t0, c0 = time.perf_counter(), time.process_time()
                report = log.verify(conn, deep=True)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            engine.dispose()
            rows.append(
                (
                    f"`verify --deep` (every chain link, query columns) of {args.entries:,}",
                    f"{wall:.2f} s",
                    f"{cpu:.2f} s CPU",
                )
            )
    load_after = loadavg()
    table = [
        "| measure | figure | note |",
        "| --- | ---: | --- |",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
    ]
    text = "\n".join(table)
    print(text)
    print(f"load average before {load_before}, after {load_after}")
    if args.no_write:
        return
    section = "\n".join(
        [
            START,
            "## Audit log (`bench/bench_audit.py`)",
            "",
            f"    .venv/bin/python {command}",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()}, Python {platform.python_version()}; "
            "SQLite file in WAL mode, `synchronous=FULL`, entries with two field names and a digest in "
            f"their details. **Load average {load_before} before, {load_after} after** (2 cores shared "
            "with other engineers' jobs: wall-clock figures include waiting for a core; CPU time does not).",
            "",
            text,
            "",
            "Reading: `verify` re-hashes every entry. Up to the last signed checkpoint the leaves go "
            "straight into the Merkle tree and are compared with every signed root (two SHA-256 per "
            "entry, reading only the entry bytes); after it each entry is checked against the hash "
            "chain; any mismatch re-runs the full pass (leaf, chain link and node for every entry), "
            "which names the first bad entry. `append` reads the log's head once per transaction.",
            END,
        ]
    )
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Protection layer benchmarks\n"
    if START in current:
        head, rest = current.split(START, 1)
        current = head + section + rest.split(END, 1)[1]
    else:
        current = current.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(current, encoding="utf-8")
    note = f"load {load_before} -> {load_after}"
    record(
        "audit",
        "append, 1 call per entry, 100/transaction, durable",
        round(figures["append"]),
        "entries/s",
        goal=">= 5000",
        met=figures["append"] >= 5000,
        command=command,
        note=note,
    )
    record(
        "audit",
        "append / durable-commit bound at 100/transaction",
        round(figures["append"] / figures["bound"], 2),
        "x",
        command=command,
        note=f"bound {figures['bound']:,.0f}/s; {note}",
    )
    record(
        "audit",
        "append_many, 100/call, durable",
        round(figures["append_many"]),
        "entries/s",
        goal=">= 5000",
        met=figures["append_many"] >= 5000,
        command=command,
        note=note,
    )
    record(
        "audit",
        f"verify of {args.entries:,} entries (wall)",
        round(figures["verify_wall"], 2),
        "s",
        goal="<= 3",
        met=figures["verify_wall"] <= 3,
        command=command,
        note=note,
    )
    record(
        "audit",
        f"verify of {args.entries:,} entries (CPU time)",
        round(figures["verify_cpu"], 2),
        "s",
        goal="<= 3",
        met=figures["verify_cpu"] <= 3,
        command=command,
        note=note,
    )


if __name__ == "__main__":
    main()
