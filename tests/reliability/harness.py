"""A real `svidok serve` under load, killed and restarted: what the crash, disk and database tests share.

`Register` makes a fresh register (key file, so no Argon2 at each start) with one
intake operator and an API token, through the CLI. `Server` runs `svidok serve` as a
subprocess in its own process group on a free loopback port. `Load` sends public
submissions with files (the form, `POST /submit`) and without (`POST /api/v1/submissions`)
from several threads and has an operator structure them (`/api/v1/intake/...`);
whatever was acknowledged (a receipt, a 201 structure) is remembered with what was
sent. `check` opens the register beside the server and proves every acknowledged
thing is there and intact, nothing is half written or orphaned, the audit log and
the evidence verify, and the database's own checks are clean.

Everything sent is fictional: random words, random bytes behind a PNG or PDF header.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from svidok.cli.app import app as cli_app
from svidok.crypto.keyring import MasterSecret
from svidok.services.intake import _digest as receipt_digest
from svidok.services.keys import Protection
from svidok.settings import Settings
from svidok.store.models import Base

SVIDOK = Path(sys.executable).with_name("svidok")
PG_URL = os.environ.get("SVIDOK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_RECEIPT = re.compile(r'id="receipt-code">([^<]+)<')
_PASSPHRASE = re.compile(r'id="receipt-passphrase">([^<]+)<')
_TOKEN = re.compile(r"\b(svk_[A-Za-z0-9_\-]+)")
_WORDS = (
    "yard van street night courtyard detained beaten helmet shield bus station square "
    "officers masked carried stopped phone taken released hours cell floor cold"
).split()
T = Base.metadata.tables


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> str:
    """Run the `svidok` CLI in this process (no interpreter start per command); its output."""
    result = CliRunner().invoke(cli_app, list(args), env=env, catch_exceptions=False)
    if result.exit_code != 0:
        raise AssertionError(
            f"svidok {' '.join(args[:2])} exited {result.exit_code}: {result.output[-2000:]}"
        )
    return result.output


@dataclass
class Register:
    """A fresh register and the secrets the harness needs to drive and check it."""

    data_dir: Path
    key_file: Path
    database_url: str | None
    token: str = ""

    @property
    def env(self) -> dict[str, str]:
        env = {"SVIDOK_DATA_DIR": str(self.data_dir), "SVIDOK_KEY_FILE": str(self.key_file)}
        if self.database_url:
            env["SVIDOK_DATABASE_URL"] = self.database_url
        return env

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.database_url)

    @classmethod
    def create(cls, root: Path, database_url: str | None = None, data_dir: Path | None = None) -> Register:
        reg = cls(data_dir or root / "data", root / "register.key", database_url)
        env = reg.env
        cli(env, "keys", "init", "--new-key-file", str(reg.key_file))
        for name in ("intake", "case-x"):
            cli(env, "compartment", "add", name, "--description", "crash test (fictional)")
        cli(
            env,
            "user",
            "add",
            "op1",
            "--role",
            "intake_operator",
            "--compartment",
            "intake",
            "--compartment",
            "case-x",
        )
        out = cli(env, "token", "create", "op1", "--scope", "record.*", "--expires", "1d")
        found = _TOKEN.search(out)
        assert found, "token create printed no token"
        reg.token = found.group(1)
        return reg

    def open(self) -> Protection:
        return Protection.open(self.settings, MasterSecret(key_file=self.key_file))


# A process that has imported the CLI once and forks a fresh `svidok serve` on request: a
# cold interpreter spends seconds importing (statsmodels, followthemoney) before it opens
# the register, which would dominate every restart and the CI budget. The child runs the
# CLI's own `serve` command from the start, in a new session, and is killed like any server.
_ZYGOTE = r"""
import os, signal, sys
import svidok.cli.app as cli
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
for line in sys.stdin:
    port, log = line.rstrip("\n").split("\t")
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.argv = ["svidok", "serve", "--port", port]
        try:
            cli.app()
        finally:
            os._exit(1)
    print(pid, flush=True)
"""


class Server:
    """`svidok serve` in its own process group; its stderr/stdout appended to `log`.

    `warm` (default) forks it from a process that has already imported Svidok; otherwise
    every start is a new interpreter running the `svidok` executable."""

    def __init__(
        self,
        reg: Register,
        log: Path,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
        *,
        warm: bool = True,
    ):
        self.reg = reg
        self.log = log
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.extra_env = extra_env or {}
        self.warm = warm
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None
        self._zygote: subprocess.Popen[str] | None = None

    def _env(self) -> dict[str, str]:
        env = {**os.environ, **self.reg.env, "SVIDOK_RECOVERY_GRACE": "0", **self.extra_env}
        env.pop("SVIDOK_PASSPHRASE", None)
        return env

    def start(self, timeout: float = 180) -> float:
        """Start and wait until `/api/v1/health` answers; seconds it took."""
        began = time.monotonic()
        if self.warm:
            if self._zygote is None:
                self._zygote = subprocess.Popen(
                    [sys.executable, "-c", _ZYGOTE],
                    env=self._env(),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                began = time.monotonic()
            assert self._zygote.stdin is not None and self._zygote.stdout is not None
            self._zygote.stdin.write(f"{self.port}\t{self.log}\n")
            self._zygote.stdin.flush()
            self.pid = int(self._zygote.stdout.readline())
        else:
            with self.log.open("ab") as out:
                self.proc = subprocess.Popen(
                    [str(SVIDOK), "serve", "--port", str(self.port)],
                    env=self._env(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.pid = self.proc.pid
        self.wait_serving(timeout)
        return time.monotonic() - began

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def wait_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise AssertionError(f"svidok serve exited: {self.tail()}")
            try:
                if httpx.get(self.base + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise AssertionError(f"svidok serve not serving after {timeout} s: {self.tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no handler, no flush, no clean shutdown."""
        self._signal(signal.SIGKILL)

    def _signal(self, sig: signal.Signals) -> None:
        if self.pid is None:
            return
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass
        if self.proc is not None:
            self.proc.wait(timeout=30)
        else:
            deadline = time.monotonic() + 30
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.01)
        self.proc, self.pid = None, None

    def stop(self) -> None:
        """End the server (SIGTERM, a clean shutdown) and the forking process."""
        self._signal(signal.SIGTERM)
        if self._zygote is not None:
            assert self._zygote.stdin is not None
            self._zygote.stdin.close()
            self._zygote.wait(timeout=30)
            self._zygote = None

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


@dataclass
class Sent:
    """An acknowledged submission: its receipt code and what was sent."""

    code: str
    text: str
    files: list[str]
    via: str
    passphrase: str = ""


@dataclass
class Load:
    """Concurrent sources and one operator against `server`; acknowledgements are recorded."""

    server: Server
    seed: int
    sources: int = 3
    file_bytes: tuple[int, int] = (2_000, 60_000)
    acked: list[Sent] = field(default_factory=list)
    added: list[Sent] = field(default_factory=list)
    """Acknowledged additions (`POST /add` with a receipt): the receipt code, the text and files added."""
    structured: list[tuple[str, str]] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    slowest_503: float = 0.0
    go: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _busy: int = 0
    _threads: list[threading.Thread] = field(default_factory=list)
    _n: int = 0
    _pending: str | None = None

    def start(self) -> None:
        for i in range(self.sources):
            self._threads.append(threading.Thread(target=self._source, args=(i,), daemon=True))
        self._threads.append(threading.Thread(target=self._operator, daemon=True))
        for t in self._threads:
            t.start()

    def resume(self) -> None:
        self.go.set()

    def pause(self, timeout: float = 60) -> None:
        """Stop sending and wait for requests in flight to end (answered or cut)."""
        self.go.clear()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._busy == 0:
                    return
            time.sleep(0.02)
        raise AssertionError("requests still in flight after pause")

    def close(self) -> None:
        self.stopping.set()
        self.go.set()
        for t in self._threads:
            t.join(timeout=30)

    def _enter(self) -> bool:
        while not self.stopping.is_set():
            if self.go.wait(0.2):
                with self._lock:
                    if self.go.is_set() and not self.stopping.is_set():
                        self._busy += 1
                        return True
        return False

    def _leave(self) -> None:
        with self._lock:
            self._busy -= 1

    def _note(self, what: str) -> None:
        with self._lock:
            self.statuses[what] += 1

    def _next(self) -> int:
        with self._lock:
            self._n += 1
            return self._n

    def submission(self, rng: random.Random) -> tuple[str, list[tuple[str, bytes, str]]]:
        n = self._next()
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 60)))
        body = f"Fictional crash-test testimony {self.seed}-{n}: {words}. Ёсць і кірыліца."
        files = []
        for k in range(rng.randint(0, 2)):
            size = rng.randint(*self.file_bytes)
            if rng.random() < 0.5:
                files.append((f"photo-{n}-{k}.png", b"\x89PNG\r\n\x1a\n" + rng.randbytes(size), "image/png"))
            else:
                files.append((f"doc-{n}-{k}.pdf", b"%PDF-1.4\n" + rng.randbytes(size), "application/pdf"))
        return body, files

    def send(self, client: httpx.Client, rng: random.Random) -> httpx.Response | None:
        """One submission through the form (files) or the JSON API; recorded if acknowledged."""
        body, files = self.submission(rng)
        began = time.monotonic()
        try:
            if files or rng.random() < 0.5:
                response = client.post(
                    "/submit",
                    data={"what_happened": body, "lang": rng.choice(["en", "be", "uk"])},
                    files=[("files", f) for f in files] or None,
                )
                via = "form"
            else:
                response = client.post("/api/v1/submissions", json={"what_happened": body, "language": "ru"})
                via = "api"
        except httpx.HTTPError:
            self._note("cut")
            return None
        self._note(str(response.status_code))
        if response.status_code == 503:
            with self._lock:
                self.slowest_503 = max(self.slowest_503, time.monotonic() - began)
        if response.status_code != 201:
            return response
        if via == "form":
            found, secret = _RECEIPT.search(response.text), _PASSPHRASE.search(response.text)
            assert found and secret, "a 201 form answer without a receipt"
            code, passphrase = found.group(1), secret.group(1)
        else:
            code, passphrase = response.json()["receipt_code"], response.json()["passphrase"]
        digests = [hashlib.sha256(content).hexdigest() for _, content, _ in files]
        with self._lock:
            self.acked.append(Sent(code, body, digests, via, passphrase))
        return response

    def add(self, client: httpx.Client, rng: random.Random) -> httpx.Response | None:
        """Add text and a file to an acknowledged submission with its receipt (`POST /add`)."""
        with self._lock:
            if not self.acked:
                return None
            target = rng.choice(self.acked)
        body, files = self.submission(rng)
        files = files[:1]
        try:
            response = client.post(
                "/add",
                data={"code": target.code, "passphrase": target.passphrase, "text": body},
                files=[("files", f) for f in files] or None,
            )
        except httpx.HTTPError:
            self._note("add-cut")
            return None
        self._note(f"add-{response.status_code}")
        if response.status_code == 200:
            digests = [hashlib.sha256(content).hexdigest() for _, content, _ in files]
            with self._lock:
                self.added.append(Sent(target.code, body, digests, "add"))
        return response

    def _source(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        with httpx.Client(base_url=self.server.base, timeout=30) as client:
            while self._enter():
                try:
                    if rng.random() < 0.15:
                        self.add(client, rng)
                    else:
                        self.send(client, rng)
                finally:
                    self._leave()

    def _operator(self) -> None:
        rng = random.Random(self.seed * 1000 + 999)
        auth = {"Authorization": f"Bearer {self.server.reg.token}"}
        with httpx.Client(base_url=self.server.base, timeout=30, headers=auth) as client:
            while self._enter():
                try:
                    self._structure_one(client, rng)
                except httpx.HTTPError:
                    self._note("operator-cut")
                finally:
                    self._leave()
                time.sleep(rng.uniform(0.05, 0.3))

    def _structure_one(self, client: httpx.Client, rng: random.Random) -> None:
        # A submission taken before a kill is structured first after it (it stays assigned to us).
        sid = self._pending
        if sid is None:
            queue = client.get("/api/v1/intake/queue", params={"everyone": "true"})
            self._note(f"operator-queue-{queue.status_code}")
            if queue.status_code != 200:
                return
            open_items = [item for item in queue.json() if item["status"] in ("new", "updated")]
            if not open_items:
                return
            sid = str(rng.choice(open_items)["id"])
            taken = client.post(f"/api/v1/intake/submissions/{sid}/take")
            self._note(f"operator-take-{taken.status_code}")
            if taken.status_code != 200:
                return
            self._pending = sid
        n = self._next()
        plan = {
            "title": f"Fictional crash-test incident {n}",
            "start_at": "2020-08-10T18:00:00+03:00",
            "compartment": "case-x",
            "reliability": rng.choice("ABCDEF"),
            "credibility": rng.randint(1, 6),
            "mentions": [{"raw_name": f"Officer Fictional {n}", "role": "perpetrator", "rank": "sergeant"}],
        }
        done = client.post(f"/api/v1/intake/submissions/{sid}/structure", json=plan)
        self._note(f"operator-structure-{done.status_code}")
        if done.status_code != 503:
            self._pending = None
        if done.status_code == 201:
            made = done.json()
            incident = made.get("incident_id") or made.get("incident")
            with self._lock:
                self.structured.append((sid, str(incident)))


# -- checks ---------------------------------------------------------------------------------------


@dataclass
class CheckReport:
    submissions: int = 0
    evidence: int = 0
    blobs: int = 0
    problems: list[str] = field(default_factory=list)


def check(
    reg: Register, load_acked: list[Sent], structured: list[tuple[str, str]], added: list[Sent] | None = None
) -> CheckReport:
    """Everything acknowledged intact; nothing half written or orphaned; the verifiers and DB checks pass."""
    report = CheckReport()
    p = reg.open()
    try:
        _check_records(p, reg, load_acked, structured, report)
        _check_additions(p, added or [], report)
        _check_database(p, report)
    finally:
        p.close()
    audit = CliRunner().invoke(cli_app, ["audit", "verify"], env=reg.env)
    if audit.exit_code != 0:
        report.problems.append(f"svidok audit verify exited {audit.exit_code}: {audit.output[-500:]}")
    evidence = CliRunner().invoke(cli_app, ["evidence", "verify"], env=reg.env)
    if evidence.exit_code != 0:
        report.problems.append(
            f"svidok evidence verify exited {evidence.exit_code}: {evidence.output[-500:]}"
        )
    return report


def _check_records(
    p: Protection, reg: Register, acked: list[Sent], structured: list[tuple[str, str]], report: CheckReport
) -> None:
    sub, src, ev, blob = T["submission"], T["source"], T["evidence"], T["evidence_blob"]
    with p.store.read() as conn:
        by_digest = {
            str(r.receipt_digest): (str(r.id), str(r.source_id))
            for r in conn.execute(select(sub.c.id, sub.c.source_id, sub.c.receipt_digest))
        }
        texts = {str(r.id): str(r.text) for r in conn.execute(select(src.c.id, src.c.text))}
        files: dict[str, list[str]] = {}
        for r in conn.execute(select(ev.c.source_id, ev.c.sha256)):
            files.setdefault(str(r.source_id), []).append(str(r.sha256))
        blob_rows = {str(r[0]) for r in conn.execute(select(blob.c.sha256))}
        evidence_digests = {str(r[0]) for r in conn.execute(select(ev.c.sha256))}
        incidents = {str(r[0]) for r in conn.execute(select(T["incident"].c.id))}
        audit = T["audit_entry"]
        created = {
            str(r.record_id): r.details
            for r in conn.execute(
                select(audit.c.record_id, audit.c.details).where(audit.c.action == "submission.create")
            )
        }
        report.submissions = conn.execute(select(func.count()).select_from(sub)).scalar_one()
        report.evidence = conn.execute(select(func.count()).select_from(ev)).scalar_one()
    for sent in acked:
        found = by_digest.get(receipt_digest(sent.code))
        if found is None:
            report.problems.append(f"acknowledged submission ({sent.via}) missing: receipt {sent.code[:5]}…")
            continue
        sid, source_id = found
        if texts.get(source_id) != sent.text.strip():
            report.problems.append(f"submission {sid}: its testimony text differs from what was sent")
        if sorted(files.get(source_id, [])) != sorted(sent.files):
            report.problems.append(
                f"submission {sid}: {len(files.get(source_id, []))} file(s) stored, {len(sent.files)} sent "
                "(or their SHA-256 differ)"
            )
    for sid, incident in structured:
        if incident not in incidents:
            report.problems.append(f"structuring of {sid} acknowledged but incident {incident} is missing")
    for sid, source_id in by_digest.values():
        details = created.get(sid)
        if not isinstance(details, dict):
            report.problems.append(f"submission {sid} has no submission.create audit entry")
        elif int(details.get("files", 0)) != len(files.get(source_id, [])):
            report.problems.append(
                f"submission {sid} half written: {details.get('files')} file(s) announced, "
                f"{len(files.get(source_id, []))} stored"
            )
    blobs_dir = reg.data_dir / "blobs"
    on_disk = {q.name for q in blobs_dir.glob("??/??/*")}
    report.blobs = len(on_disk)
    for digest in sorted(evidence_digests - blob_rows):
        report.problems.append(f"evidence with sha256 {digest[:12]}… has no evidence_blob row")
    for digest in sorted(blob_rows - on_disk):
        report.problems.append(f"evidence_blob {digest[:12]}… has no stored file")
    orphans = on_disk - blob_rows
    if orphans:
        report.problems.append(f"{len(orphans)} orphaned blob file(s) after recovery")
    leftovers = [q for d in (".incoming", ".uploads") for q in (blobs_dir / d).glob("*")]
    if leftovers:
        report.problems.append(f"{len(leftovers)} spool leftover(s) after recovery: {leftovers[:3]}")


def _check_additions(p: Protection, added: list[Sent], report: CheckReport) -> None:
    sub, addition, src, ev = T["submission"], T["submission_addition"], T["source"], T["evidence"]
    with p.store.read() as conn:
        ids = {str(r.receipt_digest): str(r.id) for r in conn.execute(select(sub.c.id, sub.c.receipt_digest))}
        sources: dict[str, list[str]] = {}
        for r in conn.execute(select(addition.c.submission_id, addition.c.source_id)):
            sources.setdefault(str(r.submission_id), []).append(str(r.source_id))
        texts = {str(r.id): str(r.text) for r in conn.execute(select(src.c.id, src.c.text))}
        files: dict[str, list[str]] = {}
        for r in conn.execute(select(ev.c.source_id, ev.c.sha256)):
            files.setdefault(str(r.source_id), []).append(str(r.sha256))
        audit = T["audit_entry"]
        announced = [
            r.details for r in conn.execute(select(audit.c.details).where(audit.c.action == "submission.add"))
        ]
    for details in announced:
        source_id = str(details.get("source_id"))
        if int(details.get("files", 0)) != len(files.get(source_id, [])):
            report.problems.append(
                f"addition {source_id} half written: {details.get('files')} file(s) announced, "
                f"{len(files.get(source_id, []))} stored"
            )
    for sent in added:
        sid = ids.get(receipt_digest(sent.code))
        matches = [s for s in sources.get(sid or "", []) if texts.get(s) == sent.text.strip()]
        if not matches:
            report.problems.append(f"acknowledged addition to {sid} missing")
        elif not any(sorted(files.get(s, [])) == sorted(sent.files) for s in matches):
            report.problems.append(f"acknowledged addition to {sid}: its files are not all stored")


def _check_database(p: Protection, report: CheckReport) -> None:
    engine = p.store.engine
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            if result != ["ok"]:
                report.problems.append(f"PRAGMA integrity_check: {result[:5]}")
            fk = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            if fk:
                report.problems.append(f"PRAGMA foreign_key_check: {len(fk)} violation(s), first {fk[0][:3]}")
            return
        schema = conn.execute(text("select current_schema()")).scalar_one()
        where = conn.execute(
            text(
                "select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace "
                "where e.extname = 'amcheck'"
            )
        ).scalar()
        if where is None:
            conn.execute(text(f'create extension if not exists amcheck schema "{schema}"'))
            conn.commit()
            where = schema
        indexes = (
            conn.execute(
                text(
                    "select c.oid::regclass::text from pg_index i join pg_class c on c.oid = i.indexrelid "
                    "join pg_namespace n on n.oid = c.relnamespace join pg_am a on a.oid = c.relam "
                    "where n.nspname = current_schema() and a.amname = 'btree'"
                )
            )
            .scalars()
            .all()
        )
        for name in indexes:
            try:
                conn.execute(
                    text(f'select "{where}".bt_index_check(CAST(:i AS regclass), true)'), {"i": name}
                )
            except Exception as exc:  # noqa: BLE001 - reported as a finding
                report.problems.append(f"amcheck {name}: {type(exc).__name__}: {str(exc)[:200]}")
                conn.rollback()
        # Constraints PostgreSQL enforces cannot fail; these rows tie blobs to evidence across tables.
        bad = conn.execute(
            text(
                "select count(*) from evidence e left join evidence_blob b on b.sha256 = e.sha256 "
                "where b.sha256 is null"
            )
        ).scalar_one()
        if bad:
            report.problems.append(f"{bad} evidence row(s) without their evidence_blob row")


def new_pg_schema() -> tuple[str, str]:
    """A fresh schema in the shared test database: (schema, url with its search_path)."""
    from svidok.store.db import make_engine

    schema = f"svidok_crash_{secrets.token_hex(5)}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema, f"{PG_URL}?options=-csearch_path%3D{schema}"


def drop_pg_schema(schema: str) -> None:
    from svidok.store.db import make_engine

    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@dataclass
class CrashRun:
    kills: int
    recoveries: list[float]
    acked: int
    structured: int
    added: int
    lost: list[str]
    statuses: dict[str, Any]
    submissions: int
    evidence: int
    blobs: int


def crash_run(
    reg: Register, log: Path, *, kills: int, seed: int, check_every: int = 1, warm: bool = True
) -> CrashRun:
    """Serve, load, SIGKILL at random moments `kills` times; check after each restart (every `check_every`)."""
    rng = random.Random(seed)
    server = Server(reg, log, warm=warm)
    server.start()
    load = Load(server, seed)
    load.start()
    recoveries: list[float] = []
    problems: list[str] = []
    last = CheckReport()
    try:
        for round_ in range(1, kills + 1):
            # Each round lets some work through (two acknowledgements, at most 30 s on a slow
            # machine), then kills at a random moment while more is under way.
            acked_at_start = len(load.acked) + len(load.structured) + len(load.added)
            load.resume()
            began = time.monotonic()
            while (
                len(load.acked) + len(load.structured) + len(load.added) < acked_at_start + 2
                and time.monotonic() - began < 30
            ):
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 1.5))
            killed_at = time.monotonic()
            server.kill()
            load.pause()
            server.start()
            recoveries.append(time.monotonic() - killed_at)
            if round_ % check_every == 0 or round_ == kills:
                last = check(reg, load.acked, load.structured, load.added)
                problems += [f"after kill {round_}: {p}" for p in last.problems]
                if last.problems:
                    break
    finally:
        load.close()
        server.stop()
    return CrashRun(
        kills=len(recoveries),
        recoveries=recoveries,
        acked=len(load.acked),
        structured=len(load.structured),
        added=len(load.added),
        lost=problems,
        statuses=dict(load.statuses),
        submissions=last.submissions,
        evidence=last.evidence,
        blobs=last.blobs,
    )
