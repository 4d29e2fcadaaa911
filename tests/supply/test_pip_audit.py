"""The CI vulnerability check (.ci/pip_audit.py) fails on a known vulnerability, skips with a
notice when no advisory data can be had, and accepts an ignored advisory only with a reason."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_pip_audit", ROOT / ".ci" / "pip_audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


audit = load()


def dep(name: str, version: str, *vulns: str) -> dict[str, object]:
    return {
        "name": name,
        "version": version,
        "vulns": [{"id": v, "fix_versions": ["9.9"], "aliases": ["CVE-2099-1"]} for v in vulns],
    }


def test_a_known_vulnerability_fails_the_check() -> None:
    code, lines = audit.verdict(
        {"dependencies": [dep("alpha", "1.0"), dep("beta", "2.0", "PYSEC-2099-1")]}, "pypi", 0
    )
    assert code == 1
    assert lines[0] == "VULNERABLE: beta==2.0: PYSEC-2099-1 (CVE-2099-1); fixed in: 9.9"
    assert "2 of 2 pinned packages checked; 1 known vulnerabilities" in lines[1]


def test_a_clean_report_passes_and_names_what_had_no_data() -> None:
    report = {
        "dependencies": [dep("alpha", "1.0"), {"name": "gamma", "version": "3", "skip_reason": "not found"}]
    }
    code, lines = audit.verdict(report, "osv", 0)
    assert code == 0
    assert lines == [
        "pip-audit (osv): 1 of 2 pinned packages checked; 0 known vulnerabilities; "
        "0 advisories ignored (pip-audit-ignore.txt); no data for: gamma==3"
    ]


def test_no_data_for_any_package_is_a_skip_with_a_notice_not_a_pass() -> None:
    report = {
        "dependencies": [
            {"name": n, "version": "1", "skip_reason": "Dependency not found on PyPI"} for n in "ab"
        ]
    }
    code, lines = audit.verdict(report, "pypi", 0)
    assert code == 0
    assert lines[0].startswith(
        "NOTICE: dependency vulnerability check SKIPPED: pypi had advisory data for none"
    )


def test_the_ignore_file_needs_a_reason_for_every_advisory() -> None:
    assert audit.read_ignores("# comment\n\nPYSEC-2099-1  # only the X server uses it, we do not\n") == {
        "PYSEC-2099-1": "only the X server uses it, we do not"
    }
    for bad in ("PYSEC-2099-1\n", "PYSEC-2099-1  # no\n", "A B  # two ids on one line here\n"):
        with pytest.raises(ValueError, match="line 1"):
            audit.read_ignores(bad)


def test_the_shipped_ignore_file_is_valid() -> None:
    audit.read_ignores((ROOT / ".ci" / "pip-audit-ignore.txt").read_text(encoding="utf-8"))


def test_unreachable_advisory_data_skips_with_a_notice(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(audit, "answers", lambda url: f"{url}: URLError: offline")
    ran: list[object] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: ran.append(a))
    assert audit.main() == 0
    assert (
        "NOTICE: dependency vulnerability check SKIPPED: no advisory data reachable"
        in capsys.readouterr().out
    )
    assert ran == []


def test_pip_audit_is_installed_and_reads_the_lock() -> None:
    # The check runs `python -m pip_audit`; make sure that works in this environment.
    done = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--version"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
