"""`svidok evidence|audit|keys` end to end through the installed entry point."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

SVIDOK = str(Path(sys.executable).with_name("svidok"))


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SVIDOK, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SVIDOK_DATA_DIR=str(tmp_path / "data"), SVIDOK_PASSPHRASE="cli test passphrase", SVIDOK_ACTOR="tester"
    )
    env.pop("SVIDOK_KEY_FILE", None)
    assert run(env, "keys", "init").returncode == 0
    return env


def test_evidence_add_verify_detects_damage_and_audit_verifies(env, tmp_path) -> None:
    file = tmp_path / "video.mp4"
    file.write_bytes(random.Random(5).randbytes(100_000))
    added = run(env, "evidence", "add", str(file), "--captured-at", "2026-08-10T21:00:00+03:00")
    assert added.returncode == 0, added.stderr
    evidence_id, _, digest = added.stdout.split()
    assert run(env, "evidence", "verify").returncode == 0
    bundle = run(env, "evidence", "export", evidence_id, "--out", str(tmp_path / "out"))
    assert bundle.returncode == 0, bundle.stderr
    assert run(env, "audit", "verify").returncode == 0
    log = tmp_path / "log.jsonl"
    assert run(env, "audit", "export", "--out", str(log)).returncode == 0
    assert run(env, "audit", "verify", "--file", str(log)).returncode == 0
    blob = next((tmp_path / "data" / "blobs").glob(f"??/??/{digest}"))
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes()[:-10])
    result = run(env, "evidence", "verify")
    assert result.returncode == 5 and evidence_id in result.stderr
    lines = log.read_text().splitlines()
    lines[2] = lines[2].replace('"actor":"tester"', '"actor":"nobody"')
    log.write_text("\n".join(lines) + "\n")
    result = run(env, "audit", "verify", "--file", str(log))
    assert result.returncode == 5 and "first bad entry: 2" in result.stderr


def test_wrong_passphrase_exit_code_and_message(env) -> None:
    env = {**env, "SVIDOK_PASSPHRASE": "definitely wrong"}
    result = run(env, "audit", "verify")
    assert result.returncode == 4
    assert "wrong passphrase" in result.stderr and "definitely wrong" not in result.stderr


def test_rotate_then_old_passphrase_fails_new_one_works(env) -> None:
    rotated = run({**env, "SVIDOK_NEW_PASSPHRASE": "the new passphrase"}, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert run(env, "audit", "verify").returncode == 4
    assert run({**env, "SVIDOK_PASSPHRASE": "the new passphrase"}, "audit", "verify").returncode == 0
