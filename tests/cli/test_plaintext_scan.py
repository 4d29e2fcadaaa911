"""A seized laptop reveals nothing: after `svidok demo` no name, testimony phrase or contact detail
that `svidok export` shows appears in any byte under the data directory."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from svidok.cli.app import app

ENV = {"SVIDOK_PASSPHRASE": "scan test passphrase"}
PROTECTED = {
    "source": ("text", "title"),
    "person": ("primary_name",),
    "person_name": ("name",),
    "mention": ("raw_name",),
    "custody_record": ("recorded_name",),
    "missing_case": ("missing_name", "reporter_contact"),
}


def test_no_protected_value_is_readable_anywhere_in_the_data_directory(tmp_path: Path) -> None:
    runner = CliRunner(env=ENV)
    data = tmp_path / "register"
    assert runner.invoke(app, ["--data-dir", str(data), "demo", "--scale", "300", "--no-serve"]).exit_code == 0
    out = tmp_path / "export.jsonl"
    result = runner.invoke(app, ["--data-dir", str(data), "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    canaries: set[str] = set()
    for line in out.read_text("utf-8").splitlines():
        record = json.loads(line)
        for field in PROTECTED.get(record["record"], ()):
            value = record.get(field)
            if isinstance(value, str) and len(value) >= 8:
                canaries.add(value[:40])
    assert len(canaries) > 500
    sample = random.Random(1).sample(sorted(canaries), 400)
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name == "register.db" for p in files)
    for path in files:
        blob = path.read_bytes()
        leaked = [c for c in sample if c.encode("utf-8") in blob]
        assert not leaked, f"{path.name} holds {len(leaked)} protected value(s) in the clear"
