"""The hash-pinned lock file that `make` installs from agrees with pyproject.toml.

`requirements/lock.txt` is made by `make lock` (pip-compile --generate-hashes). A dependency
added to pyproject.toml without regenerating the lock, a pin without a hash, or a pin that no
longer satisfies pyproject's range would let `make` install something nobody reviewed, or fail
on a fresh clone: these tests catch each.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "lock.txt"
PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;(?P<marker>[^\\]+))?\\?$"
)
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


@dataclass
class Pin:
    version: Version
    marker: str
    hashes: int


def parse_lock(text: str) -> dict[str, list[Pin]]:
    """Pins of a `uv pip compile --universal --generate-hashes` lock: `name==version [; marker] \\`
    then one `--hash=sha256:...` per file. A name may be pinned once per environment marker (a
    newer release for newer Pythons, say)."""
    pins: dict[str, list[Pin]] = {}
    current: Pin | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("--hash") else raw.strip()
        if not line:
            continue
        if line.startswith("--hash"):
            if current is None or not HASH.match(line):
                raise ValueError(f"lock line {number}: a hash outside a pin or not sha256: {raw!r}")
            current.hashes += 1
            continue
        match = PIN.match(line)
        if match is None:
            raise ValueError(f"lock line {number}: not an exact `name==version` pin: {raw!r}")
        name, marker = canonicalize_name(match["name"]), (match["marker"] or "").strip()
        if any(pin.marker == marker for pin in pins.get(name, [])):
            raise ValueError(f"lock line {number}: {name} pinned twice for the same environments")
        current = Pin(Version(match["version"]), marker, 0)
        pins.setdefault(name, []).append(current)
    return pins


def declared() -> list[tuple[str, Requirement]]:
    """Every requirement of pyproject.toml: runtime, each extra, and the build system."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found = [("dependencies", Requirement(r)) for r in project["project"]["dependencies"]]
    for extra, reqs in project["project"].get("optional-dependencies", {}).items():
        found += [(f"optional-dependencies.{extra}", Requirement(r)) for r in reqs]
    found += [("build-system.requires", Requirement(r)) for r in project["build-system"]["requires"]]
    return found


def problems(pins: dict[str, list[Pin]], requirements: list[tuple[str, Requirement]]) -> list[str]:
    out = [
        f"{name}=={pin.version} has no --hash" for name, ps in pins.items() for pin in ps if pin.hashes == 0
    ]
    for where, req in requirements:
        found = pins.get(canonicalize_name(req.name))
        if not found:
            out.append(f"{req.name} ({where}) is not in {LOCK.name}: run `make lock`")
        for pin in found or []:
            if req.specifier.contains(pin.version, prereleases=True):
                continue
            out.append(
                f"{req.name} ({where}) wants {req.specifier}, {LOCK.name} pins {pin.version}: run `make lock`"
            )
    return out


def test_every_pyproject_dependency_is_pinned_with_hashes() -> None:
    assert LOCK.exists(), "requirements/lock.txt is missing: run `make lock`"
    pins = parse_lock(LOCK.read_text(encoding="utf-8"))
    assert len(pins) > len(declared()), "the lock should hold the transitive dependencies too"
    assert problems(pins, declared()) == []


def test_the_extras_that_pyproject_asks_for_are_locked_too() -> None:
    # `psycopg[binary]` needs psycopg-binary, `moto[server]` needs flask...: read what each extra
    # brings from the installed package's metadata, for this environment.
    pins = parse_lock(LOCK.read_text(encoding="utf-8"))
    missing = []
    for where, req in declared():
        for extra in req.extras:
            for dep in map(Requirement, metadata.requires(req.name) or []):
                if (
                    dep.marker is not None
                    and dep.marker.evaluate({"extra": extra})
                    and not dep.marker.evaluate({"extra": ""})
                ):
                    if canonicalize_name(dep.name) not in pins:
                        missing.append(f"{dep.name} (for {req.name}[{extra}], {where})")
    assert missing == []


def test_the_lock_pins_wheels_for_more_than_one_platform() -> None:
    # pip-compile records a hash for every file of a pinned version; a lock made from one
    # machine's wheels only would give the compiled packages (numpy here) a single hash.
    pins = parse_lock(LOCK.read_text(encoding="utf-8"))
    assert all(pin.hashes > 5 for pin in pins["numpy"])


def test_the_check_catches_a_missing_dependency_a_missing_hash_and_a_stale_pin() -> None:
    pins = parse_lock("alpha==1.0 \\\n    --hash=sha256:" + "a" * 64 + "\n    # via svidok\nbeta==2.0\n")
    reqs = [("dependencies", Requirement("alpha>=1.1")), ("dependencies", Requirement("gamma"))]
    found = problems(pins, reqs)
    assert "beta==2.0 has no --hash" in found
    assert any(p.startswith("alpha (dependencies) wants >=1.1") for p in found)
    assert any(p.startswith("gamma (dependencies) is not in") for p in found)


@pytest.mark.parametrize(
    "line", ["alpha>=1.0", "-e .", "alpha @ https://example.org/a.whl", "--hash=sha256:" + "b" * 64]
)
def test_the_lock_parser_rejects_loose_lines(line: str) -> None:
    with pytest.raises(ValueError, match="lock line 1"):
        parse_lock(line + "\n")


def test_make_installs_from_the_lock_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rule = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "$(LOCK)" in rule.splitlines()[0] and "pyproject.toml" in rule.splitlines()[0]
    assert "--require-hashes -r $(LOCK)" in rule
    assert "--no-deps" in rule and "-e ." in rule
    assert re.search(r"^LOCK\s*:=\s*requirements/lock\.txt$", makefile, re.MULTILINE)
