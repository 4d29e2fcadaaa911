"""Erasure by crypto-shredding, as an operator and the erased person would check it.

After `erase person`, the person's names, birth date and contacts are in no byte of the
export, not in search results, not on the person's web page; the raw tokens no longer open
with the keyring; the incident and act stay; other persons are untouched; the audit log
verifies; erasing again changes nothing; only the protection officer and the admin may.
Both backends: the embedded SQLCipher register (where personal values are sealed a second
time, inside the file) and PostgreSQL.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from svidok.access.errors import AccessDenied
from svidok.access.principal import Principal
from svidok.crypto.errors import KeyDestroyed
from svidok.crypto.fields import ERASED, open_field
from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.errors import NotFound
from svidok.reports import index
from svidok.services import audit as audit_service
from svidok.services.context import Actor, ServiceContext
from svidok.services.erasure import erase, reseal_subjects
from svidok.services.keys import Protection
from svidok.services.register import export_register, import_file
from svidok.services.search import search
from svidok.settings import Settings
from svidok.store.register import table_of
from tests.factories import RECORDS, write_jsonl

NAME = "Аляксандр Кавалёў"
TRANSLIT = "Aliaksandr Kavaliou"
CUSTODY_NAME = "КОВАЛЁВ А.С."
MENTION_NAME = "Кавалёў Алесь"
BIRTH = "1991-03"
PHONE = "+375 29 111 22 33"
SECRETS = (NAME, TRANSLIT, CUSTODY_NAME, MENTION_NAME, BIRTH, PHONE)
OTHER = "Дзмітрый Савіцкі"


def _records() -> list[dict[str, Any]]:
    records = copy.deepcopy(RECORDS)
    for record in records:
        if record["id"] == "pe_victim1":
            record["description"] = f"brother's phone {PHONE}"
        if record["id"] == "mc_1":  # the missing-person case, linked to the person it found
            record["person_id"] = "pe_victim1"
            record["missing_name"] = NAME
            record["birth_date"] = BIRTH
    records.append(
        {
            "record": "mention",
            "id": "me_v1",
            "source_id": "so_t1",
            "person_id": "pe_victim1",
            "role": "victim",
            "raw_name": MENTION_NAME,
            "sex": "male",
            "birth_year": 1991,
        }
    )
    return records


def _truncate(url: str) -> None:
    from svidok.store.db import make_engine
    from svidok.store.models import Base
    from svidok.store.register import Store

    store = Store(make_engine(url))
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with store.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Protection]:
    """An encrypted register holding the factory records, on each backend."""
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        settings = Settings(data_dir=data_dir)
    else:
        url = request.getfixturevalue("pg_schema_url")
        _truncate(url)
        settings = Settings(data_dir=data_dir, database_url=url)
    p = Protection.open(settings, MasterSecret(passphrase="erasure tests"), create=True, params=TEST_ARGON2)
    import_file(_system(p), write_jsonl(tmp_path / "records.jsonl", _records()))
    with p.store.begin() as conn:  # the linker's blocking keys of the person and its mention
        conn.execute(
            insert(table_of("name_key")),
            [
                {"key": "kavaliou|aliaksandr", "record_id": "pe_victim1"},
                {"key": "kavaliou|ales", "record_id": "me_v1"},
                {"key": "savicki|dzmitry", "record_id": "pe_officer1"},
            ],
        )
    index.rebuild(p.store)
    yield p
    p.close()


def _system(p: Protection) -> ServiceContext:
    return ServiceContext(p.store, Actor("admin-cli"), audit=p.audit)


def _as(p: Protection, role: str) -> ServiceContext:
    principal = Principal(f"u-{role}", role, compartments=frozenset())
    return ServiceContext(p.store, Actor(principal.name, role), audit=p.audit, principal=principal)


def _export(p: Protection, tmp_path: Path) -> str:
    out = tmp_path / "export.jsonl"
    export_register(_system(p), out)
    return out.read_text("utf-8")


def _entries(p: Protection, action: str) -> list[dict[str, Any]]:
    entry = table_of("audit_entry")
    with p.store.read() as conn:
        rows = conn.execute(select(entry.c.actor, entry.c.details).where(entry.c.action == action)).all()
    return [{"actor": r[0], **(r[1] or {})} for r in rows]


def _raw_token(p: Protection, table: str, column: str, record_id: str) -> str:
    with p.store.read() as conn:  # textual SQL: the stored token, not the opened value
        value = conn.execute(
            text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": record_id}
        ).scalar_one()
    return str(value)


def test_an_erased_person_is_nowhere_and_the_rest_is_intact(register: Protection, tmp_path: Path) -> None:
    p = register
    before = _export(p, tmp_path)
    assert all(secret in before for secret in SECRETS)
    token = _raw_token(p, "person", "primary_name", "pe_victim1")
    assert token.startswith("v1:subject:pe_victim1:") and NAME not in token

    report = erase(p, _as(p, "protection_officer"), "person", "pe_victim1", "erasure request 2026-11-22")

    assert report.records == {
        "person": ["pe_victim1"],
        "person_name": ["pn_1"],
        "mention": ["me_v1"],
        "custody_record": ["cu_1"],
        "missing_case": ["mc_1"],
    }
    assert report.keys_destroyed == 5 and report.name_keys_removed == 2
    after = _export(p, tmp_path)
    leaked = [secret for secret in SECRETS if secret in after]
    assert leaked == []
    rows = {(r["record"], r["id"]): r for r in map(json.loads, after.splitlines())}
    victim = rows[("person", "pe_victim1")]
    assert (victim["primary_name"], victim["birth_date"], victim["description"]) == (ERASED, ERASED, ERASED)
    assert victim["pseudonym"] == "V-0001" and victim["sex"] == "male"
    assert rows[("mention", "me_v1")]["raw_name"] == ERASED and rows[("mention", "me_v1")]["birth_year"] is None
    assert rows[("missing_case", "mc_1")]["reporter_contact"] == ERASED
    assert rows[("custody_record", "cu_1")]["held_from"].startswith("2020-08-10T23:10")
    # The non-personal facts stay: the incident, the act against the victim, the testimony.
    assert rows[("act", "ac_1")]["victim_id"] == "pe_victim1" and rows[("act", "ac_1")]["violation"] == "torture"
    assert rows[("incident", "in_1")]["title"] == "Detentions at Freedom Square"
    assert rows[("source", "so_t1")]["text"].startswith("Мяне затрымалі")
    # Other persons are untouched.
    assert rows[("person", "pe_officer1")]["primary_name"] == OTHER
    assert rows[("mention", "me_1")]["raw_name"] == "Савицкий Д."

    # The raw token no longer opens with the keyring: its key is destroyed, not just hidden.
    with pytest.raises(KeyDestroyed, match="subject:pe_victim1"):
        open_field(p.keyring.data_key, "person", "primary_name", "*", token)
    with pytest.raises(KeyDestroyed):
        p.keyring.subject_key("pe_victim1")  # and never silently made again

    name_key = table_of("name_key")
    with p.store.read() as conn:
        left = {r[0] for r in conn.execute(select(name_key.c.record_id))}
    assert left == {"pe_officer1"}

    for query in ("Кавалёў", "Kavaliou", "Аляксандр"):
        hits = search(_system(p), query).hits
        assert "pe_victim1" not in {h.id for h in hits}, query
    assert "pe_officer1" in {h.id for h in search(_system(p), "Савіцкі").hits}

    assert audit_service.verify_register(p, _system(p)).ok
    (entry,) = _entries(p, "record.erase")
    assert entry["actor"] == "u-protection_officer" and "erasure request" not in json.dumps(entry)
    assert entry["reason_hmac"] == p.audit.digest("erasure request 2026-11-22")  # checkable, not readable
    assert "person:pe_victim1" in entry["records"] and entry["keys_destroyed"] == 5
    assert not any(secret in json.dumps(entry, ensure_ascii=False) for secret in SECRETS)


def test_erasing_twice_is_a_clear_no_op(register: Protection, tmp_path: Path) -> None:
    p = register
    assert not erase(p, _as(p, "admin"), "person", "pe_victim1", "erasure request").already_erased
    export = _export(p, tmp_path)
    again = erase(p, _as(p, "admin"), "person", "pe_victim1", "erasure request")
    assert again.already_erased and again.keys_destroyed == 0 and not again.audited
    assert _export(p, tmp_path) == export
    assert len(_entries(p, "record.erase")) == 1
    assert audit_service.verify_register(p, _system(p)).ok


def test_only_the_protection_officer_and_the_admin_may_erase(register: Protection) -> None:
    p = register
    for role in ("analyst", "investigator", "intake_operator", "auditor"):
        with pytest.raises(AccessDenied):
            erase(p, _as(p, role), "person", "pe_victim1", "curiosity")
    with p.store.read() as conn:
        person = table_of("person")
        assert conn.execute(select(person.c.primary_name).where(person.c.id == "pe_victim1")).scalar() == NAME
    denied = [e for e in _entries(p, "access.deny") if e["operation"] == "record.erase"]
    assert [e["actor"] for e in denied] == ["u-analyst", "u-investigator", "u-intake_operator", "u-auditor"]
    assert _entries(p, "record.erase") == []
    with pytest.raises(NotFound):
        erase(p, _as(p, "admin"), "person", "pe_nobody", "erasure request")


def test_erasing_a_testimony_reaches_its_text_and_mentions_only(register: Protection, tmp_path: Path) -> None:
    p = register
    report = erase(p, _as(p, "protection_officer"), "source", "so_t1", "withdrawn by its author")
    assert report.records == {"source": ["so_t1"], "mention": ["me_1", "me_v1"]}
    rows = {(r["record"], r["id"]): r for r in map(json.loads, _export(p, tmp_path).splitlines())}
    assert rows[("source", "so_t1")]["text"] == ERASED and rows[("source", "so_t1")]["reliability"] == "B"
    assert rows[("mention", "me_1")]["raw_name"] == ERASED
    assert rows[("person", "pe_victim1")]["primary_name"] == NAME  # the person is another request
    assert rows[("citation", "ci_1")]["source_id"] == "so_t1"


def test_values_sealed_before_subject_keys_are_resealed_then_erased(register: Protection, tmp_path: Path) -> None:
    """A register written before this change: personal values under the column key (PostgreSQL)
    or plaintext inside SQLCipher. `reseal-subjects` moves them under their record's key;
    erasure does so itself for the records it reaches."""
    p = register
    person = table_of("person")
    with p.store.begin() as conn:  # an old write: a plain value, no subject key
        conn.execute(text("DELETE FROM name_key"))
        if p.store.dialect == "sqlite":
            conn.execute(text("UPDATE person SET primary_name = :n WHERE id = 'pe_officer1'"), {"n": OTHER})
        else:
            old = p.store.engine.dialect.svidok_fields.seal("person", "primary_name", OTHER)  # type: ignore[attr-defined]
            conn.execute(text("UPDATE person SET primary_name = :n WHERE id = 'pe_officer1'"), {"n": old})
    assert not _raw_token(p, "person", "primary_name", "pe_officer1").startswith("v1:subject:")
    with p.store.read() as conn:
        assert conn.execute(select(person.c.primary_name).where(person.c.id == "pe_officer1")).scalar() == OTHER
    assert reseal_subjects(p, _system(p)) == 1
    assert reseal_subjects(p, _system(p)) == 0  # idempotent
    assert _raw_token(p, "person", "primary_name", "pe_officer1").startswith("v1:subject:pe_officer1:")
    erase(p, _as(p, "admin"), "person", "pe_officer1", "erasure request")
    assert OTHER not in _export(p, tmp_path)
    assert reseal_subjects(p, _system(p)) == 0  # erased records are skipped, not an error
    assert audit_service.verify_register(p, _system(p)).ok


# -- backups from before the erasure --------------------------------------------------------------


def test_a_backup_from_before_the_erasure_does_not_bring_the_person_back(tmp_path: Path) -> None:
    """Backups carry keys only in their key bundles (live keys, tombstones of destroyed ones).
    A snapshot from before the erasure restored with a later bundle, or with any bundle once
    the older ones are pruned (`prune --keep-keys`), shows the person erased; restored with its
    own older bundle it still holds the key: that is what the key retention is for."""
    from svidok.backup.repo import load_identities, new_identity_file
    from svidok.backup.targets import DirTarget
    from svidok.evidence.blobs import FileBlobStore
    from svidok.services import backup

    settings = Settings(data_dir=tmp_path / "data")
    secret = MasterSecret(passphrase="erasure tests")
    p = Protection.open(settings, secret, create=True, params=TEST_ARGON2)
    import_file(_system(p), write_jsonl(tmp_path / "records.jsonl", _records()))
    blobs = FileBlobStore(settings.data_dir / "blobs")
    target = DirTarget(tmp_path / "repo")
    custodian = tmp_path / "custodian.key"
    recipient = new_identity_file(custodian)
    before = backup.create(p, settings, [target], "op", blobs, recipients=[recipient])
    erase(p, _as(p, "protection_officer"), "person", "pe_victim1", "erasure request")
    after = backup.create(p, settings, [target], "op", blobs)
    p.close()

    def restored(name: str, **options: Any) -> str:
        new_secret = MasterSecret(passphrase="restored passphrase")
        backup.restore(
            target, load_identities(custodian), tmp_path / name, new_secret, params=TEST_ARGON2, **options
        )
        opened = Protection.open(Settings(data_dir=tmp_path / name), new_secret)
        try:
            return _export(opened, tmp_path / name)
        finally:
            opened.close()

    old_data_new_keys = restored("a", snapshot=before.snapshot, keys_from=after.snapshot)
    assert [s for s in SECRETS if s in old_data_new_keys] == []
    assert OTHER in old_data_new_keys
    assert NAME in restored("b", snapshot=before.snapshot)  # its own, older key bundle
    backup.prune(target, keep_last=2, keep_keys=1)
    pruned_keys = restored("c", snapshot=before.snapshot)
    assert [s for s in SECRETS if s in pruned_keys] == []


# -- the web page ---------------------------------------------------------------------------------


def test_the_person_page_shows_erased_and_never_fails(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from svidok.services import accounts
    from svidok.web import create_app
    from svidok.web.config import WebSettings
    from tests.web.conftest import BASE_URL, FAST, People

    settings = Settings(data_dir=tmp_path / "data")
    p = Protection.open(settings, MasterSecret(passphrase="erasure tests"), create=True, params=TEST_ARGON2)
    app = create_app(settings, protection=p, web=WebSettings(), passwords=FAST)
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        people = People(p)
        import_file(people.system, write_jsonl(tmp_path / "records.jsonl", _records()))
        accounts.create_compartment(people.system, "case-a")
        for kind, ids in {"person": ["pe_victim1", "pe_officer1"], "incident": ["in_1"]}.items():
            accounts.assign_records(people.system, "case-a", kind, ids)
        index.rebuild(p.store)
        people.add("oksana", "intake_operator", compartments=("case-a",))  # reads identities
        people.sign_in(client, "oksana")
        page = client.get("/persons/pe_victim1")
        assert page.status_code == 200 and NAME in page.text
        erase(p, _as(p, "protection_officer"), "person", "pe_victim1", "erasure request")
        api = people.token("oksana")
        for path in ("/persons/pe_victim1", "/api/v1/persons/pe_victim1", "/incidents/in_1", "/custody"):
            response = client.get(path, headers=api if path.startswith("/api/") else None)
            assert response.status_code == 200, (path, response.text[:300])
            assert [s for s in SECRETS if s in response.text] == [], path
        assert ERASED in client.get("/persons/pe_victim1").text
        assert OTHER in client.get("/persons/pe_officer1").text
    p.close()


def test_svidok_erase_person_on_the_command_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from svidok.cli.app import app

    settings = Settings(data_dir=tmp_path / "data")
    p = Protection.open(settings, MasterSecret(passphrase="erasure tests"), create=True, params=TEST_ARGON2)
    import_file(_system(p), write_jsonl(tmp_path / "records.jsonl", _records()))
    p.close()
    env = {"SVIDOK_PASSPHRASE": "erasure tests", "SVIDOK_ACTOR": "cli:officer"}
    command = ["--data-dir", str(settings.data_dir), "erase", "person", "pe_victim1", "--reason", "request 17"]
    runner = CliRunner()
    first = runner.invoke(app, command, env=env)
    assert first.exit_code == 0, first.output
    assert "pe_victim1 erased: 5 keys destroyed" in first.output and NAME not in first.output
    second = runner.invoke(app, command, env=env)
    assert second.exit_code == 0 and "already erased: nothing changed" in second.output
    missing = runner.invoke(app, [*command[:4], "pe_nobody", "--reason", "x"], env=env)
    assert missing.exit_code != 0 and "pe_nobody" in missing.output
    out = tmp_path / "export.jsonl"
    assert runner.invoke(app, ["--data-dir", str(settings.data_dir), "export", "--out", str(out)], env=env).exit_code == 0
    assert [s for s in SECRETS if s in out.read_text("utf-8")] == []
    verified = runner.invoke(app, ["--data-dir", str(settings.data_dir), "audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output


def test_an_older_value_under_an_already_destroyed_key_is_overwritten(register: Protection, tmp_path: Path) -> None:
    """`keys shred` of a record whose values predate subject keys left them readable; erasing
    the record overwrites them with [erased], once."""
    from svidok.services.keys import shred_subject

    p = register
    with p.store.begin() as conn:
        conn.execute(text("DELETE FROM name_key"))
        if p.store.dialect == "sqlite":
            conn.execute(text("UPDATE person SET primary_name = :n WHERE id = 'pe_officer1'"), {"n": OTHER})
        else:
            old = p.store.engine.dialect.svidok_fields.seal("person", "primary_name", OTHER)  # type: ignore[attr-defined]
            conn.execute(text("UPDATE person SET primary_name = :n WHERE id = 'pe_officer1'"), {"n": old})
    shred_subject(p, "admin", "pe_officer1", "old-style shredding")
    assert OTHER in _export(p, tmp_path)  # the key is gone but the old value never used it
    report = erase(p, _as(p, "admin"), "person", "pe_officer1", "erasure request")
    assert report.resealed == 1 and not report.already_erased
    assert OTHER not in _export(p, tmp_path)
    assert reseal_subjects(p, _system(p)) == 0
    assert erase(p, _as(p, "admin"), "person", "pe_officer1", "erasure request").already_erased
