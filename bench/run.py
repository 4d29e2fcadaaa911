"""Run every benchmark at a size that fits this machine, then gather their results into RESULTS.md.

    .venv/bin/python bench/run.py            # quick sizes
    .venv/bin/python bench/run.py --only linking names

Each benchmark writes `bench/results/<name>.md`; this script concatenates them,
with the machine, date and commit, into `bench/RESULTS.md`.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK: dict[str, list[str]] = {
    "demo": ["bench/bench_demo.py"],
    "names": ["bench/bench_names.py"],
    "linking": ["bench/bench_linking.py", "--sizes", "2000", "10000"],
    "evidence": ["bench/bench_evidence.py"],
    "audit": ["bench/bench_audit.py"],
}


def gather() -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    parts = [
        "# Benchmark results",
        "",
        f"Gathered {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {commit or 'unknown'} on "
        f"{platform.machine()} ({platform.system()}), Python {platform.python_version()}. "
        "Each section names the command that produced it.",
        "",
    ]
    for path in sorted((HERE / "results").glob("*.md")):
        text = path.read_text(encoding="utf-8").strip()
        parts += [text.replace("\n# ", "\n## ").replace("# ", "## ", 1), ""]
    (HERE / "RESULTS.md").write_text("\n".join(parts), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(QUICK))
    parser.add_argument("--gather-only", action="store_true", help="only rebuild RESULTS.md")
    args = parser.parse_args()
    if not args.gather_only:
        for name in args.only or list(QUICK):
            script = HERE.parent / QUICK[name][0]
            if not script.exists():
                print(f"skip {name}: {script.name} missing")
                continue
            print(f"== {name}", flush=True)
            subprocess.run([sys.executable, *QUICK[name]], cwd=HERE.parent, check=True)
    gather()
    print((HERE / "RESULTS.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
