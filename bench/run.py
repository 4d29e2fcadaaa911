"""Run every benchmark in bench/, then print one table of their figures and rewrite bench/RESULTS.md.

    .venv/bin/python bench/run.py                    # quick sizes: all of them in under 20 minutes
    .venv/bin/python bench/run.py --full             # the 1,000,000-record sizes and the 10 GiB backup
    .venv/bin/python bench/run.py --only demo names  # some of them
    .venv/bin/python bench/run.py --dry-run          # print what would run and the current table
    make bench ARGS="--only demo"

Each benchmark runs as its own process (one after the other, so they do not compete with each
other for the two cores) with a time limit. The headline figures come from what the benchmarks
record through `bench/figures.py` (`bench/results/<bench>.json`); a benchmark that exits non-zero
or runs out of time gets a "failed" row in the table, and the others still run. Each run's
Markdown report goes to `bench/out/` (not committed), so a quick run does not overwrite the
write-ups in `bench/results/`; RESULTS.md gets the table at the top and those reports below it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from figures import RESULTS, load_all

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
LAST_RUN = OUT / "run.json"  # the outcomes of the last run, for --rewrite
# Placeholders in the argument lists, filled in per run.
REPORT = "{report}"  # this run's Markdown report: bench/out/<name>.md
SCRATCH = "{scratch}"  # a fresh temporary directory, removed afterwards


@dataclass(frozen=True)
class Bench:
    script: str
    quick: list[str]
    full: list[str]
    # Minutes after which the run is stopped and reported as failed.
    limit_quick: int = 15
    limit_full: int = 120
    # Commands to run first when a file the benchmark reads is missing (not committed).
    prepare: dict[str, list[str]] = field(default_factory=dict)
    # Where a script without --out writes its Markdown report, relative to bench/.
    writes: str | None = None


# Quick sizes were chosen from each script's defaults and the timings in its last write-up on this
# 2-core machine (under the load of other work): about 12 minutes for all of them together.
BENCHES: dict[str, Bench] = {
    "demo": Bench(
        "bench_demo.py",
        ["--sizes", "10000", "50000", "--out", REPORT],
        ["--full", "--out", REPORT],
    ),
    "names": Bench(
        "bench_names.py",
        ["run"],
        ["run"],
        prepare={"data/names_pairs.jsonl": ["make-pairs"], "data/names_dev.jsonl": ["make-dev"]},
        writes="results/names.md",
        # Three interleaved rounds over a 69 MB file: 10 minutes was too short at load 15.
        limit_quick=25,
    ),
    "linking": Bench(
        "bench_linking.py",
        ["--sizes", "2000", "10000", "--out", REPORT],
        ["--sizes", "10000", "100000", "1000000", "--out", REPORT],
        limit_full=240,
    ),
    "evidence": Bench(
        "bench_evidence.py", ["--size-mib", "256"], ["--size-mib", "1024"], writes="results/evidence.md"
    ),
    "erasure": Bench(
        "bench_erasure.py",
        ["--scale", "2000", "--rounds", "3"],
        ["--scale", "20000", "--rounds", "5"],
        writes="results/erasure.md",
    ),
    "audit": Bench(
        "bench_audit.py",
        ["--entries", "200000", "--appends", "5000"],
        ["--entries", "1000000", "--appends", "20000"],
    ),
    "web": Bench(
        "bench_web.py",
        ["--seconds", "10", "--open-seconds", "10", "--backend", "both", "--out", REPORT],
        ["--seconds", "30", "--open-seconds", "30", "--backend", "both", "--out", REPORT],
    ),
    "search": Bench(
        "bench_search.py",
        ["--data-dir", SCRATCH, "--scale", "50000", "--record", "--out", REPORT],
        ["--data-dir", SCRATCH, "--scale", "1000000", "--record", "--out", REPORT],
    ),
    "backup": Bench(
        "bench_backup.py",
        ["--size-mib", "256", "--scale", "200", "--out", REPORT],
        ["--size-mib", "10240", "--scale", "1000", "--out", REPORT],
        limit_full=180,
    ),
    "crash": Bench(
        "bench_crash.py",
        ["--kills", "5", "--backend", "both"],
        ["--soak", "--backend", "both"],
        writes="results/crash.md",
    ),
}


@dataclass
class Outcome:
    name: str
    status: str  # "ok", "failed", "missing", "planned"
    command: str
    seconds: float = 0.0
    exit_code: int | None = None
    load_before: str = ""
    load_after: str = ""
    report: Path | None = None
    log: Path | None = None


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "src", "bench"], cwd=ROOT).returncode
    return (done.stdout.strip() or "unknown") + (" (with uncommitted changes)" if dirty else "")


def machine() -> list[tuple[str, str]]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text(encoding="utf-8").split("\n")[0].split()[1])
        ram = f"{kib / 2**20:.1f} GiB"
    system = platform.platform()
    try:
        system = f"{platform.freedesktop_os_release()['PRETTY_NAME']}, {system}"
    except OSError:
        pass
    return [
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("RAM", ram),
        ("OS", system),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
    ]


def plan(name: str, full: bool, scratch: str = "<temporary directory>") -> tuple[Bench, list[str]]:
    bench = BENCHES[name]
    report = f"bench/out/{name}.md"
    args = [
        a.replace(REPORT, report).replace(SCRATCH, scratch) for a in (bench.full if full else bench.quick)
    ]
    return bench, [sys.executable, f"bench/{bench.script}", *args]


def shown(argv: list[str]) -> str:
    return shlex.join([".venv/bin/python", *argv[1:]])


def run_one(name: str, full: bool) -> Outcome:
    bench, argv = plan(name, full)
    report = HERE / bench.writes if bench.writes else OUT / f"{name}.md"
    log = OUT / f"{name}.log"
    if not (HERE / bench.script).exists():
        return Outcome(name, "missing", shown(argv))
    OUT.mkdir(exist_ok=True)
    if not bench.writes:
        report.unlink(missing_ok=True)
    before = report.stat().st_mtime if report.exists() else 0.0
    scratch = Path(tempfile.mkdtemp(prefix=f"svidok-bench-{name}-"))
    bench, argv = plan(name, full, str(scratch))
    outcome = Outcome(name, "ok", shown(argv), load_before=load_average(), log=log)
    limit = 60 * (bench.limit_full if full else bench.limit_quick)
    started = time.monotonic()
    try:
        with log.open("w", encoding="utf-8") as out:
            for needed, prep in bench.prepare.items():
                if not (HERE / needed).exists():
                    print(
                        f"   preparing: {shown([sys.executable, f'bench/{bench.script}', *prep])}", flush=True
                    )
                    code = stream([sys.executable, f"bench/{bench.script}", *prep], out, limit)
                    if code != 0:
                        outcome.status, outcome.exit_code = "failed", code
                        return outcome
            code = stream(argv, out, limit - (time.monotonic() - started))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        outcome.seconds = time.monotonic() - started
        outcome.load_after = load_average()
    if code != 0:
        outcome.status, outcome.exit_code = "failed", code
    outcome.report = report if report.exists() and report.stat().st_mtime > before else None
    return outcome


def stream(argv: list[str], log: Any, limit_s: float) -> int:
    """Run `argv` from the repository root, copying its output to the terminal and `log`;
    stop its whole process group after `limit_s` seconds (exit code 124, as timeout(1))."""
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        start_new_session=True,
    )
    assert proc.stdout is not None  # nosec B101 # stdout=PIPE above
    out = proc.stdout

    def pump() -> None:
        for line in out:
            sys.stdout.write("   " + line)
            sys.stdout.flush()
            log.write(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=max(limit_s, 1))
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    reader.join(timeout=30)
    if timed_out:
        msg = f"stopped after the time limit of {max(limit_s, 1):.0f} s"
        print(f"   {msg}", flush=True)
        log.write(msg + "\n")
        return 124
    return proc.returncode


def cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def table(outcomes: list[Outcome]) -> list[str]:
    """One row per recorded figure, plus a row for each benchmark of this run that failed, is
    missing, or recorded nothing."""
    rows = load_all()
    lines = [
        "| benchmark | figure | value | unit | goal | met | recorded |",
        "| --- | --- | ---: | --- | --- | --- | --- |",
    ]
    recorded = {row["bench"] for row in rows}
    status = {o.name: o for o in outcomes}
    for name in [*BENCHES, *sorted(recorded - set(BENCHES))]:
        o = status.get(name)
        if o is not None and o.status == "failed":
            why = "timed out" if o.exit_code == 124 else f"exit code {o.exit_code}"
            lines.append(
                f"| {name} | run | **failed** | {why} | – | **no** | now, log: bench/out/{name}.log |"
            )
        elif o is not None and o.status == "missing":
            lines.append(f"| {name} | run | missing | bench/{BENCHES[name].script} not found | – | – | – |")
        elif o is not None and o.status == "ok" and name not in recorded:
            lines.append(f"| {name} | run | no figure recorded | – | – | – | now |")
        for row in rows:
            if row["bench"] != name:
                continue
            met = {True: "yes", False: "**no**", None: "–"}[row.get("met")]
            lines.append(
                f"| {name} | {cell(row['figure'])} | {cell(row['value'])} | {cell(row['unit'])} "
                f"| {cell(row.get('goal'))} | {met} | {row.get('date', '?')}, {row.get('commit', '?')} |"
            )
    return lines


def section(o: Outcome) -> list[str]:
    head = (
        f"Ran `{o.command}` in {o.seconds:,.0f} s; load average {o.load_before} before, {o.load_after} after."
    )
    if o.report is not None and o.status == "ok":
        text = o.report.read_text(encoding="utf-8").strip()
        # Demote the report's own headings below this run's `##` heading.
        text = "\n".join("##" + line if line.startswith("#") else line for line in text.splitlines())
        return [f"## {o.name}", "", head, "", text, ""]
    body = o.log.read_text(encoding="utf-8").strip() if o.log and o.log.exists() else ""
    if o.status == "failed":
        why = "ran out of time" if o.exit_code == 124 else f"exited with code {o.exit_code}"
        head += f" **It {why}**; the end of its output:"
        body = "\n".join(body.splitlines()[-40:])
    else:
        head += " It writes no Markdown report; its output:"
    return [f"## {o.name}", "", head, "", "```", body, "```", ""]


def write_results(
    outcomes: list[Outcome], full: bool, argv: list[str], started: datetime, at: str | None = None
) -> str:
    command = shlex.join([".venv/bin/python", "bench/run.py", *argv])
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{command}` ({'full' if full else 'quick'} sizes) on {started:%Y-%m-%d %H:%M} UTC "
        f"at commit {at or commit()}. {sum(o.status in ('ok', 'failed') for o in outcomes)} benchmarks ran, "
        f"{sum(o.seconds for o in outcomes) / 60:.0f} minutes in all.",
        "",
        "| machine | |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in machine()],
        "",
        "The machine is shared with other work: each section gives the load average (1, 5, 15 min) "
        "before and after its benchmark. `recorded` is when and at which commit each figure was "
        "recorded; figures of benchmarks that did not run this time keep their earlier values.",
        "",
        *table(outcomes),
        "",
    ]
    for o in outcomes:
        if o.status in ("ok", "failed"):
            lines += section(o)
    missing = [o.name for o in outcomes if o.status == "missing"]
    if missing:
        lines += [f"Not run (script not found): {', '.join(missing)}.", ""]
    lines += ["Earlier write-ups, with their analysis, are in `bench/results/*.md`.", ""]
    text = "\n".join(lines)
    (HERE / "RESULTS.md").write_text(text, encoding="utf-8")
    return text


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="1,000,000-record sizes and the 10 GiB backup")
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), metavar="NAME", help=", ".join(BENCHES))
    parser.add_argument("--dry-run", action="store_true", help="print the commands and the current table")
    parser.add_argument(
        "--rewrite",
        action="store_true",
        help="only rewrite RESULTS.md from the last run (bench/out/run.json)",
    )
    args = parser.parse_args()
    if args.rewrite:
        last = json.loads(LAST_RUN.read_text(encoding="utf-8"))
        outcomes = [
            Outcome(
                **{
                    **o,
                    "report": Path(o["report"]) if o["report"] else None,
                    "log": Path(o["log"]) if o["log"] else None,
                }
            )
            for o in last["outcomes"]
        ]
        started = datetime.fromisoformat(last["started"])
        text = write_results(outcomes, last["full"], last["argv"], started, last.get("commit"))
        print(text.split("\n## ", 1)[0])
        return 0
    names = args.only or list(BENCHES)
    started = datetime.now(UTC)
    if args.dry_run:
        print(f"would run, one after the other, from {ROOT} (load average now {load_average()}):")
        outcomes = []
        for name in names:
            bench, argv = plan(name, args.full)
            there = (HERE / bench.script).exists()
            limit = bench.limit_full if args.full else bench.limit_quick
            note = f"time limit {limit} min" if there else "SCRIPT MISSING: would get a 'missing' row"
            for needed, prep in bench.prepare.items():
                if not (HERE / needed).exists():
                    note += f"; first {shown([sys.executable, f'bench/{bench.script}', *prep])}"
            print(f"  {name:9} {shown(argv)}    ({note})")
            outcomes.append(Outcome(name, "planned" if there else "missing", shown(argv)))
        print(f"\nfigures recorded so far ({RESULTS.relative_to(ROOT)}/*.json); RESULTS.md not rewritten:\n")
        print("\n".join(table(outcomes)))
        return 0
    at = commit()
    outcomes = []
    for name in names:
        print(f"== {name} (load average {load_average()})", flush=True)
        outcome = run_one(name, args.full)
        print(f"== {name}: {outcome.status} in {outcome.seconds:,.0f} s", flush=True)
        outcomes.append(outcome)
    LAST_RUN.write_text(
        json.dumps(
            {
                "full": args.full,
                "argv": sys.argv[1:],
                "started": started.isoformat(),
                "commit": at,
                "outcomes": [
                    {**asdict(o), "report": str(o.report or ""), "log": str(o.log or "")} for o in outcomes
                ],
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    text = write_results(outcomes, args.full, sys.argv[1:], started, at)
    print()
    print(text.split("\n## ", 1)[0])
    failed = [o.name for o in outcomes if o.status == "failed"]
    if failed:
        print(f"failed: {', '.join(failed)} (see their rows above and bench/out/<name>.log)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
