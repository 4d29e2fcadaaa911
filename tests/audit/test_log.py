"""The audit log as a user of `svidok audit verify` sees it: every kind of tampering is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from svidok.audit import AuditKey, AuditLog, verify_file
from svidok.audit.entry import decode
from svidok.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from svidok.audit.note import Checkpoint, open_checkpoint, sign_checkpoint
from svidok.crypto.errors import TamperDetected
from svidok.errors import InputError

CANARY = "Ales Kanarejka +375291234567"


def fill(engine: Engine, log: AuditLog, n: int, checkpoint_every: int = 0) -> None:
    with engine.begin() as conn:
        for i in range(1, n + 1):
            log.append(
                conn,
                "op1",
                "record.update",
                "person",
                f"pe_{i:04d}",
                {"fields": ["primary_name"], "sha256": f"{i:064x}"},
            )
            if checkpoint_every and i % checkpoint_every == 0:
                log.checkpoint(conn)


def verify(engine: Engine, log: AuditLog, deep: bool = False):
    with engine.connect() as conn:
        return log.verify(conn, deep=deep)


def test_fresh_log_verifies_and_checkpoint_is_a_c2sp_note(engine, log, audit_key) -> None:
    fill(engine, log, 25)
    with engine.begin() as conn:
        cp = log.checkpoint(conn)
        note = log.notes(conn)[-1]
    assert cp.size == 25
    assert note.startswith("svidok.test/log\n25\n")
    assert "\n\n\u2014 svidok.test/log " in note
    assert open_checkpoint(note, audit_key.name, audit_key.public) == cp
    report = verify(engine, log, deep=True)
    assert report.ok and report.entries == 25 and report.root == cp.root


def test_append_numbers_entries_and_refuses_protected_values(engine, log) -> None:
    with engine.begin() as conn:
        assert log.append(conn, "op", "a", "person", "pe_1", {}) == 1
        assert log.append(conn, "op", "b", None, None) == 2
        with pytest.raises(InputError, match="primary_name"):
            log.append(conn, "op", "record.update", "person", "pe_1", {"primary_name": CANARY})
        with pytest.raises(InputError):
            log.append(conn, "op", "x", None, None, {"lat": 53.9})


def test_rolled_back_write_leaves_no_entry(engine, log) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        log.append(conn, "op", "record.create", "person", "pe_1")
        raise RuntimeError("the write failed")
    assert verify(engine, log).entries == 0


def _exec(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def _entry(engine: Engine, seq: int) -> bytes:
    with engine.connect() as conn:
        return bytes(
            conn.execute(text("SELECT entry FROM audit_entry WHERE seq=:s"), {"s": seq}).scalar_one()
        )


def test_edit_of_entry_bytes_is_named(engine, log) -> None:
    fill(engine, log, 100, checkpoint_every=50)
    data = _entry(engine, 73).replace(b"op1", b"op2")
    _exec(engine, "UPDATE audit_entry SET entry=:e WHERE seq=73", e=data)
    report = verify(engine, log)
    assert not report.ok and report.first_bad == 73


def test_edit_of_a_column_is_named_by_deep_verify(engine, log) -> None:
    fill(engine, log, 30)
    _exec(engine, "UPDATE audit_entry SET actor='someone-else' WHERE seq=12")
    report = verify(engine, log, deep=True)
    assert not report.ok and report.first_bad == 12


def test_edit_with_rewritten_chain_is_caught_by_the_signed_checkpoint(engine, log) -> None:
    fill(engine, log, 60, checkpoint_every=20)
    # A careful attacker edits entry 47 and recomputes the chain from there on.
    from hashlib import sha256

    with engine.begin() as conn:
        rows = conn.execute(text("SELECT seq, entry, chain FROM audit_entry ORDER BY seq")).all()
        prev = bytes(rows[45][2])
        for seq, data, _chain in rows[46:]:
            data = bytes(data)
            if seq == 47:
                data = data.replace(b"op1", b"op9")
            prev = sha256(prev + leaf_hash(data)).digest()
            conn.execute(
                text("UPDATE audit_entry SET entry=:e, chain=:c WHERE seq=:s"),
                {"e": data, "c": prev, "s": seq},
            )
    report = verify(engine, log)
    assert not report.ok and report.first_bad == 41  # after the last good checkpoint (40)
    assert "41..60" in (report.problem or "")


def test_deleted_entry_is_named(engine, log) -> None:
    fill(engine, log, 40)
    _exec(engine, "DELETE FROM audit_entry WHERE seq=17")
    report = verify(engine, log)
    assert not report.ok and report.first_bad == 17


def test_inserted_entry_is_named(engine, log) -> None:
    fill(engine, log, 40)
    # Shift 20..40 up by one and slip a forged entry in as 20.
    _exec(engine, "UPDATE audit_entry SET seq = seq + 1000 WHERE seq >= 20")
    _exec(engine, "UPDATE audit_entry SET seq = seq - 999 WHERE seq >= 1000")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM audit_entry WHERE seq=19")).mappings().one()
    forged = dict(row)
    forged["seq"] = 20
    forged["entry"] = bytes(row["entry"]).replace(b'"seq":19,', b'"seq":20,')
    cols = ", ".join(forged)
    _exec(engine, f"INSERT INTO audit_entry ({cols}) VALUES ({', '.join(':' + c for c in forged)})", **forged)
    report = verify(engine, log)
    assert not report.ok and report.first_bad == 20


def test_reordered_entries_are_named(engine, log) -> None:
    fill(engine, log, 40)
    _exec(engine, "UPDATE audit_entry SET seq = -1 WHERE seq = 25")
    _exec(engine, "UPDATE audit_entry SET seq = 25 WHERE seq = 26")
    _exec(engine, "UPDATE audit_entry SET seq = 26 WHERE seq = -1")
    report = verify(engine, log)
    assert not report.ok and report.first_bad == 25


def test_truncated_log_is_named(engine, log) -> None:
    fill(engine, log, 40)
    with engine.begin() as conn:
        log.checkpoint(conn)
    _exec(engine, "DELETE FROM audit_entry WHERE seq > 33")
    report = verify(engine, log)
    assert not report.ok and report.first_bad == 34
    assert "truncated" in (report.problem or "")


def test_forged_checkpoint_is_named(engine, log, audit_key) -> None:
    fill(engine, log, 10)
    with engine.begin() as conn:
        log.checkpoint(conn)
    other = Ed25519PrivateKey.generate()
    with engine.connect() as conn:
        root = log.root(conn)
    forged = sign_checkpoint(Checkpoint(audit_key.name, 10, root), audit_key.name, other)
    _exec(engine, "UPDATE audit_checkpoint SET note=:n", n=forged)
    report = verify(engine, log)
    assert not report.ok and "checkpoint 1 is forged" in (report.problem or "")


def test_checkpoint_refuses_to_sign_a_tampered_log(engine, log) -> None:
    fill(engine, log, 10)
    _exec(engine, "DELETE FROM audit_entry WHERE seq=4")
    with pytest.raises(TamperDetected) as info, engine.begin() as conn:
        log.checkpoint(conn)
    assert info.value.first_bad == 4


def test_proofs_from_the_log_verify(engine, log) -> None:
    fill(engine, log, 37)
    with engine.begin() as conn:
        cp1 = log.checkpoint(conn)
    fill(engine, log, 20)
    with engine.begin() as conn:
        cp2 = log.checkpoint(conn)
        proofs = log.proofs(conn, [5, 57])
        consistency = log.consistency(conn, cp1.size, cp2.size)
        leaf5 = leaf_hash(_entry(engine, 5))
    path = [bytes.fromhex(h) for h in proofs["inclusion"]["5"]]
    assert verify_inclusion(leaf5, 4, cp2.size, path, cp2.root)
    assert verify_consistency(cp1.size, cp2.size, cp1.root, cp2.root, consistency)


# -- the exported file, verified offline ---------------------------------------------------


def exported(engine: Engine, log: AuditLog, tmp_path: Path, n: int = 50) -> Path:
    fill(engine, log, n, checkpoint_every=10)
    path = tmp_path / "log.jsonl"
    with engine.connect() as conn:
        assert log.export(conn, path) == n
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n")


def test_export_verifies_offline_and_holds_no_canary(engine, log, tmp_path, audit_key) -> None:
    path = exported(engine, log, tmp_path)
    report = verify_file(path, trusted_key=audit_key.verifier_key)
    assert report.ok, report.summary()
    assert report.entries == 50
    assert CANARY.encode() not in path.read_bytes()
    first = json.loads(_lines(path)[1])
    assert decode(json.dumps(first["entry"], sort_keys=True, separators=(",", ":")).encode()).seq == 1


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        ("edit", 23),
        ("delete", 23),
        ("insert", 23),
        ("reorder", 23),
        ("truncate", 48),
    ],
)
def test_file_tampering_is_named(engine, log, tmp_path, audit_key, tamper, first_bad) -> None:
    path = exported(engine, log, tmp_path)
    lines = _lines(path)
    header, entries, notes = lines[0], lines[1:51], lines[51:]
    k = 22  # 0-based index of entry 23
    if tamper == "edit":
        entries[k] = entries[k].replace("record.update", "record.delete")
    elif tamper == "delete":
        del entries[k]
    elif tamper == "insert":
        entries.insert(k, entries[k].replace("op1", "op7"))
    elif tamper == "reorder":
        entries[k], entries[k + 1] = entries[k + 1], entries[k]
    elif tamper == "truncate":
        entries = entries[:47]
    _write(path, [header, *entries, *notes])
    report = verify_file(path, trusted_key=audit_key.verifier_key)
    assert not report.ok
    assert report.first_bad == first_bad, report.summary()


def test_forged_checkpoint_in_file_is_named(engine, log, tmp_path, audit_key) -> None:
    path = exported(engine, log, tmp_path)
    lines = _lines(path)
    note = json.loads(lines[-1])["checkpoint"]
    forged = note.replace("\n50\n", "\n51\n")
    lines[-1] = json.dumps({"checkpoint": forged})
    _write(path, lines)
    report = verify_file(path, trusted_key=audit_key.verifier_key)
    assert not report.ok and "checkpoint 5 is forged" in (report.problem or "")


def test_file_signed_by_another_key_fails_against_the_pinned_key(engine, log, tmp_path) -> None:
    path = exported(engine, log, tmp_path)
    impostor = Ed25519PrivateKey.generate()
    pinned = AuditKey("svidok.test/log", impostor.public_key()).verifier_key
    report = verify_file(path, trusted_key=pinned)
    assert not report.ok and "forged" in (report.problem or "")


def test_checkpoint_of_the_empty_log_then_appends_verify(engine, log) -> None:
    with engine.begin() as conn:
        assert log.checkpoint(conn).size == 0
    fill(engine, log, 3)
    assert verify(engine, log).ok
