"""Machine-readable figures beside each benchmark's Markdown, for `bench/run.py`'s one table.

Every benchmark calls `record` once per headline figure. The figures of one benchmark
live in `bench/results/<bench>.json`; a later call with the same figure name replaces
the earlier value, so re-running one size does not duplicate rows.

    from figures import record   # bench/ is on sys.path when a bench script runs
    record("search", "query p95 at 1,000,000 testimonies", 41.0, "ms",
           goal="<= 50", met=True, command="bench/bench_search.py --sizes 1000000")
"""

from __future__ import annotations

import json
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=RESULTS.parent
    )
    return done.stdout.strip() or "unknown"


def record(
    bench: str,
    figure: str,
    value: float | int | str,
    unit: str,
    *,
    goal: str | None = None,
    met: bool | None = None,
    command: str,
    note: str | None = None,
) -> None:
    """Store one figure of benchmark `bench`; `goal` is the issue's target as text (e.g. ">= 0.8")."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{bench}.json"
    rows: list[dict[str, Any]] = []
    if path.exists():
        rows = [row for row in json.loads(path.read_text(encoding="utf-8")) if row["figure"] != figure]
    rows.append(
        {
            "bench": bench,
            "figure": figure,
            "value": value,
            "unit": unit,
            "goal": goal,
            "met": met,
            "command": command,
            "note": note,
            "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "commit": _commit(),
            "machine": f"{platform.machine()}, {platform.python_version()}",
        }
    )
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def load_all() -> list[dict[str, Any]]:
    """Every recorded figure, benchmark by benchmark, in recording order."""
    rows: list[dict[str, Any]] = []
    for path in sorted(RESULTS.glob("*.json")):
        rows.extend(json.loads(path.read_text(encoding="utf-8")))
    return rows
