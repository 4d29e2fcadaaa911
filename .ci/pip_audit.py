"""Audit every pinned dependency in requirements/lock.txt for known vulnerabilities (pip-audit).

    .venv/bin/python .ci/pip_audit.py          # as .ci/run and `make audit` do

The advisories come from PyPI's per-release JSON API (pip-audit's "pypi" service, which serves the
OSV advisories of each release) or, failing that, from OSV itself. Where neither answers, the
check prints a NOTICE and is skipped (exit 0): it cannot tell anything then, and failing would
block every run on a network limit. (The registry proxy of the machines this project runs on
serves PyPI's simple index and per-project JSON but not the per-release JSON, and OSV is out of
reach: there the check is skipped.) Where the data is there and a pinned release has a known
vulnerability, the check fails (exit 1), unless .ci/pip-audit-ignore.txt lists the advisory with
the reason it does not apply to Svidok. The whole check is bounded by PIP_AUDIT_TIMEOUT seconds.
"""

# ruff: noqa: T201  (a command-line check: it reports by printing)
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
IGNORE = ROOT / ".ci" / "pip-audit-ignore.txt"
SKIPPED = "NOTICE: dependency vulnerability check SKIPPED:"
# A release that has been on PyPI for years, and one OSV advisory: canaries for each service.
PROBES = {
    "pypi": "https://pypi.org/pypi/pip/24.0/json",
    "osv": "https://api.osv.dev/v1/vulns/PYSEC-2023-228",
}


def answers(url: str) -> str | None:
    """None when `url` answers 200 within 20 s, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            response.read(1)
    except Exception as exc:  # noqa: BLE001 - any failure, a 404 included, means no data
        return f"{url}: {type(exc).__name__}: {exc}"
    return None


def read_ignores(text: str) -> dict[str, str]:
    """`ADVISORY-ID  # why it does not apply` per line; a line without a reason is an error."""
    ignores: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        ident, _, why = line.partition("#")
        if not ident.strip() or len(ident.split()) != 1 or len(why.split()) < 3:
            raise ValueError(
                f"{IGNORE.name} line {number}: write 'ADVISORY-ID  # why it does not apply to Svidok'"
            )
        ignores[ident.strip()] = why.strip()
    return ignores


def verdict(report: dict[str, Any], service: str, ignored: int) -> tuple[int, list[str]]:
    """Exit code and the lines to print for pip-audit's JSON report."""
    deps = report["dependencies"]
    skipped = [f"{d['name']}=={d.get('version', '?')}" for d in deps if "skip_reason" in d]
    if deps and len(skipped) == len(deps):
        return 0, [
            f"{SKIPPED} {service} had advisory data for none of "
            f"the {len(deps)} pinned packages (first reason: {deps[0]['skip_reason']})"
        ]
    lines = []
    found = [(d["name"], d["version"], v) for d in deps for v in d.get("vulns", [])]
    for name, version, v in found:
        fixed = ", ".join(v.get("fix_versions") or []) or "none yet"
        aliases = ", ".join(v.get("aliases") or []) or "no aliases"
        lines.append(f"VULNERABLE: {name}=={version}: {v['id']} ({aliases}); fixed in: {fixed}")
    lines.append(
        f"pip-audit ({service}): {len(deps) - len(skipped)} of {len(deps)} pinned packages checked; "
        f"{len(found)} known vulnerabilities; {ignored} advisories ignored ({IGNORE.name})"
        + (f"; no data for: {', '.join(skipped)}" if skipped else "")
    )
    if found:
        lines.append(
            "Upgrade the pin (`make lock LOCK_FLAGS='--upgrade-package NAME'`) or, if the advisory cannot "
            f"apply to Svidok, add its id and the reason to .ci/{IGNORE.name}."
        )
        return 1, lines
    return 0, lines


def main() -> int:
    limit = float(os.environ.get("PIP_AUDIT_TIMEOUT", "600"))
    try:
        ignores = read_ignores(IGNORE.read_text(encoding="utf-8") if IGNORE.exists() else "")
    except ValueError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    why_not = []
    service = ""
    for service, url in PROBES.items():  # noqa: B007 - the service that answered is used below
        problem = answers(url)
        if problem is None:
            break
        why_not.append(problem)
    else:
        print(
            f"{SKIPPED} no advisory data reachable from here "
            f"(neither PyPI's per-release JSON nor OSV answered: {'; '.join(why_not)})"
        )
        return 0
    with tempfile.TemporaryDirectory(prefix="pip-audit-") as tmp:
        out = Path(tmp) / "report.json"
        argv = [
            sys.executable,
            "-m",
            "pip_audit",
            "-r",
            str(LOCK),
            "--require-hashes",
            "--disable-pip",
            "--vulnerability-service",
            service,
            "--timeout",
            "30",
            "--progress-spinner",
            "off",
            "--desc",
            "off",
            "--format",
            "json",
            "--output",
            str(out),
        ]
        for ident in ignores:
            argv += ["--ignore-vuln", ident]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=limit, cwd=ROOT)
        except subprocess.TimeoutExpired:
            print(f"{SKIPPED} pip-audit did not finish within {limit:.0f} s")
            return 0
        if not out.exists() or not out.stat().st_size:
            if answers(PROBES[service]) is not None:
                print(f"{SKIPPED} {service} stopped answering during the audit")
                return 0
            print(
                f"ERROR: pip-audit failed (exit {done.returncode}) without a report:\n{done.stderr}",
                file=sys.stderr,
            )
            return 1
        code, lines = verdict(json.loads(out.read_text(encoding="utf-8")), service, len(ignores))
    for line in lines:
        print(line, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
