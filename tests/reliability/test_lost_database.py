"""PostgreSQL goes away mid-run: quick 503s with Retry-After, nothing acknowledged lost, recovery without restart.

Issue #9. The shared PostgreSQL server is never touched: the test makes a private
cluster (`initdb` as the `postgres` user into a temporary directory, its own port and
socket directory), stops it with `pg_ctl stop -m immediate` (no shutdown checkpoint,
like a crash) while submissions arrive, and starts it again. Without the PostgreSQL
binaries or the `postgres` user the test skips, and fails under CI=true.
"""

from __future__ import annotations

import glob
import os
import pwd
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.reliability.harness import Load, Register, Server, check, free_port

DOWN_BOUND = 10.0
"""Seconds within which every request must be answered while the database is down."""


@dataclass
class Cluster:
    bindir: Path
    data: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres?connect_timeout=3"

    def ctl(self, *args: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bindir / "pg_ctl"), "-D", str(self.data), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"pg_ctl {args[-1]}: {done.stdout[-500:]} {done.stderr[-500:]}"

    def start(self) -> None:
        self.ctl(
            "-l",
            str(self.log),
            "-w",
            "-o",
            f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c shared_buffers=16MB",
            "start",
        )

    def crash(self) -> None:
        self.ctl("-m", "immediate", "-w", "stop")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found or shutil.which("runuser") is None:
        _unavailable("no PostgreSQL server binaries (initdb) or runuser here")
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        _unavailable("no postgres user to own a private cluster")
    bindir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="svidok-pg-", dir="/tmp"))
    os.chown(root, owner.pw_uid, owner.pw_gid)
    data = root / "data"
    made = subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if made.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"initdb failed: {made.stderr[-300:]}")
    pg = Cluster(bindir, data, free_port(), root / "postgres.log")
    pg.start()
    try:
        yield pg
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def test_losing_postgresql_answers_503_quickly_and_recovers(cluster: Cluster, tmp_path: Path) -> None:
    reg = Register.create(tmp_path, cluster.url)
    server = Server(reg, tmp_path / "serve.log")
    server.start()
    load = Load(server, seed=11, sources=3)
    rng = random.Random(11)
    auth = {"Authorization": f"Bearer {reg.token}"}
    try:
        load.start()
        load.resume()
        deadline = time.monotonic() + 60
        while len(load.acked) < 8 and time.monotonic() < deadline:
            time.sleep(0.2)
        # The database dies under load: requests in flight when it goes get answers, not hangs.
        cluster.crash()
        time.sleep(1.0)
        load.pause(timeout=DOWN_BOUND * 3)
        acked_before = len(load.acked)
        assert acked_before >= 8, load.statuses
        pid = server.pid

        slowest, answers = 0.0, []
        with httpx.Client(base_url=server.base, timeout=DOWN_BOUND * 3) as client:
            for i in range(8):
                began = time.monotonic()
                got = (
                    client.get("/api/v1/intake/queue", headers=auth) if i % 4 == 3 else load.send(client, rng)
                )
                assert got is not None, "the server cut a request while the database was down"
                slowest = max(slowest, time.monotonic() - began)
                answers.append(got)
            for answer in answers:
                assert answer.status_code == 503, (answer.status_code, answer.text[:300])
                assert int(answer.headers["retry-after"]) > 0
                # Nothing about the database server reaches a source: no driver, address or statement.
                shown = answer.text.lower()
                assert all(
                    w not in shown for w in ("psycopg", "postgres", "127.0.0.1", str(cluster.port), "select")
                )
            assert slowest < DOWN_BOUND, f"a request took {slowest:.1f} s while the database was down"

            cluster.start()
            recovered_after = None
            began = time.monotonic()
            while time.monotonic() - began < 60:
                sent = load.send(client, rng)
                if sent is not None and sent.status_code == 201:
                    recovered_after = time.monotonic() - began
                    break
                time.sleep(0.5)
            assert recovered_after is not None, (
                f"no submission succeeded after the database returned: {load.statuses}"
            )
            assert client.get("/api/v1/intake/queue", headers=auth).status_code == 200
        assert server.pid == pid and server.alive(), "the server was restarted"
        load.resume()
        time.sleep(2)
        load.pause()
        print(  # noqa: T201 - the run's figures, shown with -s
            f"\nlost database: {acked_before} acknowledged before, {len(answers)} answered 503 while down "
            f"(slowest {slowest:.2f} s), first success {recovered_after:.1f} s after restart; "
            f"answers {dict(load.statuses)}"
        )
    finally:
        load.close()
        server.stop()
    server.start()
    try:
        report = check(reg, load.acked, load.structured, load.added)
    finally:
        server.stop()
    assert report.problems == [], report.problems
    errors = {k: v for k, v in load.statuses.items() if k.endswith("500")}
    assert not errors, errors
