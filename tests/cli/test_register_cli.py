"""The register commands, driven as a user would, through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from svidok.cli.app import app
from tests.factories import RECORDS, write_jsonl

runner = CliRunner()


def _run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args], env={"SVIDOK_PASSPHRASE": "test passphrase"})
    return result.exit_code, result.output


def test_init_import_stats_show_export(tmp_path: Path) -> None:
    data = tmp_path / "reg"
    assert _run(data, "init")[0] == 0
    code, out = _run(data, "import", str(write_jsonl(tmp_path / "in.jsonl", RECORDS)))
    assert code == 0, out
    assert f"inserted {len(RECORDS)}" in out

    code, out = _run(data, "stats", "--json")
    assert code == 0
    counts = json.loads(out)["counts"]
    assert counts["incident"] == 1 and counts["place"] == 3 and counts["link"] == 1

    code, out = _run(data, "show", "incident", "in_1")
    shown = json.loads(out)
    assert shown["record"]["title"] == "Detentions at Freedom Square"
    assert [a["id"] for a in shown["related"]["act"]] == ["ac_1"]

    code, out = _run(data, "export", "--out", str(tmp_path / "out.jsonl"))
    assert code == 0
    assert len((tmp_path / "out.jsonl").read_text("utf-8").splitlines()) == len(RECORDS)


def test_errors_are_one_clear_line_and_a_nonzero_exit(tmp_path: Path) -> None:
    data = tmp_path / "reg"
    code, out = _run(data, "stats")
    assert code != 0 and "svidok init" in out  # no register yet
    assert "Traceback" not in out


def test_the_register_is_encrypted_and_every_action_is_audited(tmp_path: Path) -> None:
    data = tmp_path / "reg"
    _run(data, "init")
    _run(data, "import", str(write_jsonl(tmp_path / "in.jsonl", RECORDS)))
    _run(data, "show", "person", "pe_victim1")
    for path in data.rglob("*"):
        if path.is_file():
            assert "Кавалёў".encode() not in path.read_bytes(), path
    code, out = _run(data, "audit", "verify")
    assert code == 0, out
    log = tmp_path / "log.jsonl"
    _run(data, "audit", "export", "--out", str(log))
    text = log.read_text("utf-8")
    assert '"action":"register.import"' in text and '"action":"record.view"' in text
    assert "Кавалёў" not in text
    result = runner.invoke(app, ["--data-dir", str(data), "stats"], env={"SVIDOK_PASSPHRASE": "wrong"})
    assert result.exit_code == 4 and "wrong passphrase" in result.output
    _run(data, "init")
    code, out = _run(data, "show", "incident", "in_nope")
    assert code == 2 and "no incident with id 'in_nope'" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"record": "place", "id": "pl_1", "kind": "moon", "name": "x"}\n', "utf-8")
    code, out = _run(data, "import", str(bad))
    assert code == 2
    assert "bad.jsonl:1: kind: unknown code 'moon'" in out
    assert "Traceback" not in out
