"""A small register in two compartments, users of every role, a clock the tests move."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from svidok.access import totp
from svidok.access.passwords import Passwords
from svidok.access.principal import Principal
from svidok.audit import AuditKey, AuditLog
from svidok.services import accounts, register
from svidok.services.accounts import Enrolment, _principal
from svidok.services.context import Actor, ServiceContext
from svidok.store.models import Base
from svidok.store.register import Store
from tests.factories import RECORDS, T0, write_jsonl

FAST = Passwords.fast_for_tests()
START = datetime(2026, 3, 2, 9, 0, 0)

CASE_B: list[dict[str, Any]] = [
    {"record": "incident", "id": "in_2", "title": "Beatings in the yard", "summary": "SECRET-SUMMARY-B",
     "start_at": T0, "place_id": "pl_bcip", "status": "alleged"},
    {"record": "incident", "id": "in_3", "title": "Unassigned incident", "start_at": T0, "status": "alleged"},
    {"record": "person", "id": "pe_victim2", "primary_name": "CANARY-NAME-B", "pseudonym": "V-0002",
     "sex": "female"},
    {"record": "source", "id": "so_t2", "kind": "testimony", "author_role": "witness", "language": "ru",
     "text": "CANARY-TEXT-B", "received_at": "2020-08-14T09:15:00Z", "reliability": "C", "credibility": 3,
     "origin": "import"},
    {"record": "act", "id": "ac_2", "incident_id": "in_2", "violation": "torture", "victim_id": "pe_victim2"},
    {"record": "mention", "id": "me_2", "source_id": "so_t2", "role": "victim", "raw_name": "CANARY-MENTION-B"},
    {"record": "link", "id": "li_2", "kind": "mention_person", "from_id": "me_2", "to_id": "pe_victim2",
     "score": 0.8, "explanation": [], "method": "names-v1", "status": "suggested",
     "created_at": "2020-08-15T00:00:00Z"},
    {"record": "link", "id": "li_x", "kind": "mention_person", "from_id": "me_1", "to_id": "pe_victim2",
     "score": 0.3, "explanation": [], "method": "names-v1", "status": "suggested",
     "created_at": "2020-08-15T00:00:00Z"},
]
CASE_A_IDS = {"incident": ["in_1"], "source": ["so_t1"], "person": ["pe_victim1", "pe_officer1"],
              "missing_case": ["mc_1"]}
CASE_B_IDS = {"incident": ["in_2"], "source": ["so_t2"], "person": ["pe_victim2"]}
ROLES = ["intake_operator", "analyst", "investigator", "protection_officer", "admin", "auditor"]


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def code(self, secret: str | None, *, steps: int = 0) -> str:
        assert secret is not None
        moment = self.now.replace(tzinfo=UTC).timestamp() + steps * totp.STEP_SECONDS
        return totp.totp(totp.decode_secret(secret), moment)


@dataclass
class World:
    store: Store
    log: AuditLog
    clock: Clock
    system: ServiceContext
    users: dict[str, Enrolment] = field(default_factory=dict)

    def add_user(self, name: str, role: str, compartments: tuple[str, ...] = ("case-a",),
                 identity: tuple[str, ...] = ()) -> Enrolment:
        enrolment = accounts.create_user(self.system, name, role, compartments=compartments,
                                         identity_compartments=identity, passwords=FAST)
        self.users[name] = enrolment
        return enrolment

    def as_user(self, name: str) -> ServiceContext:
        """A context for `name` as a login would build it (password changed, full scope)."""
        user = Base.metadata.tables["app_user"]
        with self.store.begin() as conn:
            conn.execute(update(user).where(user.c.name == name).values(must_change_password=False))
        return accounts.context_for(self.system, self.principal(name))

    def principal(self, name: str, scopes: frozenset[str] | None = None) -> Principal:
        user = Base.metadata.tables["app_user"]
        with self.store.read() as conn:
            row = conn.execute(select(user).where(user.c.name == name)).one()
            return _principal(conn, row, via="session", credential_id=None, scopes=scopes)

    def login(self, name: str, address: str = "10.0.0.1", password: str | None = None,
              code: str | None = None) -> accounts.Login:
        enrolment = self.users.get(name)
        if enrolment is not None:
            password = password or enrolment.password
            code = code if code is not None else self.clock.code(enrolment.totp_secret)
        return accounts.login(self.system, name, password or "-", code or "", address, passwords=FAST)

    def audit_actions(self) -> list[tuple[str, str, dict[str, object]]]:
        entry = Base.metadata.tables["audit_entry"]
        with self.store.read() as conn:
            return [(r.actor, r.action, dict(r.details))
                    for r in conn.execute(select(entry).order_by(entry.c.seq))]

    def audit_bytes(self) -> bytes:
        entry = Base.metadata.tables["audit_entry"]
        with self.store.read() as conn:
            return b"".join(bytes(b) for b in conn.execute(select(entry.c.entry)).scalars())


@pytest.fixture
def world(store: Store, tmp_path: Path) -> World:
    register.import_file(store, write_jsonl(tmp_path / "r.jsonl", RECORDS + CASE_B))
    private = Ed25519PrivateKey.generate()
    log = AuditLog(AuditKey("svidok.test/log", private.public_key(), private))
    clock = Clock()
    system = ServiceContext(store, Actor("admin-cli"), audit=log, clock=clock)
    for name in ("case-a", "case-b"):
        accounts.create_compartment(system, name)
    for kind, ids in CASE_A_IDS.items():
        accounts.assign_records(system, "case-a", kind, ids)
    for kind, ids in CASE_B_IDS.items():
        accounts.assign_records(system, "case-b", kind, ids)
    return World(store, log, clock, system)

