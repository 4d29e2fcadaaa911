"""Search and statistics speed on a demo register (SQLite FTS5 by default, PostgreSQL with --database-url).

    .venv/bin/python bench/bench_search.py --data-dir DIR [--scale N] [--queries 300] [--out bench/results/search.md]

Builds the demo register at --scale testimonies in DIR unless one is there,
rebuilds the search index (timed), then runs a deterministic mix of queries
(surnames in Cyrillic and in Latin transliteration, place names in five
languages, unit abbreviations, phrases, filtered and faceted searches) and
reports p50/p95/max latency (wall clock, and p50/p95 of the process's CPU time)
per kind of query, with facets and without, and the time of the statistics and
the public statistics.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from figures import record
from sqlalchemy import select

from svidok.demo.generator import DemoConfig, generate
from svidok.names import to_latin
from svidok.reports import index
from svidok.services import reporting
from svidok.services.search import SearchFilters, search
from svidok.settings import Settings
from svidok.store.register import Store, table_of


def _queries(store: Store, n: int, seed: int) -> list[tuple[str, str, SearchFilters]]:
    rng = random.Random(seed)
    person, place, unit = table_of("person"), table_of("place"), table_of("unit")
    with store.read() as conn:
        names = [
            r[0] for r in conn.execute(select(person.c.primary_name).order_by(person.c.id).limit(20_000))
        ]
        places = [(r[0], r[1]) for r in conn.execute(select(place.c.names, place.c.id))]
        units = [
            r[0] for r in conn.execute(select(unit.c.abbreviation).where(unit.c.abbreviation.is_not(None)))
        ]
    phrases = ["били ногами", "били дубінкамі", "повалили на асфальт", "were beaten", "w masce", "не бачив"]
    violations = ["torture", "cruel_treatment", "arbitrary_detention", "unlawful_force"]
    out: list[tuple[str, str, SearchFilters]] = []
    for i in range(n):
        roll = i % 6
        if roll == 0:
            out.append(("surname (Cyrillic)", rng.choice(names).split()[-1], SearchFilters()))
        elif roll == 1:
            out.append(("surname (Latin)", to_latin(rng.choice(names).split()[-1]), SearchFilters()))
        elif roll == 2:
            variants, _pid = rng.choice(places)
            out.append(
                (
                    "place name",
                    str(rng.choice(list((variants or {"x": "Kamianiehrad"}).values()))),
                    SearchFilters(),
                )
            )
        elif roll == 3:
            out.append(("unit abbreviation", rng.choice(units or ["OMON"]), SearchFilters()))
        elif roll == 4:
            out.append(("phrase", f'"{rng.choice(phrases)}"', SearchFilters()))
        else:
            f = SearchFilters(
                kinds=["source"],
                violations=[rng.choice(violations)],
                date_from=date(2020, 8, 9),
                date_to=date(2020, 8, 31),
            )
            out.append(("surname + filters", to_latin(rng.choice(names).split()[-1]), f))
    return out


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--no-rebuild", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--note", default="")
    parser.add_argument("--record", action="store_true", help="store the headline figures (bench/figures.py)")
    args = parser.parse_args()
    command = f".venv/bin/python {' '.join(sys.argv)}"
    settings = Settings(data_dir=args.data_dir, database_url=args.database_url)
    store = Store.open(settings, create=True)
    lines = ["# Search and statistics benchmark", ""]
    lines.append(f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    lines.append(
        f"- machine: {platform.platform()}, Python {platform.python_version()}, backend {store.dialect}"
    )
    lines.append(f"- command: `{command}`")
    lines.append(f"- load average at start (1, 5, 15 min): {_load()}")
    if args.note:
        lines.append(f"- note: {args.note}")
    if not store.counts().get("source"):
        started = time.perf_counter()
        generate(store, args.data_dir, DemoConfig(scale=args.scale, seed=8))
        lines.append(f"- demo register built in {time.perf_counter() - started:.0f} s")
    counts = store.counts()
    lines.append(
        f"- register: {counts['source']:,} sources, {counts['incident']:,} incidents, "
        f"{counts['person']:,} persons, {counts['act']:,} acts"
    )
    if not args.no_rebuild:
        done = index.rebuild(store, lambda k, n: print(f"indexed {k}: {n:,}", flush=True))
        lines.append(f"- index rebuild: {sum(done['documents'].values()):,} documents in {done['seconds']} s")
    queries = _queries(store, args.queries, seed=8)
    search(store, "warm up", limit=5)
    rows = []
    p95: dict[bool, float] = {}
    cpu95: dict[bool, float] = {}
    for facets in (False, True):
        times: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        hits: dict[str, int] = {}
        capped: dict[str, int] = {}
        for label, q, f in queries:
            started, used = time.perf_counter(), time.process_time()
            result = search(store, q, f, limit=20, facets=facets)
            times.setdefault(label, []).append((time.perf_counter() - started) * 1000)
            cpu.setdefault(label, []).append((time.process_time() - used) * 1000)
            hits[label] = hits.get(label, 0) + (1 if result.hits else 0)
            capped[label] = capped.get(label, 0) + (0 if result.total_is_exact else 1)
        every = [t for ts in times.values() for t in ts]
        every_cpu = [t for ts in cpu.values() for t in ts]
        p95[facets], cpu95[facets] = _pct(every, 0.95), _pct(every_cpu, 0.95)
        for label, ts in [*times.items(), ("all queries", every)]:
            cs = cpu.get(label, every_cpu)
            rows.append(
                f"| {label} | {'yes' if facets else 'no'} | {len(ts)} | {statistics.median(ts):.1f} | "
                f"{_pct(ts, 0.95):.1f} | {max(ts):.1f} | {statistics.median(cs):.1f} | {_pct(cs, 0.95):.1f} | "
                f"{hits.get(label, sum(hits.values()))} | {capped.get(label, sum(capped.values()))} |"
            )
    lines += [
        "",
        "CPU ms: the process's CPU time for the query (SQLite runs in the process), which other",
        "engineers' load on the shared cores inflates far less than the wall-clock time.",
        "",
        "| query | facets | n | p50 ms | p95 ms | max ms | p50 CPU ms | p95 CPU ms | with hits | "
        "'more than' totals |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        f"- load average after the queries: {_load()}",
    ]
    seconds: dict[str, float] = {}
    for name, fn in (
        ("statistics (all tables)", reporting.statistics),
        ("public statistics", reporting.public_statistics),
    ):
        started = time.perf_counter()
        fn(store)
        seconds[name] = time.perf_counter() - started
        lines.append(f"- {name}: {seconds[name]:.2f} s (load average {_load()})")
    if args.record:
        size = f"{counts['source']:,} testimonies"
        load = f"load average {_load()} on a machine shared with other agents" + (
            f"; {args.note}" if args.note else ""
        )
        for facets in (False, True):
            figure = f"query p95 {'with' if facets else 'without'} facets at {size} ({store.dialect})"
            record(
                "search",
                figure,
                round(p95[facets], 1),
                "ms",
                goal="<= 50",
                met=p95[facets] <= 50,
                command=command,
                note=load,
            )
            record(
                "search",
                f"query p95 CPU time {'with' if facets else 'without'} facets at {size} ({store.dialect})",
                round(cpu95[facets], 1),
                "ms",
                command=command,
                note=load,
            )
        for name, value in seconds.items():
            record(
                "search",
                f"{name} at {size} ({store.dialect})",
                round(value, 2),
                "s",
                command=command,
                note=load,
            )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
