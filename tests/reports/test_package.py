"""Evidence packages: verified after creation by the stand-alone verifier, rejected after tampering."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.demo.generator import DemoConfig, generate
from svidok.evidence.blobs import FileBlobStore
from svidok.reports.package import build_package
from svidok.reports.verify_package import verify
from svidok.services.context import Actor, ServiceContext
from svidok.services.evidence import EvidenceService
from svidok.services.keys import Protection
from svidok.settings import Settings
from svidok.store.register import table_of


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Protection, Path, str, Path]]:
    root = tmp_path_factory.mktemp("package")
    p = Protection.open(
        Settings(data_dir=root / "data"),
        MasterSecret(passphrase="package tests"),
        create=True,
        params=TEST_ARGON2,
    )
    generate(p.store, root / "data", DemoConfig(scale=200, seed=5))
    citation = table_of("citation")
    with p.store.read() as conn:
        incident_id, source_id = conn.execute(
            select(citation.c.subject_id, citation.c.source_id)
            .where(citation.c.subject_kind == "incident")
            .order_by(citation.c.id)
            .limit(1)
        ).one()
    blobs = FileBlobStore(p.keyring.data_dir / "blobs")
    service = EvidenceService(p, blobs, chunk_size=4096)
    video = root / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    service.add(video, "collector", source_id=source_id)
    out = root / "out" / "package.zip"
    ctx = ServiceContext(p.store, Actor("investigator-1", "system"), audit=p.audit)
    build_package(ctx, p, blobs, incident_id, out, purpose="test")
    yield p, out, incident_id, root
    p.close()


def _rewrite(src: Path, dst: Path, name: str, change) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            zout.writestr(item, change(data) if item == name else data)


def test_package_verifies_and_holds_what_a_court_needs(made) -> None:  # type: ignore[no-untyped-def]
    p, out, incident_id, _ = made
    assert verify(str(out), p.audit.key.verifier_key) == []
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
        record = json.loads(z.read("record.json"))
    assert {"record.json", "proofs.json", "dossier.html", "verify_package.py", "signature.json"} <= names
    assert manifest["incident_id"] == incident_id and len(manifest["evidence"]) == 1
    item = manifest["evidence"][0]
    assert item["file"] in names and item["custody"] in names
    held = next(e for e in record["evidence"] if e["file"])
    assert [e["event"] for e in held["custody"]] == ["intake", "export"]
    assert record["sources"] and all("reliability" in s for s in record["sources"])
    assert record["acts"] and record["incident"]["id"] == incident_id


def test_package_creation_is_an_audit_entry(made) -> None:  # type: ignore[no-untyped-def]
    p, _, incident_id, _ = made
    with p.store.read() as conn:
        entries = p.audit.entries_for(conn, "incident", incident_id)
    assert [e.action for e in entries] == ["evidence.package"]


@pytest.mark.parametrize(
    "target",
    ["files", "custody", "proofs.json", "record.json", "manifest.json", "dossier.html"],
)
def test_package_is_rejected_after_tampering(made, target: str) -> None:  # type: ignore[no-untyped-def]
    p, out, _, root = made
    with zipfile.ZipFile(out) as z:
        name = next(n for n in z.namelist() if n.startswith(target))
    if name == "proofs.json":

        def change(data: bytes) -> bytes:
            proofs = json.loads(data)
            seq = next(iter(proofs["inclusion"]))
            first = proofs["inclusion"][seq][0]
            proofs["inclusion"][seq][0] = ("0" if first[0] != "0" else "1") + first[1:]
            return json.dumps(proofs).encode()
    else:

        def change(data: bytes) -> bytes:
            return data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]

    bad = root / f"bad-{target.replace('/', '_')}.zip"
    _rewrite(out, bad, name, change)
    problems = verify(str(bad), p.audit.key.verifier_key)
    assert problems, name
    assert any(name in problem for problem in problems), problems


def test_package_rejects_another_key_and_extra_files(made) -> None:  # type: ignore[no-untyped-def]
    p, out, _, root = made
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from svidok.audit.note import verifier_key

    other = verifier_key(p.audit.key.name, Ed25519PrivateKey.generate().public_key())
    assert verify(str(out), other)
    extra = root / "extra.zip"
    _rewrite(out, extra, "", lambda d: d)
    with zipfile.ZipFile(extra, "a") as z:
        z.writestr("files/planted.bin", b"planted")
    assert any("planted" in problem for problem in verify(str(extra), p.audit.key.verifier_key))


def test_verifier_runs_alone_with_only_the_standard_library_and_cryptography(made, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p, out, _, _ = made
    with zipfile.ZipFile(out) as z:
        script = tmp_path / "verify_package.py"
        script.write_bytes(z.read("verify_package.py"))
    source = script.read_text()
    imports = {
        line.split()[1].split(".")[0] for line in source.splitlines() if line.startswith(("import ", "from "))
    }
    assert imports <= {"__future__", "base64", "hashlib", "json", "sys", "zipfile", "typing", "cryptography"}
    done = subprocess.run(
        [sys.executable, "-I", str(script), str(out), "--key", p.audit.key.verifier_key],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "package verifies" in done.stdout
