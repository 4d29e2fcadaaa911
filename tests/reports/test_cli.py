"""`svidok search`, `svidok report ...` and `svidok package ...` end to end through the entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.factories import RECORDS, write_jsonl

SVIDOK = str(Path(sys.executable).with_name("svidok"))


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SVIDOK, *args], env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli")
    env = dict(os.environ)
    env.update(
        SVIDOK_DATA_DIR=str(root / "data"), SVIDOK_PASSPHRASE="cli reports passphrase", SVIDOK_ACTOR="tester"
    )
    env.pop("SVIDOK_KEY_FILE", None)
    env.pop("SVIDOK_DATABASE_URL", None)
    assert run(env, "keys", "init").returncode == 0
    cite = {
        "record": "citation",
        "id": "ci_cli",
        "source_id": "so_t1",
        "subject_kind": "incident",
        "subject_id": "in_1",
        "field": "",
        "confidence": 0.7,
    }
    imported = run(env, "import", str(write_jsonl(root / "r.jsonl", [*RECORDS, cite])))
    assert imported.returncode == 0, imported.stderr
    video = root / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    added = run(env, "evidence", "add", str(video), "--source", "so_t1")
    assert added.returncode == 0, added.stderr
    assert run(env, "report", "reindex").returncode == 0
    env["ROOT"] = str(root)
    return env


def test_search_command_finds_across_scripts(env: dict[str, str]) -> None:
    done = run(env, "search", "Kavaliou", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "pe_victim1" in [h["id"] for h in result["hits"]]
    text = run(env, "search", "аўтазак")
    assert text.returncode == 0 and "so_t1" in text.stdout


def test_report_stats_public_and_export(env: dict[str, str]) -> None:
    public = run(env, "report", "stats", "--public", "--json")
    assert public.returncode == 0, public.stderr
    data = json.loads(public.stdout)
    assert data["totals"]["victims"] is None  # one victim: withheld
    full = run(env, "report", "stats", "--json", "--csv", str(Path(env["ROOT"]) / "charts"))
    assert full.returncode == 0 and json.loads(full.stdout)["totals"]["acts"] == 1
    out = Path(env["ROOT"]) / "export.ftm.json"
    assert run(env, "report", "export", "--format", "ftm", "--out", str(out)).returncode == 0
    assert out.read_text().count("\n") > 5


def test_package_incident_verify_and_tamper(env: dict[str, str]) -> None:
    out = Path(env["ROOT"]) / "in_1.zip"
    made = run(env, "package", "incident", "in_1", "--out", str(out))
    assert made.returncode == 0, made.stderr
    key = made.stdout.split("--key '")[1].split("'")[0]
    ok = run(env, "package", "verify", str(out), "--key", key)
    assert ok.returncode == 0, ok.stderr
    bad = Path(env["ROOT"]) / "bad.zip"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(bad, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            zout.writestr(name, data.replace(b"torture", b"t0rture") if name == "record.json" else data)
    failed = run(env, "package", "verify", str(bad), "--key", key)
    assert failed.returncode == 5 and "record.json" in failed.stderr
    assert run(env, "audit", "verify").returncode == 0
