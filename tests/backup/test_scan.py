"""Nothing readable in any backup: every byte of the target is scanned for demo names,
testimony phrases, evidence digests and the register's keys."""

from __future__ import annotations

import base64
from pathlib import Path

from sqlalchemy import select

from svidok.backup.targets import DirTarget
from svidok.services import backup as service
from svidok.store.models import Base

from .conftest import Custodian, Register


def needles(reg: Register) -> set[bytes]:
    p = reg.protection
    out: set[bytes] = set()
    tables = Base.metadata.tables
    with p.store.read() as conn:
        for (name,) in conn.execute(select(tables["person_name"].c.name)):
            if name and len(name) >= 6:
                out.add(str(name).encode())
        for (text,) in conn.execute(select(tables["source"].c.text)):
            if text and len(text) >= 40:
                words = str(text).split()
                out.add(" ".join(words[:5]).encode())  # a testimony phrase
                out.add(" ".join(words[-5:]).encode())
        for (sha,) in conn.execute(select(tables["evidence"].c.sha256)):
            out.add(str(sha).encode())  # which evidence is held is itself sensitive
    for key_id in ("register-db", "blob", "field", "audit-signing"):
        key = p.keyring.data_key(key_id)
        out |= {key, key.hex().encode(), base64.b64encode(key)}
    return out


def test_no_plaintext_anywhere_in_the_target(
    register: Register, custodians: list[Custodian], tmp_path: Path
) -> None:
    target = DirTarget(tmp_path / "usb")
    for _ in range(2):
        report = service.create(
            register.protection,
            register.settings,
            [target],
            "op",
            register.blobs,
            recipients=[custodians[0].recipient, custodians[1].recipient],
        )
        assert report.ok
    found = needles(register)
    names = [n for n in found if not n.isascii() or b" " in n]
    assert len(names) > 50, "the scan must have names and phrases to look for"
    # Positive control: the same needles are found in a plaintext export of the register.
    from svidok.services.transfer import export_jsonl

    export_jsonl(register.protection.store, tmp_path / "plain.jsonl")
    plain = (tmp_path / "plain.jsonl").read_bytes()
    assert sum(n in plain for n in names) > len(names) // 2
    files = [f for f in target.root.rglob("*") if f.is_file()]
    assert len(files) > 5
    for path in files:
        data = path.read_bytes()
        hits = [n[:12] for n in found if n in data]
        assert not hits, f"{path.relative_to(target.root)} contains plaintext: {hits[:3]}"
