"""The protection services check the access policy through the caller's ServiceContext.

A principal whose role lacks the operation is refused before anything is read or
written, and the refusal is an `access.deny` audit entry; the roles the policy names
get through. (The CLI's operator and tools act as the system.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from svidok.access.errors import AccessDenied
from svidok.access.principal import Principal
from svidok.errors import NotFound
from svidok.services import accounts
from svidok.services import audit as audit_service
from svidok.services.context import Actor, ServiceContext
from svidok.services.evidence import EvidenceService
from svidok.services.keys import Protection, open_identity, register_officer_key, shred_subject
from svidok.store.register import table_of


def _as(p: Protection, role: str) -> ServiceContext:
    principal = Principal(f"u-{role}", role, compartments=frozenset({"case-1"}))
    return ServiceContext(p.store, Actor(principal.name, role), audit=p.audit, principal=principal)


def _denials(p: Protection) -> list[tuple[str, str]]:
    entry = table_of("audit_entry")
    with p.store.read() as conn:
        rows = conn.execute(
            select(entry.c.actor, entry.c.details).where(entry.c.action == "access.deny").order_by(entry.c.seq)
        ).all()
    return [(str(actor), str(details["operation"])) for actor, details in rows]


def test_evidence_operations_follow_the_policy(service: EvidenceService, tmp_path: Path) -> None:
    p = service.p
    path = tmp_path / "photo.bin"
    path.write_bytes(b"fictional evidence bytes" * 100)
    with pytest.raises(AccessDenied):
        service.add(path, _as(p, "analyst"))
    with p.store.read() as conn:
        assert conn.execute(select(table_of("evidence").c.id)).all() == []
    evidence_id = service.add(path, _as(p, "investigator"))
    with pytest.raises(AccessDenied):
        service.verify(_as(p, "analyst"))
    assert service.verify(_as(p, "auditor")) == (1, [])
    with pytest.raises(AccessDenied):
        service.export(evidence_id, tmp_path / "out", _as(p, "auditor"), "court")
    with pytest.raises(NotFound):  # the right role, but the item is in no compartment of theirs
        service.export(evidence_id, tmp_path / "out", _as(p, "investigator"), "court")
    system = ServiceContext(p.store, Actor("admin-cli"), audit=p.audit)
    accounts.create_compartment(system, "case-1")
    accounts.assign_records(system, "case-1", "evidence", [evidence_id])
    assert service.export(evidence_id, tmp_path / "out", _as(p, "investigator"), "court").is_file()
    assert _denials(p) == [
        ("u-analyst", "evidence.add"),
        ("u-analyst", "evidence.verify"),
        ("u-auditor", "evidence.export"),
        ("u-investigator", "evidence.export"),
    ]


def test_key_and_identity_operations_follow_the_policy(service: EvidenceService, tmp_path: Path) -> None:
    p = service.p
    with pytest.raises(AccessDenied):
        register_officer_key(p, _as(p, "admin"), "officer", tmp_path / "officer.key")
    assert not (tmp_path / "officer.key").exists()
    register_officer_key(p, _as(p, "protection_officer"), "officer", tmp_path / "officer.key")
    with pytest.raises(AccessDenied):
        open_identity(p, _as(p, "investigator"), "so_1", tmp_path / "officer.key", "curiosity")
    with pytest.raises(AccessDenied):
        shred_subject(p, _as(p, "analyst"), "pe_1", "erasure")
    assert shred_subject(p, _as(p, "admin"), "pe_1", "erasure request")


def test_audit_operations_follow_the_policy(service: EvidenceService, tmp_path: Path) -> None:
    p = service.p
    with pytest.raises(AccessDenied):
        audit_service.verify_register(p, _as(p, "analyst"))
    with pytest.raises(AccessDenied):
        audit_service.export_log(p, tmp_path / "log.jsonl", _as(p, "admin"))
    assert not (tmp_path / "log.jsonl").exists()
    assert audit_service.checkpoint(p, _as(p, "admin")).size >= 1
    assert audit_service.verify_register(p, _as(p, "auditor")).ok
    assert audit_service.export_log(p, tmp_path / "log.jsonl", _as(p, "auditor")) >= 1
    assert [op for _actor, op in _denials(p)] == ["audit.verify", "audit.view"]
