"""bandit finds nothing in src/ that is not justified on its line.

An exception is written `# nosec B101 # why it does not apply` on the line bandit reports: the
test id names the one check it silences (a bare `# nosec` would silence every check on the line)
and the text after the second `#` says why. Nothing is skipped globally in `[tool.bandit]`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
NOSEC = re.compile(r"#\s*nosec\b(?P<rest>.*)$", re.IGNORECASE)
JUSTIFIED = re.compile(r"^:?\s*(?P<ids>B\d{3}(?:\s*,\s*B\d{3})*)\s+#\s*(?P<why>\S.*\S)\s*$")


def bandit(target: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bandit",
            "-c",
            str(ROOT / "pyproject.toml"),
            "-r",
            str(target),
            "-f",
            "json",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.stdout, f"bandit printed no report (exit {done.returncode}): {done.stderr[-2000:]}"
    report = json.loads(done.stdout)
    assert not report["errors"], report["errors"]
    results: list[dict[str, object]] = report["results"]
    return results


def unjustified(text: str, name: str) -> list[str]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = NOSEC.search(line)
        if match is None:
            continue
        why = JUSTIFIED.match(match["rest"])
        if why is None or len(why["why"].split()) < 3:
            out.append(f"{name}:{number}: `# nosec` needs a test id and a reason: `# nosec BXXX # why`")
    return out


def test_bandit_finds_nothing_unjustified_in_src() -> None:
    found = bandit(SRC)
    assert [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in found] == []


def test_every_nosec_in_src_names_its_check_and_a_reason() -> None:
    bad: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        bad += unjustified(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert bad == []


def test_nothing_is_skipped_globally() -> None:
    config = (
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8")).get("tool", {}).get("bandit", {})
    )
    assert not config.get("skips"), "justify each exception on its line, not by skipping a check everywhere"


def test_bandit_does_report_what_it_should(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        "import random\nimport subprocess\n\n"
        "def token(cmd: str) -> float:\n"
        "    subprocess.run(cmd, shell=True)\n"
        "    return random.random()\n",
        encoding="utf-8",
    )
    assert {r["test_id"] for r in bandit(tmp_path)} >= {"B602", "B311"}


def test_the_nosec_rule_rejects_bare_and_unexplained_exceptions() -> None:
    text = (
        "a = 1  # nosec\n"
        "b = 2  # nosec B101\n"
        "c = 3  # nosec: B311\n"
        "d = 4  # nosec B101 # ok\n"
        "e = 5  # nosec B101 # narrows the type for mypy\n"
        "f = 6  # nosec B608, B101 # constant SQL fragment only\n"
    )
    assert [line.split(":")[1] for line in unjustified(text, "x.py")] == ["1", "2", "3", "4"]
