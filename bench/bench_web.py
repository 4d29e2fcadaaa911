"""Submissions per second and latency through HTTP on loopback.

    .venv/bin/python bench/bench_web.py [--seconds 10] [--concurrency 32] [--rate 200]

Starts `svidok.web` under uvicorn in a child process (access log off) on a
fresh encrypted register, then from this process: (1) closed loop, N clients
posting JSON submissions to `/api/v1/submissions` as fast as answers come back
(throughput); (2) open loop at a fixed rate (latency p50/p95/p99, as a source
would see it). Every submission is committed (SQLCipher, WAL), Argon2id-hashed
and audited before its answer; the counts are checked in the register at the
end. Writes `bench/results/web.md`. The load generator shares the machine's
CPUs with the server, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
PASS = "bench web passphrase"
BODY = {
    "language": "ru",
    "what_happened": "Задержали у метро, били в автозаке, держали на Окрестина трое суток. " * 4,
    "when_date": "2020-08-10",
    "when_time": "22:30",
    "when_precision": "hour",
    "place_text": "Минск, Пушкинская",
    "perpetrators": [{"name": "Иванов", "rank": "капитан", "badge_number": "0421", "unit": "ОМОН"}],
    "victims": [{"name": "Пётр", "description": "23"}],
    "injuries": ["bruising"],
    "urgent": ["ongoing_detention"],
}
SERVER = """
import sys, uvicorn
from pathlib import Path
from svidok.settings import Settings
from svidok.web import create_app
app = create_app(Settings(data_dir=Path(sys.argv[1]), passphrase=sys.argv[3]))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), access_log=False, log_level="warning")
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


async def closed_loop(url: str, seconds: float, concurrency: int) -> tuple[int, float, list[float]]:
    done, errors, latencies = 0, 0, []
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)) as client:

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = await client.post(url, json=BODY, timeout=30)
                latencies.append(time.perf_counter() - t0)
                if r.status_code == 201:
                    done += 1
                else:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    if errors:
        print(f"closed loop: {errors} errors", file=sys.stderr)
    return done, elapsed, latencies


async def open_loop(url: str, seconds: float, rate: float) -> tuple[int, int, list[float], float]:
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=512)) as client:

        async def one() -> None:
            nonlocal errors
            t0 = time.perf_counter()
            r = await client.post(url, json=BODY, timeout=30)
            latencies.append(time.perf_counter() - t0)
            errors += r.status_code != 201

        tasks = []
        start = time.perf_counter()
        n = int(seconds * rate)
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return n, errors, latencies, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "web.md")
    args = parser.parse_args()

    from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
    from svidok.services.keys import Protection
    from svidok.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="svidok-bench-web-"))
    Protection.open(
        Settings(data_dir=data), MasterSecret(passphrase=PASS), create=True, params=TEST_ARGON2
    ).close()
    port = _port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(data), str(port), PASS], env=env)
    url = f"http://127.0.0.1:{port}/api/v1/submissions"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        warm, _, _ = asyncio.run(closed_loop(url, 1.0, 4))
        done, elapsed, closed_lat = asyncio.run(closed_loop(url, args.seconds, args.concurrency))
        sent, errors, open_lat, open_elapsed = asyncio.run(open_loop(url, args.seconds, args.rate))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    p = Protection.open(Settings(data_dir=data), MasterSecret(passphrase=PASS))
    with p.store.read() as conn:
        stored = int(conn.exec_driver_sql("SELECT count(*) FROM submission").scalar_one())
        audited = int(
            conn.exec_driver_sql(
                "SELECT count(*) FROM audit_entry WHERE action = 'submission.create'"
            ).scalar_one()
        )
    p.close()
    expected = warm + done + sent - errors
    throughput = done / elapsed
    lines = [
        "## Web: submissions over HTTP",
        "",
        f"`.venv/bin/python bench/bench_web.py --seconds {args.seconds:g} --concurrency {args.concurrency} "
        f"--rate {args.rate:g}` on {platform.machine()}, {os.cpu_count()} CPUs (shared with the load generator).",
        "",
        "| measure | value | goal |",
        "| --- | --- | --- |",
        f"| sustained throughput, {args.concurrency} clients, {args.seconds:g} s | {throughput:.0f} submissions/s "
        f"| ≥ 500/s |",
        f"| closed-loop latency p50 / p99 | {_pct(closed_lat, 0.5):.1f} / {_pct(closed_lat, 0.99):.1f} ms | |",
        f"| open loop at {args.rate:g}/s: p50 / p95 / p99 | {_pct(open_lat, 0.5):.1f} / {_pct(open_lat, 0.95):.1f} "
        f"/ {_pct(open_lat, 0.99):.1f} ms | p99 ≤ 100 ms |",
        f"| open loop: achieved rate, errors | {sent / open_elapsed:.0f}/s, {errors} | |",
        f"| submissions in the register afterwards, audited | {stored}, {audited} (answered 201: {expected}) | all |",
        "",
        "Each submission: JSON body (testimony, time, place, one victim, one perpetrator), a `source`, two "
        "`mention`s, a `submission` row with an Argon2id-hashed passphrase and an audit entry, in one "
        "SQLCipher transaction committed before the answer.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
