"""Audit log throughput: durable appends per second, and `verify` of 1,000,000 entries.

    .venv/bin/python bench/bench_audit.py [--entries 1000000] [--batch 100] [--appends 20000]

Appends are measured in transactions of `--batch` entries, each transaction
committed (WAL, synchronous=FULL for this run: durable against power loss), and
separately one entry per transaction. The verify figure re-hashes every entry,
checks the chain and the signed checkpoint(s) from a cold connection.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event

from svidok.audit import AuditKey, AuditLog
from svidok.store.db import make_engine
from svidok.store.models import Base


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--appends", type=int, default=20_000)
    args = parser.parse_args()
    private = Ed25519PrivateKey.generate()
    log = AuditLog(AuditKey("svidok.bench/log", private.public_key(), private))
    details = {"fields": ["primary_name", "birth_date"], "sha256": "ab" * 32}
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        event.listen(engine, "connect", lambda c, _r: c.execute("PRAGMA synchronous=FULL"))
        Base.metadata.create_all(engine)

        n = args.appends
        t0 = time.perf_counter()
        for start in range(0, n, args.batch):
            with engine.begin() as conn:
                for i in range(start, min(n, start + args.batch)):
                    log.append(conn, "bench", "record.update", "person", f"pe_{i}", details)
        dt = time.perf_counter() - t0
        print(f"append, {args.batch}/transaction, durable: {n / dt:,.0f} entries/s ({n} in {dt:.2f} s)")

        t0 = time.perf_counter()
        m = n
        for start in range(0, m, args.batch):
            with engine.begin() as conn:
                log.append_many(
                    conn,
                    [
                        ("bench", "record.update", "person", f"pe_b{i}", details)
                        for i in range(start, min(m, start + args.batch))
                    ],
                )
        dt = time.perf_counter() - t0
        print(f"append_many, {args.batch}/call and transaction, durable: {m / dt:,.0f} entries/s")

        single = 500
        t0 = time.perf_counter()
        for i in range(single):
            with engine.begin() as conn:
                log.append(conn, "bench", "record.update", "person", f"pe_s{i}", details)
        dt = time.perf_counter() - t0
        print(f"append, 1/transaction, durable: {single / dt:,.0f} entries/s")

        t0 = time.perf_counter()
        with engine.begin() as conn:
            done = 2 * n + single
            while done < args.entries:
                k = min(10_000, args.entries - done)
                log.append_many(
                    conn, [("bench", "record.update", "person", f"pe_{done + j}", details) for j in range(k)]
                )
                done += k
        print(f"filled to {args.entries:,} entries with append_many in {time.perf_counter() - t0:.1f} s")
        with engine.begin() as conn:
            t0 = time.perf_counter()
            log.checkpoint(conn)
            print(f"checkpoint (verify + sign) of {args.entries:,}: {time.perf_counter() - t0:.2f} s")
        engine.dispose()

        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        with engine.connect() as conn:
            t0 = time.perf_counter()
            report = log.verify(conn)
            dt = time.perf_counter() - t0
        assert report.ok, report.summary()
        print(f"verify of {report.entries:,} entries: {dt:.2f} s")
        with engine.connect() as conn:
            t0 = time.perf_counter()
            report = log.verify(conn, deep=True)
            dt = time.perf_counter() - t0
        print(f"verify --deep (columns too) of {report.entries:,} entries: {dt:.2f} s")
        engine.dispose()


if __name__ == "__main__":
    main()
