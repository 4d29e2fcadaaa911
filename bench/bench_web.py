"""Submissions per second and latency through HTTP on loopback (issue #6).

    .venv/bin/python bench/bench_web.py [--seconds 30] [--connections 32] [--rate 200]
                                        [--open-seconds 30] [--backend sqlcipher|postgresql|both]
    .venv/bin/python bench/bench_web.py --in-process THREADS,PER_THREAD   # no HTTP, see in_process

For each backend: a fresh register (SQLCipher file, or a private schema on the
PostgreSQL server at SVIDOK_TEST_PG_URL), served by `svidok serve` in its own
process (access log off, one uvicorn process, one writer thread). Then, from
other processes:

1. saturation: `wrk` (C, Debian's package) keeps `--connections` keep-alive
   connections busy posting JSON submissions for `--seconds` (closed loop);
2. latency: an open-loop generator (its own process, raw keep-alive sockets)
   sends `--rate` submissions per second on a fixed schedule for
   `--open-seconds`; latency runs from each request's *scheduled* send time to
   its answer, so a stalled server is charged for every request it delays
   (no coordinated omission). A new connection is opened whenever none is free.

Every answer must be 201 with a receipt, given after the submission, its
mentions and its audit entry are committed (SQLite: WAL with synchronous=FULL,
one fsync per group commit). Afterwards the register is checked: the number of
submissions, their `submission.create` audit entries, the audit chain, and a
scan for the testimony's marker text in the database files (SQLCipher) or the
`source.text` column (PostgreSQL field encryption). The server's CPU time per
submission (from /proc, all its threads) is the load-independent figure.
Writes `bench/results/web.md` and the figures of bench `web`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PASS = "bench web passphrase"
MARKER = "MARKER-7Q2X"
BODY: dict[str, Any] = {
    "language": "ru",
    "what_happened": f"{MARKER} Задержали у метро, били в автозаке, держали на Окрестина трое суток. " * 4,
    "when_date": "2020-08-10",
    "when_time": "22:30",
    "when_precision": "hour",
    "place_text": "Минск, Пушкинская",
    "perpetrators": [{"name": "Иванов", "rank": "капитан", "badge_number": "0421", "unit": "ОМОН"}],
    "victims": [{"name": "Пётр", "description": "23"}],
    "injuries": ["bruising"],
    "urgent": ["ongoing_detention"],
}
PG_URL = os.environ.get("SVIDOK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open(os.getenv("SVIDOK_BENCH_BODY"), "rb"); wrk.body = f:read("*a"); f:close()
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, '
    .. '"timeout": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# -- the open-loop generator (run in its own process) ---------------------------------------------


async def _open_loop(port: int, rate: float, seconds: float) -> dict[str, Any]:
    body = json.dumps(BODY, ensure_ascii=False).encode()
    request = (
        b"POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    # (reader, writer, last used): uvicorn closes a keep-alive connection idle for 5 s, so one
    # idle for 4 s is not reused, and a reused one closed under us is retried once on a fresh one.
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    opened = 0

    async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        nonlocal opened
        while idle:
            reader, writer, used = idle.pop()
            if time.perf_counter() - used < 4:
                return reader, writer, True
            writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        opened += 1
        return reader, writer, False

    async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        return int(head.split(b" ", 2)[1])

    async def one(scheduled: float) -> None:
        nonlocal opened
        reader, writer, reused = await connection()
        try:
            status = await exchange(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            if not reused:
                raise
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            opened += 1
            status = await exchange(reader, writer)
        latencies.append(time.perf_counter() - scheduled)
        statuses[status] = statuses.get(status, 0) + 1
        idle.append((reader, writer, time.perf_counter()))

    n = int(rate * seconds)
    tasks = []
    start = time.perf_counter() + 0.05
    for i in range(n):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.perf_counter() - start
    for _, writer, _ in idle:
        writer.close()
    failures = [type(r).__name__ for r in results if isinstance(r, BaseException)]
    return {
        "sent": n,
        "elapsed": elapsed,
        "latencies": latencies,
        "statuses": statuses,
        "failures": failures,
        "connections": opened,
    }


async def _closed_loop(port: int, connections: int, seconds: float) -> dict[str, Any]:
    """wrk's job when wrk is missing: `connections` keep-alive clients posting back to back."""
    body = json.dumps(BODY, ensure_ascii=False).encode()
    request = (
        b"POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    latencies: list[float] = []
    bad = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal bad
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(v)
                for k, _, v in (x.partition(b":") for x in head.split(b"\r\n")[1:])
                if k.strip().lower() == b"content-length"
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            bad += head.split(b" ", 2)[1] != b"201"
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return {
        "requests": len(latencies),
        "duration_us": int((time.perf_counter() - start) * 1e6),
        "status": bad,
        "latencies": latencies,
    }


def _open_loop_main(port: int, rate: float, seconds: float) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(_open_loop(port, rate, seconds))))


# -- one backend ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    backend: str
    saturation: dict[str, Any] = field(default_factory=dict)
    open_loop: dict[str, Any] = field(default_factory=dict)
    extra: dict[float, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    loads: dict[str, str] = field(default_factory=dict)


def _register(backend: str, data: Path) -> tuple[str | None, str | None]:
    """Create the register; returns (database URL, PostgreSQL schema to drop)."""
    from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
    from svidok.services.keys import Protection
    from svidok.settings import Settings

    url, schema = None, None
    if backend == "postgresql":
        from sqlalchemy import text

        from svidok.store.db import make_engine

        schema = f"svidok_bench_web_{uuid.uuid4().hex[:8]}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    Protection.open(
        Settings(data_dir=data, database_url=url),
        MasterSecret(passphrase=PASS),
        create=True,
        params=TEST_ARGON2,
    ).close()
    return url, schema


def _drop(schema: str | None) -> None:
    if schema is None:
        return
    from sqlalchemy import text

    from svidok.store.db import make_engine

    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _serve(data: Path, url: str | None, port: int) -> subprocess.Popen[bytes]:
    command = [str(ROOT / ".venv" / "bin" / "svidok"), "--data-dir", str(data)]
    if url:
        command += ["--database-url", url]
    command += ["serve", "--port", str(port)]
    env = {**os.environ, "SVIDOK_PASSPHRASE": PASS, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    import httpx

    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def _python_clients(port: int, seconds: float, connections: int) -> dict[str, Any]:
    """Two client processes (the generator must not be the bottleneck), merged like wrk's summary."""
    share = [connections // 2 + connections % 2, connections // 2]
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--closed-loop-worker", str(port), str(n), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in share
        if n
    ]
    parts = [json.loads(proc.communicate()[0]) for proc in procs]
    latencies = [x for part in parts for x in part["latencies"]]
    merged: dict[str, Any] = {
        "requests": sum(part["requests"] for part in parts),
        "duration_us": max(part["duration_us"] for part in parts),
        "status": sum(part["status"] for part in parts),
        "p50_us": _pct(latencies, 0.5) * 1e6,
        "p99_us": _pct(latencies, 0.99) * 1e6,
        "generator": "python",
    }
    merged.update(dict.fromkeys(("connect", "read", "write", "timeout"), 0))
    return merged


def _wrk(port: int, seconds: float, connections: int, body_file: Path, script: Path) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        return _python_clients(port, seconds, connections)
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/api/v1/submissions",
        ],
        env={**os.environ, "SVIDOK_BENCH_BODY": str(body_file)},
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRKJSON "))
    found: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    found["generator"] = "wrk"
    return found


def _check(data: Path, url: str | None) -> dict[str, Any]:
    from sqlalchemy import select

    from svidok.crypto.keyring import MasterSecret
    from svidok.services.keys import Protection
    from svidok.settings import Settings
    from svidok.store.models import Base

    p = Protection.open(Settings(data_dir=data, database_url=url), MasterSecret(passphrase=PASS))
    try:
        with p.store.read() as conn:
            stored = int(conn.exec_driver_sql("SELECT count(*) FROM submission").scalar_one())
            audited = int(
                conn.exec_driver_sql(
                    "SELECT count(*) FROM audit_entry WHERE action = 'submission.create'"
                ).scalar_one()
            )
            chain_ok = p.audit.verify(conn).ok
            # Through the table's column types, as the app reads it (PostgreSQL: field decryption).
            source = Base.metadata.tables["source"]
            raw_text = str(conn.execute(select(source.c.text).limit(1)).scalar_one())
    finally:
        p.close()
    if url is None:
        files = [f for f in data.iterdir() if f.name.startswith("register.db")]
        in_clear = any(MARKER.encode() in f.read_bytes() for f in files)
    else:
        # What PostgreSQL itself stores: read the column with a bare driver, no field keys.
        import psycopg

        schema = url.split("%3D", 1)[1]
        dsn = PG_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn) as pg:
            value = pg.execute(f'SELECT text FROM "{schema}".source LIMIT 1').fetchone()
        in_clear = value is not None and MARKER in str(value[0])
    return {
        "stored": stored,
        "audited": audited,
        "chain_ok": chain_ok,
        "marker_in_clear": in_clear,
        "reads_back": MARKER in raw_text,
    }


def _open_loop_run(pid: int, port: int, rate: float, seconds: float) -> dict[str, Any]:
    load_before = _load()
    cpu0 = _cpu_seconds(pid)
    generator = subprocess.run(
        [sys.executable, __file__, "--open-loop-worker", str(port), str(rate), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    opened: dict[str, Any] = json.loads(generator.stdout)
    opened["server_cpu"] = _cpu_seconds(pid) - cpu0
    opened["load_before"] = load_before
    opened["load_after"] = _load()
    return opened


def run_backend(backend: str, args: argparse.Namespace, work: Path) -> Outcome:
    out = Outcome(backend)
    data = work / backend
    url, schema = _register(backend, data)
    body_file, script = work / "body.json", work / "post.lua"
    body_file.write_text(json.dumps(BODY, ensure_ascii=False), encoding="utf-8")
    script.write_text(WRK_SCRIPT)
    port = _port()
    proc = _serve(data, url, port)
    try:
        warm = _wrk(port, 3, 8, body_file, script)
        out.loads["saturation"] = _load()
        cpu0 = _cpu_seconds(proc.pid)
        sat = _wrk(port, args.seconds, args.connections, body_file, script)
        sat["server_cpu"] = _cpu_seconds(proc.pid) - cpu0
        sat["load_after"] = _load()
        out.saturation = sat
        for rate in (args.rate, *args.also_rates):
            time.sleep(2)  # the writer finishes what the previous run left in flight
            opened = _open_loop_run(proc.pid, port, rate, args.open_seconds)
            if rate == args.rate and not out.open_loop:
                out.open_loop = opened
            else:
                out.extra[rate] = opened
        opened = out.open_loop
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    out.checks = _check(data, url)
    runs = [opened, *out.extra.values()]
    out.checks["answered_201"] = (
        warm["requests"]
        - warm["status"]
        + sat["requests"]
        - sat["status"]
        + sum(r["statuses"].get("201", 0) for r in runs)
    )
    out.checks["errors"] = {
        "saturation": {k: sat[k] for k in ("connect", "read", "write", "status", "timeout")},
        "open_loop": [k for r in runs for k in r["statuses"] if k != "201"]
        + [f for r in runs for f in r["failures"]],
    }
    _drop(schema)
    return out


# -- report ---------------------------------------------------------------------------------------

LABEL = {"sqlcipher": "SQLCipher (embedded)", "postgresql": "PostgreSQL"}


def report(outcomes: list[Outcome], args: argparse.Namespace, command: str) -> list[str]:
    from figures import record

    cpus = os.cpu_count() or 1
    lines = [
        "## Web: submissions over HTTP",
        "",
        f"`{command}` on {platform.machine()}, {cpus} CPUs, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. The machine is shared: the load average (1/5/15 min) "
        "is given beside each figure. Server: `svidok serve` (one uvicorn process, one writer thread, "
        "group commit); load: `wrk` (saturation) and an open-loop generator (latency), each in its own "
        "process on the same two cores.",
        "",
        "| backend | measure | value | goal | load avg |",
        "| --- | --- | --- | --- | --- |",
    ]
    for o in outcomes:
        sat, opened, checks = o.saturation, o.open_loop, o.checks
        name = LABEL[o.backend]
        ok_sat = sat["requests"] - sat["status"]
        rate = ok_sat / (sat["duration_us"] / 1e6)
        cpu_ms = sat["server_cpu"] / max(1, ok_sat) * 1000
        lat_ms = [x * 1000 for x in opened["latencies"]]
        p50, p95, p99 = (_pct(lat_ms, q) for q in (0.5, 0.95, 0.99))
        lat_max = max(lat_ms) if lat_ms else float("nan")
        achieved = opened["sent"] / opened["elapsed"]
        open_cpu_ms = opened["server_cpu"] / max(1, opened["statuses"].get("201", 0)) * 1000
        implied = 1000 / cpu_ms if cpu_ms else float("nan")
        lines += [
            f"| {name} | sustained, {args.connections} connections, {args.seconds:g} s | **{rate:.0f} "
            f"submissions/s** ({ok_sat} answered 201) | ≥ 500/s | {o.loads['saturation']} → {sat['load_after']} |",
            f"| {name} | closed-loop latency p50 / p99 ({sat['generator']}) | {sat['p50_us'] / 1000:.1f} / "
            f"{sat['p99_us'] / 1000:.1f} ms | | |",
            f"| {name} | open loop at {args.rate:g}/s for {args.open_seconds:g} s: p50 / p95 / p99 / max "
            f"(from scheduled send) | {p50:.1f} / {p95:.1f} / **{p99:.1f}** / {lat_max:.0f} ms | p99 ≤ 100 ms "
            f"| {opened['load_before']} → {opened['load_after']} |",
            f"| {name} | open loop: achieved rate, connections opened | {achieved:.0f}/s, "
            f"{opened['connections']} | | |",
        ]
        for extra_rate, run in sorted(o.extra.items()):
            ms = [x * 1000 for x in run["latencies"]]
            q50, q95, q99 = (_pct(ms, q) for q in (0.5, 0.95, 0.99))
            lines.append(
                f"| {name} | open loop at {extra_rate:g}/s (below the goal's rate: the server's latency with "
                f"headroom on this machine) p50 / p95 / p99 | {q50:.1f} / {q95:.1f} / {q99:.1f} ms "
                f"({run['sent'] / run['elapsed']:.0f}/s achieved) | | {run['load_before']} → {run['load_after']} |"
            )
            record(
                "web",
                f"p99 at {extra_rate:g}/s open loop ({name})",
                round(q99, 1),
                "ms",
                command=command,
                note=f"p50 {q50:.1f} ms; load {run['load_before']} → {run['load_after']}",
            )
        lines += [
            f"| {name} | server CPU per submission (all threads, /proc) | **{cpu_ms:.2f} ms** at saturation, "
            f"{open_cpu_ms:.2f} ms at {args.rate:g}/s | | |",
            f"| {name} | what that CPU implies: one core's worth | ≈ {implied:.0f} submissions/s | ≥ 500/s | |",
            f"| {name} | register afterwards: submissions, `submission.create` entries, chain | "
            f"{checks['stored']}, {checks['audited']}, {'verifies' if checks['chain_ok'] else 'BROKEN'} "
            f"(answered 201: {checks['answered_201']}; errors {checks['errors']}) | all, audited | |",
            f"| {name} | testimony marker in clear at rest / read back through the app | "
            f"{'YES' if checks['marker_in_clear'] else 'no'} / {'yes' if checks['reads_back'] else 'NO'} | "
            "no / yes | |",
        ]
        note = f"load {o.loads['saturation']} → {sat['load_after']} on {cpus} shared CPUs"
        record(
            "web",
            f"sustained submissions/s ({name})",
            round(rate),
            "submissions/s",
            goal=">= 500",
            met=rate >= 500,
            command=command,
            note=note,
        )
        record(
            "web",
            f"p99 at {args.rate:g}/s open loop ({name})",
            round(p99, 1),
            "ms",
            goal="<= 100",
            met=p99 <= 100,
            command=command,
            note=f"p50 {p50:.1f} ms; load {opened['load_before']} → {opened['load_after']}",
        )
        record(
            "web",
            f"p50 at {args.rate:g}/s open loop ({name})",
            round(p50, 1),
            "ms",
            command=command,
            note=f"load {opened['load_before']} → {opened['load_after']}",
        )
        record(
            "web",
            f"server CPU per submission ({name})",
            round(cpu_ms, 3),
            "ms",
            goal="<= 2 (500/s within one core)",
            met=cpu_ms <= 2,
            command=command,
            note=f"≈ {implied:.0f}/s per core of server CPU; {note}",
        )
    lines += [
        "",
        "Each submission: a JSON body (testimony, time, place, one victim, one perpetrator) becomes a `source`, "
        "two `mention`s, a `submission` row with an HMAC-SHA-256 receipt hash, its filing into the intake "
        "compartment and a `submission.create` audit entry, committed by the writer thread in a group "
        "transaction (SQLite: WAL, synchronous=FULL, i.e. one fsync per batch) before the 201 is sent. "
        "`stored` may exceed `answered 201` by the requests wrk cut off when its time ran out (committed, "
        "never answered). 'One core's worth' is 1000 / CPU ms: what one idle core running only the server "
        "would sustain; the server is one Python process, so on two idle cores it is bounded by about that "
        "figure while the second core runs the load generator and the GIL-free part of SQLite's work.",
        "",
    ]
    return lines


def in_process(threads: int, per_thread: int) -> str:
    """Process CPU per submission through `IntakeService` in this process, no HTTP: `threads`
    threads each submit `per_thread` drafts through the writer thread's group commit (few
    threads: small batches, where per-batch costs such as a keys.db commit show). Run it with
    PYTHONPATH pointing at another tree to compare two versions under the same load."""
    import threading

    import svidok
    from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
    from svidok.services.context import Actor, ServiceContext
    from svidok.services.intake import (
        IntakeService,
        Perpetrator,
        SubmissionDraft,
        Victim,
        durable,
        receipt_key_of,
    )
    from svidok.services.keys import Protection
    from svidok.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="svidok-bench-intake-"))
    try:
        p = Protection.open(
            Settings(data_dir=work), MasterSecret(passphrase=PASS), create=True, params=TEST_ARGON2
        )
        durable(p.store.engine)
        service = IntakeService(None, receipt_key_of(p.keyring))
        ctx = ServiceContext(p.store, Actor("bench"), audit=p.audit)
        draft = SubmissionDraft(
            language="ru",
            what_happened=BODY["what_happened"],
            place_text=BODY["place_text"],
            victims=[Victim("Пётр", "23")],
            perpetrators=[Perpetrator("Иванов", "капитан", "0421", "ОМОН")],
        )
        for _ in range(20):
            service.submit(ctx, draft)

        def work_loop() -> None:
            for _ in range(per_thread):
                service.submit(ctx, draft)

        pool = [threading.Thread(target=work_loop) for _ in range(threads)]
        load = _load()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        service.close()
        p.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = threads * per_thread
    return (
        f"in-process intake, {threads} threads x {per_thread} ({Path(svidok.__file__).parent}):"
        f" {cpu / n * 1000:.3f} ms CPU per submission, {n / wall:.0f} submissions/s wall,"
        f" load {load} -> {_load()}"
    )


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--in-process":
        threads, per_thread = (int(x) for x in sys.argv[2].split(","))
        print(in_process(threads, per_thread))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--open-loop-worker":
        _open_loop_main(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--closed-loop-worker":
        print(json.dumps(asyncio.run(_closed_loop(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30, help="saturation run (wrk)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200, help="open-loop submissions per second")
    parser.add_argument("--open-seconds", type=float, default=30)
    parser.add_argument(
        "--also-rates",
        type=lambda text: [float(x) for x in text.split(",") if x],
        default=[],
        help="further open-loop rates, comma-separated (e.g. 50,100): latency with headroom",
    )
    parser.add_argument("--backend", choices=("sqlcipher", "postgresql", "both"), default="both")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "web.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk not found (apt-get install -y wrk): two Python client processes load the server instead")
    command = "bench/bench_web.py " + " ".join(sys.argv[1:])
    backends = ["sqlcipher", "postgresql"] if args.backend == "both" else [args.backend]
    work = Path(tempfile.mkdtemp(prefix="svidok-bench-web-"))
    try:
        outcomes = []
        for backend in backends:
            outcome = run_backend(backend, args, work)
            outcomes.append(outcome)
            print(backend, json.dumps({**outcome.saturation, **outcome.checks}, default=str), flush=True)
        lines = report(outcomes, args, command.strip())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
