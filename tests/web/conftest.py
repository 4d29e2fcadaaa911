"""A register unlocked for the web app, users of every role who sign in for real, a test client."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from svidok.access import totp
from svidok.access.passwords import Passwords
from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.reports import index
from svidok.services import accounts, register
from svidok.services.accounts import Enrolment
from svidok.services.context import Actor, ServiceContext
from svidok.services.keys import Protection, register_officer_key
from svidok.settings import Settings
from svidok.store.models import Base
from svidok.web import create_app
from svidok.web.config import WebSettings
from tests.factories import RECORDS, write_jsonl

FAST = Passwords.fast_for_tests()
BASE_URL = "https://testserver"
"""The session cookie is Secure (`__Host-`): the test client speaks HTTPS so it is sent back."""

OTHER_CASE: list[dict[str, Any]] = [
    {
        "record": "incident",
        "id": "in_2",
        "title": "Beatings in the yard",
        "summary": "SECRET-SUMMARY-B",
        "start_at": "2020-08-11T10:00:00Z",
        "place_id": "pl_bcip",
        "status": "alleged",
    },
    {
        "record": "person",
        "id": "pe_victim2",
        "primary_name": "CANARY-NAME-B",
        "pseudonym": "V-0002",
        "sex": "female",
    },
    {
        "record": "source",
        "id": "so_t2",
        "kind": "testimony",
        "author_role": "witness",
        "language": "ru",
        "text": "CANARY-TEXT-B",
        "received_at": "2020-08-14T09:15:00Z",
        "reliability": "C",
        "credibility": 3,
        "origin": "import",
    },
    {"record": "act", "id": "ac_2", "incident_id": "in_2", "violation": "torture", "victim_id": "pe_victim2"},
]
EXTRA: list[dict[str, Any]] = [
    {
        "record": "link",
        "id": "li_s1",
        "kind": "suspect_act",
        "from_id": "pe_officer1",
        "to_id": "ac_1",
        "score": 0.62,
        "explanation": ["membership mb_1: on the roster of un_aomon deployed in de_1"],
        "method": "suspects-v1",
        "status": "suggested",
        "created_at": "2020-08-13T00:00:00Z",
    },
    {
        "record": "link",
        "id": "li_e1",
        "kind": "evidence_incident",
        "from_id": "ev_1",
        "to_id": "in_1",
        "score": 0.9,
        "explanation": ["time: captured 4 min after the incident began"],
        "method": "evidence-time-place-v1",
        "status": "suggested",
        "created_at": "2020-08-13T00:00:00Z",
    },
    {
        "record": "link",
        "id": "li_m1",
        "kind": "missing_custody",
        "from_id": "mc_1",
        "to_id": "cu_1",
        "score": 0.88,
        "explanation": ["name: equivalent", "held 4 h after last seen"],
        "method": "missing-v1",
        "status": "suggested",
        "created_at": "2020-08-13T00:00:00Z",
    },
]
CASE_A = {
    "incident": ["in_1"],
    "source": ["so_t1"],
    "person": ["pe_victim1", "pe_officer1"],
    "missing_case": ["mc_1"],
}
CASE_B = {"incident": ["in_2"], "source": ["so_t2"], "person": ["pe_victim2"]}


@pytest.fixture
def protection(tmp_path: Path) -> Iterator[Protection]:
    settings = Settings(data_dir=tmp_path / "data")
    p = Protection.open(settings, MasterSecret(passphrase="web tests"), create=True, params=TEST_ARGON2)
    yield p
    p.close()


@pytest.fixture
def web_settings() -> WebSettings:
    return WebSettings(max_file_bytes=64 * 1024, max_files=3)


@pytest.fixture
def client(protection: Protection, web_settings: WebSettings) -> Iterator[TestClient]:
    app = create_app(
        Settings(data_dir=protection.keyring.data_dir),
        protection=protection,
        web=web_settings,
        passwords=FAST,
    )
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def officer_key(protection: Protection, tmp_path: Path) -> Path:
    path = tmp_path / "officer.key"
    register_officer_key(protection, "test", "officer", path)
    return path


@dataclass
class People:
    """Users of the register for the web tests: made by the system, password already changed."""

    protection: Protection
    enrolled: dict[str, Enrolment] = field(default_factory=dict)

    @property
    def system(self) -> ServiceContext:
        return ServiceContext(self.protection.store, Actor("admin-cli"), audit=self.protection.audit)

    def add(
        self,
        name: str,
        role: str,
        compartments: tuple[str, ...] = ("case-a", "intake"),
        identity: tuple[str, ...] = (),
        *,
        first_login: bool = False,
    ) -> Enrolment:
        enrolment = accounts.create_user(
            self.system, name, role, compartments=compartments, identity_compartments=identity, passwords=FAST
        )
        if not first_login:
            user = Base.metadata.tables["app_user"]
            with self.protection.store.begin() as conn:
                conn.execute(update(user).where(user.c.name == name).values(must_change_password=False))
        self.enrolled[name] = enrolment
        return enrolment

    def code(self, name: str) -> str:
        secret = self.enrolled[name].totp_secret
        assert secret is not None
        return totp.totp(totp.decode_secret(secret), datetime.now(UTC).timestamp())

    def sign_in(self, client: TestClient, name: str) -> str:
        """Sign `name` in on `client` (session cookie set); returns the page's CSRF token."""
        response = client.post(
            "/login",
            data={"name": name, "password": self.enrolled[name].password, "code": self.code(name)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        home = client.get("/home")
        assert home.status_code == 200
        import re

        found = re.search(r'name="csrf" value="([0-9a-f]+)"', home.text)
        assert found
        return found.group(1)

    def token(self, name: str, *scopes: str) -> dict[str, str]:
        issued = accounts.create_token(self.system, name, list(scopes) or ["record.*"])
        return {"authorization": f"Bearer {issued.token}"}


@pytest.fixture
def people(protection: Protection, client: TestClient) -> People:
    """A small register in two compartments (case-a, case-b) beside the intake compartment."""
    del client  # the app is started first: it makes the intake compartment
    crowd = People(protection)
    system = crowd.system
    register.import_file(
        system, write_jsonl(protection.keyring.data_dir / "r.jsonl", RECORDS + OTHER_CASE + EXTRA)
    )
    for name, ids in (("case-a", CASE_A), ("case-b", CASE_B)):
        accounts.create_compartment(system, name)
        for kind, chosen in ids.items():
            accounts.assign_records(system, name, kind, chosen)
    index.rebuild(protection.store)
    return crowd


# -- a real server and headless Chromium (Debian's package, driven by Playwright) -----------------

CHROMIUM = os.environ.get("SVIDOK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8


def _need_chromium() -> None:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).is_file():
        return
    message = f"Chromium not found at {CHROMIUM}: apt-get install -y chromium"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def server(client) -> Iterator[str]:  # type: ignore[no-untyped-def]
    app: FastAPI = client.app
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 15
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[object]:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def linked(people: People) -> People:
    """`people`'s register after a full linking run (name keys, persons, links), as `svidok link` leaves it."""
    from svidok.services.linking import link_register

    link_register(people.system, full=True)
    return people
