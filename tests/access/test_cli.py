"""`svidok user|token|compartment`, driven as an operator would."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from svidok.cli.accounts import parse_expiry
from svidok.cli.app import app
from svidok.errors import InputError
from tests.factories import RECORDS, write_jsonl

runner = CliRunner()


def _run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args], env={"SVIDOK_PASSPHRASE": "test passphrase"})
    return result.exit_code, result.output


def test_users_tokens_and_compartments_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "reg"
    assert _run(data, "init")[0] == 0
    assert _run(data, "import", str(write_jsonl(tmp_path / "in.jsonl", RECORDS)))[0] == 0

    code, out = _run(data, "compartment", "add", "case-a", "--description", "August detentions")
    assert code == 0, out
    code, out = _run(data, "compartment", "assign", "case-a", "incident", "in_1")
    assert code == 0 and "1 incident record(s) added to case-a" in out, out
    code, out = _run(data, "compartment", "assign", "case-a", "source", "--unassigned")
    assert code == 0 and "1 source record(s)" in out, out
    code, out = _run(data, "compartment", "assign", "case-a", "incident", "in_nope")
    assert code != 0 and "in_nope" in out

    code, out = _run(data, "user", "add", "ana", "--role", "analyst", "--compartment", "case-a")
    assert code == 0, out
    password = re.search(r"initial password: (\S+)", out)
    secret = re.search(r"TOTP secret:\s+(\S+)", out)
    assert password and secret and "otpauth://totp/Svidok%3Aana?secret=" in out
    code, out = _run(data, "user", "add", "x", "--role", "source")
    assert code != 0 and "no account" in out
    code, out = _run(data, "user", "add", "y", "--role", "superuser")
    assert code != 0 and "unknown role" in out

    code, out = _run(data, "user", "list", "--json")
    users = json.loads(out)
    assert [(u["name"], u["role"], u["compartments"]) for u in users] == [("ana", "analyst", ["case-a"])]

    code, out = _run(data, "token", "create", "ana", "--scope", "record.view", "--expires", "7d")
    assert code == 0, out
    token = re.search(r"(svk_[0-9a-f]{16}_\S+)", out)
    assert token
    code, out = _run(data, "token", "list", "--json")
    listed = json.loads(out)
    assert listed[0]["user"] == "ana" and listed[0]["state"] == "active"
    assert token.group(1) not in out
    code, out = _run(data, "token", "revoke", listed[0]["id"])
    assert code == 0

    assert _run(data, "user", "disable", "ana")[0] == 0
    users = json.loads(_run(data, "user", "list", "--json")[1])
    assert users[0]["disabled"] is True
    code, out = _run(data, "compartment", "list", "--json")
    assert json.loads(out)[0]["records"] == 2

    # every step is in the audit log, and no secret is
    log = tmp_path / "log.jsonl"
    assert _run(data, "audit", "export", "--out", str(log))[0] == 0
    text = log.read_text("utf-8")
    for action in ("user.create", "token.create", "token.revoke", "user.disable", "compartment.assign"):
        assert action in text
    for secret_value in (password.group(1), secret.group(1), token.group(1)):
        assert secret_value not in text


def test_parse_expiry() -> None:
    now = datetime(2026, 1, 1)
    assert parse_expiry("30d") == timedelta(days=30)
    assert parse_expiry("12h") == timedelta(hours=12)
    assert parse_expiry("2w") == timedelta(weeks=2)
    assert parse_expiry("2026-01-31", now) == timedelta(days=30)
    with pytest.raises(InputError):
        parse_expiry("soon")
