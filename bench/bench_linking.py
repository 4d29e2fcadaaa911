"""Linking quality and speed on the demo's ground truth, beside a rapidfuzz-only baseline.

For each size: build a demo register (SQLite, in a temporary directory), run
`svidok link --full`'s service, then score mention→person clusters against the
ground truth (pairwise precision/recall/F1 and B-cubed F1). The baseline links
the same named mentions with Jaro-Winkler over ASCII-folded names (rapidfuzz),
blocked on the first two letters of each folded token, best threshold chosen
after the fact, so the gain from the name knowledge shows as a measured ratio.
The same run reports testimonies → incidents (for testimonies no operator has
cited: the best suggestion against the true incident), missing persons →
custody records (best suggestion), and the latency of linking one mention
against the whole register through the stored name-key index.

    .venv/bin/python bench/bench_linking.py --sizes 2000 10000 [--out bench/results/linking.md]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from figures import record
from rapidfuzz.distance import JaroWinkler
from sqlalchemy import func, select

from svidok.demo.generator import DemoConfig, generate
from svidok.linking.evaluate import Quality, cluster_quality
from svidok.linking.persons import PersonLinkSettings, link_persons
from svidok.linking.records import LinkRecords, load_records
from svidok.services import linking
from svidok.services.context import Actor, ServiceContext
from svidok.settings import Settings
from svidok.store.register import Store, table_of

CYR = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "ґ": "g",
        "д": "d",
        "е": "e",
        "ё": "e",
        "є": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "і": "i",
        "ї": "i",
        "й": "i",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ў": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
        "'": "",
        "’": "",
    }
)


def fold(name: str) -> str:
    """ASCII folding as a general-purpose matcher would do it: transliterate, strip accents, sort tokens."""
    text = name.casefold().translate(CYR)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    tokens = sorted(t for t in text.replace(".", " ").replace(",", " ").split() if t)
    return " ".join(tokens)


def baseline(ids: list[str], names: list[str], truth: list[str]) -> tuple[float, Quality]:
    """Jaro-Winkler clusters (union-find) at the best threshold in hindsight."""
    folded = [fold(n) for n in names]
    blocks: dict[str, list[int]] = {}
    for i, f in enumerate(folded):
        for token in f.split():
            if len(token) > 2:
                blocks.setdefault(token[:2], []).append(i)
    pairs: dict[tuple[int, int], float] = {}
    for members in blocks.values():
        if len(members) > 300:
            members = members[:300]
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                a, b = members[x], members[y]
                key = (a, b) if a < b else (b, a)
                if key not in pairs:
                    pairs[key] = JaroWinkler.similarity(folded[a], folded[b])
    best: tuple[float, Quality] | None = None
    for threshold in (0.80, 0.85, 0.88, 0.90, 0.92, 0.94, 0.96):
        parent = list(range(len(ids)))
        for (a, b), score in pairs.items():
            if score >= threshold:
                parent[_find(parent, a)] = _find(parent, b)
        quality = cluster_quality([_find(parent, i) for i in range(len(ids))], truth)
        if best is None or quality.f1 > best[1].f1:
            best = (threshold, quality)
    assert best is not None
    return best


def splink_baseline(records: LinkRecords, ids: list[str], truth: list[str]) -> dict[str, object]:
    """Splink (DuckDB) out of the box on the raw names plus the same non-name fields as ours.

    The raw name is lower-cased and its tokens sorted (orders vary: "Петров Иван" /
    "Иван Петров"); `cl.NameComparison` (exact, Jaro-Winkler 0.92/0.88/0.7) compares it,
    `cl.ExactMatch` the birth year, sex, unit, rank, badge and incident. Blocking on the
    longest, first and last token. Training as in Splink's tutorials: λ from a
    deterministic rule (exact sorted name, recall 0.7), u from random pairs, m by EM in
    two sessions (blocked on the longest token, then on the incident, so that the name
    comparison is trained on pairs not blocked by name). Clustering: connected
    components at 0.95 (the threshold of Splink's clustering example, and our auto
    band), and at the best threshold in hindsight.
    """
    import logging

    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    index = {record_id: i for i, record_id in enumerate(records.ids)}
    rows = []
    for record_id in ids:
        i = index[record_id]
        tokens = [t.lower() for t in records.names[i][0].replace(",", " ").split()]
        rows.append(
            {
                "unique_id": record_id,
                "name": " ".join(sorted(tokens)),
                "first_tok": tokens[0] if tokens else None,
                "last_tok": tokens[-1] if len(tokens) > 1 else None,
                "long_tok": max(tokens, key=len).strip(".") if tokens else None,
                "birth_year": records.birth_year[i] if records.birth_year[i] > 0 else None,
                "sex": {0: "male", 1: "female"}.get(records.sex[i]),
                "unit": records.unit[i],
                "rank": records.rank[i],
                "badge": records.badge[i],
                "incident": records.incident[i],
            }
        )
    started = time.perf_counter()
    db_api = DuckDBAPI()
    frame = db_api.register(pd.DataFrame(rows))
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("long_tok"),
            block_on("first_tok"),
            block_on("last_tok"),
        ],
        comparisons=[
            cl.NameComparison("name"),
            *(cl.ExactMatch(c) for c in ("birth_year", "sex", "unit", "rank", "badge", "incident")),
        ],
    )
    linker = Linker(frame, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match([block_on("name")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("long_tok"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("incident"))
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.95
    ).as_pandas_dataframe()
    seconds = time.perf_counter() - started
    cluster_of = dict(zip(clusters["unique_id"], clusters["cluster_id"], strict=True))
    default = cluster_quality([cluster_of[i] for i in ids], truth)
    pairs = predictions.as_pandas_dataframe()[["unique_id_l", "unique_id_r", "match_probability"]]
    at = {record_id: k for k, record_id in enumerate(ids)}
    best: tuple[float, Quality] | None = None
    for threshold in (0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99):
        parent = list(range(len(ids)))
        for left, right, p in pairs.itertuples(index=False):
            if p >= threshold:
                parent[_find(parent, at[left])] = _find(parent, at[right])
        quality = cluster_quality([_find(parent, k) for k in range(len(ids))], truth)
        if best is None or quality.f1 > best[1].f1:
            best = (threshold, quality)
    assert best is not None
    return {
        "seconds": seconds,
        "default": default,
        "best_threshold": best[0],
        "best": best[1],
        "pairs": len(pairs),
    }


def _record_person_f1(figure: str, q: Quality, command: str, note: str | None = None) -> None:
    """Person F1 against the goal of issue #3; the note gives precision, recall and B-cubed unless told."""
    record(
        "linking",
        figure,
        round(q.f1, 4),
        "",
        goal=">= 0.95",
        met=q.f1 >= 0.95,
        command=command,
        note=note or f"P {q.precision:.3f} R {q.recall:.3f} B3 {q.bcubed_f1:.3f}",
    )


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def run_size(scale: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        store = Store.open(Settings(data_dir=data_dir), create=True)
        started = time.perf_counter()
        generate(store, data_dir, DemoConfig(scale=scale, seed=7))
        demo_s = time.perf_counter() - started
        ctx = ServiceContext(store, Actor("bench"))
        started = time.perf_counter()
        report = linking.link_register(ctx, full=True)
        link_s = time.perf_counter() - started
        mention = table_of("mention")
        with store.read() as conn:
            rows = conn.execute(
                select(mention.c.id, mention.c.raw_name, mention.c.person_id).where(
                    mention.c.raw_name.is_not(None)
                )
            ).all()
        truth_map = {
            r["mention_id"]: r["true_identity"]
            for r in csv.DictReader((data_dir / "ground_truth" / "mentions.csv").open(encoding="utf-8"))
        }
        ids = [r.id for r in rows]
        truth = [truth_map[i] for i in ids]
        ours = cluster_quality([r.person_id for r in rows], truth)
        started = time.perf_counter()
        threshold, base = baseline(ids, [r.raw_name for r in rows], truth)
        base_s = time.perf_counter() - started
        with store.read() as conn:
            records = load_records(conn, linker_persons=False)
        mention_at = {record_id: i for i, record_id in enumerate(records.ids)}
        started = time.perf_counter()
        deferred = link_persons(records, PersonLinkSettings(defer_ambiguous=True))
        deferred_s = time.perf_counter() - started
        strict = cluster_quality([int(deferred.cluster_of[mention_at[i]]) for i in ids], truth)
        splink = splink_baseline(records, ids, truth)
        reports = _report_quality(store, data_dir)
        missing = _missing_quality(store, data_dir)
        p50, p95 = _incremental_latency(store, [r.id for r in rows])
        store.close()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "scale": scale,
        "named_mentions": len(ids),
        "demo_s": demo_s,
        "link_s": link_s,
        "pairs": report.stats.get("pairs"),
        "ours": ours,
        "baseline_threshold": threshold,
        "baseline": base,
        "baseline_s": base_s,
        "strict": strict,
        "strict_s": deferred_s,
        "ambiguous": len(deferred.ambiguous),
        "splink": splink,
        "peak_rss_mib": peak_mib,
        "reports": reports,
        "missing_top1": missing,
        "incremental_ms": (p50, p95),
    }


def _truth(data_dir: Path, name: str) -> list[dict[str, str]]:
    with (data_dir / "ground_truth" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _report_quality(store: Store, data_dir: Path) -> Quality:
    """Testimonies → incidents: the cited incident, else the best suggestion, against the truth."""
    truth = {
        r["source_id"]: r["true_incident_id"] for r in _truth(data_dir, "sources") if r["true_incident_id"]
    }
    link, citation, act = table_of("link"), table_of("citation"), table_of("act")
    predicted: dict[str, str] = {}
    with store.read() as conn:
        for source_id, incident_id in conn.execute(
            select(citation.c.source_id, citation.c.subject_id).where(citation.c.subject_kind == "incident")
        ):
            predicted.setdefault(source_id, incident_id)
        for source_id, incident_id in conn.execute(
            select(citation.c.source_id, act.c.incident_id)
            .select_from(citation.join(act, citation.c.subject_id == act.c.id))
            .where(citation.c.subject_kind == "act")
        ):
            predicted.setdefault(source_id, incident_id)
        cited = set(predicted)
        for source_id, incident_id in conn.execute(
            select(link.c.from_id, link.c.to_id)
            .where(link.c.kind == "source_incident")
            .order_by(link.c.score)
        ):
            if source_id not in cited:
                predicted[source_id] = incident_id  # ordered by score: the best one wins
    uncited = sorted(s for s in truth if s not in cited)
    return cluster_quality([predicted.get(s, s) for s in uncited], [truth[s] for s in uncited])


def _missing_quality(store: Store, data_dir: Path) -> tuple[int, int, int]:
    """(cases whose true custody record exists, of them found as the best suggestion, wrong best suggestions)."""
    truth = {r["missing_case_id"]: r["true_custody_record_id"] for r in _truth(data_dir, "missing")}
    link = table_of("link")
    best: dict[str, str] = {}
    with store.read() as conn:
        for case_id, record_id in conn.execute(
            select(link.c.from_id, link.c.to_id)
            .where(link.c.kind == "missing_custody")
            .order_by(link.c.score)
        ):
            best[case_id] = record_id
    has = [c for c, v in truth.items() if v]
    hits = sum(1 for c in has if best.get(c) == truth[c])
    wrong = sum(1 for c, v in best.items() if truth.get(c) != v)
    return len(has), hits, wrong


def _incremental_latency(store: Store, mention_ids: list[str], n: int = 200) -> tuple[float, float]:
    """Milliseconds to find candidates for one mention against the whole register (p50, p95)."""
    import random

    from svidok.linking.incremental import candidates_for, latest_model
    from svidok.linking.persons import PersonLinkSettings

    sample = random.Random(5).sample(mention_ids, min(n, len(mention_ids)))
    settings = PersonLinkSettings()
    times = []
    with store.read() as conn:
        model = latest_model(conn)
        for mention_id in sample:
            started = time.perf_counter()
            candidates_for(conn, mention_id, model, settings)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.95) - 1]


def open_demo(data_dir: Path) -> Store:
    """An existing demo register made by `svidok demo` (encrypted: SVIDOK_PASSPHRASE unlocks it)."""
    from svidok.crypto.keyring import MasterSecret
    from svidok.services.keys import Protection

    passphrase = os.environ.get("SVIDOK_PASSPHRASE")
    if not passphrase:
        sys.exit("set SVIDOK_PASSPHRASE to the demo register's passphrase")
    return Protection.open(Settings(data_dir=data_dir), MasterSecret(passphrase=passphrase)).store


def truth_dir(data_dir: Path) -> Path:
    """Where `svidok demo` put the ground truth: DATA_DIR-truth/ground_truth (or inside, for `generate`)."""
    beside = data_dir.with_name(data_dir.name + "-truth") / "ground_truth"
    return beside if beside.exists() else data_dir / "ground_truth"


def _write_section(heading: str, body: str) -> None:
    """Replace (or add) one `## heading` section of bench/results/linking.md, keeping the others."""
    out = Path(__file__).resolve().parent / "results" / "linking.md"
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    marker = f"## {heading}"
    if marker in text:
        before, after = text.split(marker, 1)
        rest = after.split("\n## ", 1)
        text = before.rstrip() + "\n\n" + (("## " + rest[1]).rstrip() + "\n\n" if len(rest) > 1 else "")
    out.write_text(text.rstrip() + f"\n\n{marker}\n\n{body.strip()}\n", encoding="utf-8")


def full_link(data_dir: Path) -> None:
    """`svidok link --full` on an existing demo register: wall, CPU and peak RSS of every linker.

    Changes the register (it is linked afterwards); quality of the persons against its truth.
    """
    from svidok.crypto.keyring import MasterSecret
    from svidok.services.keys import Protection

    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    p = Protection.open(Settings(data_dir=data_dir), MasterSecret(passphrase=os.environ["SVIDOK_PASSPHRASE"]))
    ctx = ServiceContext(p.store, Actor("bench", "analyst"), audit=p.audit)
    wall, cpu = time.perf_counter(), time.process_time()
    report = linking.link_register(ctx, full=True, progress=lambda step: print(step, flush=True))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    mention = table_of("mention")
    with p.store.read() as conn:
        rows = conn.execute(
            select(mention.c.id, mention.c.person_id).where(mention.c.raw_name.is_not(None))
        ).all()
    p.close()
    truth = {
        r["mention_id"]: r["true_identity"]
        for r in csv.DictReader((truth_dir(data_dir) / "mentions.csv").open(encoding="utf-8"))
    }
    chosen = [r for r in rows if r.id in truth]
    q = cluster_quality([r.person_id for r in chosen], [truth[r.id] for r in chosen])
    load_after = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    table = "\n".join(
        f"| {step} | {f['wall_s']:.1f} | {f['cpu_s']:.1f} | {f['peak_rss_mib']:,.0f} |"
        for step, f in report.timings.items()
    )
    command = f".venv/bin/python bench/bench_linking.py --full-link {data_dir}"
    n = f"{len(chosen):,} named mentions"
    body = f"""Command: `{command}`; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average before {load_before},
after {load_after} (2 shared cores: CPU time is this process's own). Peak RSS is the process's
high-water mark when the step ended.

| step | wall s | CPU s | peak RSS MiB |
|---|---|---|---|
{table}
| **total** | **{wall:.0f}** | **{cpu:.0f}** | **{peak:,}** |

{n}: P {q.precision:.3f}, R {q.recall:.3f}, **F1 {q.f1:.3f}**, B³ F1 {q.bcubed_f1:.3f};
{report.stats.get("pairs", 0):,} candidate pairs, {report.stats.get("suspect_links", 0):,} suspect links.
"""
    print(body)
    _write_section(f"Full link run of {data_dir.name}", body)
    record(
        "linking",
        f"full link --full at {n}: CPU",
        round(cpu),
        "s",
        command=command,
        note=f"wall {wall:.0f} s, load {load_before} -> {load_after}",
    )
    record("linking", f"full link --full at {n}: peak RSS", peak, "MiB", command=command)
    _record_person_f1(f"person F1 after full link at {n}", q, command)


def write_name_keys(data_dir: Path) -> None:
    """Fill the name_key index of an unlinked demo register, as linking runs and intake leave it.

    For a register too large to link in full on a shared machine: the one-mention look-up
    needs only the index (and uses the untrained model when no full run is stored).
    """
    from svidok.linking import persons as p
    from svidok.services.linking import _write_name_keys

    wall, cpu = time.perf_counter(), time.process_time()
    store = open_demo(data_dir)
    with store.read() as conn:
        records = load_records(conn, linker_persons=True)
    keys_of = p.record_keys(records, p._NameCache())
    with store.begin() as conn:
        written = _write_name_keys(conn, records, keys_of, True)
    store.close()
    print(
        f"{written:,} name_key rows for {len(records):,} records: {time.perf_counter() - wall:.0f} s wall, "
        f"{time.process_time() - cpu:.0f} s CPU, peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB"
    )


def incremental(data_dir: Path, n: int = 300) -> None:
    """p50/p95 of finding candidates for one mention against a linked register (its name_key index).

    The register must have been linked once (`svidok link --full`, or `--name-keys D` to write
    only the index). Each sampled mention is looked up as if it were new: its own rows are in
    the index, and it is left out of its own candidates. Each look-up runs in a fresh name
    cache of the linker (the name engine's own caches stay warm, as in a running server).
    """
    import random

    from svidok.linking.incremental import candidates_for, latest_model

    store = open_demo(data_dir)
    mention, index = table_of("mention"), table_of("name_key")
    with store.read() as conn:
        ids = [r[0] for r in conn.execute(select(mention.c.id).where(mention.c.raw_name.is_not(None)))]
        indexed = conn.execute(select(func.count()).select_from(index)).scalar_one()
        model = latest_model(conn)
    sample = random.Random(5).sample(ids, min(n, len(ids)))
    with store.read() as conn:
        # the worst case: the mentions whose keys' blocks are the largest (common names)
        heavy = [
            row[0]
            for row in conn.exec_driver_sql(
                "WITH sizes AS (SELECT key, count(*) AS n FROM name_key GROUP BY key) "
                "SELECT record_id, sum(n) FROM name_key JOIN sizes USING (key) "
                "WHERE record_id LIKE 'me_%' GROUP BY record_id ORDER BY 2 DESC, 1 LIMIT 100"
            )
        ]
    settings = PersonLinkSettings()

    def timed(chosen: list[str]) -> tuple[list[float], list[float], list[int]]:
        wall_ms, cpu_ms, found = [], [], []
        with store.read() as conn:
            for mention_id in chosen:
                started, cpu = time.perf_counter(), time.process_time()
                got = candidates_for(conn, mention_id, model, settings)
                wall_ms.append((time.perf_counter() - started) * 1000)
                cpu_ms.append((time.process_time() - cpu) * 1000)
                found.append(len(got))
        return sorted(wall_ms), sorted(cpu_ms), found

    def p(values: list[float], q: float) -> float:
        return values[max(int(len(values) * q) - 1, 0)]

    wall_ms, cpu_ms, found = timed(sample)
    heavy_wall, heavy_cpu, _ = timed(heavy)
    store.close()
    p50, p95 = wall_ms[len(wall_ms) // 2], p(wall_ms, 0.95)
    c50, c95 = cpu_ms[len(cpu_ms) // 2], p(cpu_ms, 0.95)
    hw95, hc95 = p(heavy_wall, 0.95), p(heavy_cpu, 0.95)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"{len(ids):,} named mentions, {indexed:,} name_key rows; {len(sample)} look-ups: "
        f"wall p50 {p50:.1f} ms p95 {p95:.1f} ms, CPU p50 {c50:.1f} ms p95 {c95:.1f} ms; "
        f"mean candidates {sum(found) / len(found):.1f}; the {len(heavy)} with the largest blocks: "
        f"wall p95 {hw95:.1f} ms, CPU p95 {hc95:.1f} ms; peak RSS {rss} MiB; load {load}"
    )
    command = f".venv/bin/python bench/bench_linking.py --incremental {data_dir}"
    _write_section(
        f"One new mention against {data_dir.name}",
        f"""Command: `{command}`; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load}.

{len(ids):,} named mentions, {indexed:,} `name_key` rows; {len(sample)} look-ups (`candidates_for`):
wall p50 **{p50:.1f} ms**, p95 **{p95:.1f} ms**; CPU p50 {c50:.1f} ms, p95 {c95:.1f} ms; on average
{sum(found) / len(found):.1f} persons returned; peak RSS {rss} MiB. The {len(heavy)} mentions whose
keys have the largest blocks (the worst case): wall p95 {hw95:.1f} ms, CPU p95 {hc95:.1f} ms.
""",
    )
    record(
        "linking",
        f"one mention candidates p95 against {len(ids):,} mentions",
        round(p95, 1),
        "ms",
        goal="<= 50 at 1,000,000 mentions",
        met=p95 <= 50 if len(ids) >= 1_000_000 else None,
        command=command,
        note=f"p50 {p50:.1f} ms, CPU p95 {c95:.1f} ms; largest blocks CPU p95 {hc95:.1f} ms; load {load}",
    )


def phases(data_dir: Path) -> None:
    """Where the person linker's time goes on an existing demo register (wall and CPU per phase).

    Build the register first: `svidok --data-dir D demo --scale 100000 --seed 7 --no-serve --no-link`.
    """
    import numpy as np

    from svidok.linking import fellegi_sunter as fs
    from svidok.linking import persons as p

    rows: list[tuple[str, float, float, int]] = []
    wall, cpu = time.perf_counter(), time.process_time()

    def step(name: str) -> None:
        nonlocal wall, cpu
        now_wall, now_cpu = time.perf_counter(), time.process_time()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        rows.append((name, now_wall - wall, now_cpu - cpu, rss))
        print(
            f"{name}: {now_wall - wall:.1f} s wall, {now_cpu - cpu:.1f} s CPU, peak RSS {rss} MiB", flush=True
        )
        wall, cpu = now_wall, now_cpu

    store = open_demo(data_dir)
    with store.read() as conn:
        records = load_records(conn, linker_persons=False)
    store.close()
    step(f"load {len(records):,} records")
    settings, cache = PersonLinkSettings(), p._NameCache()
    distinct = {raw for names in records.names for raw in names}
    for raw in distinct:
        cache.kid(raw)
    step(f"name keys of {len(distinct):,} distinct names ({len(cache.by_kid):,} distinct keys)")
    keys_of = p.record_keys(records, cache)
    initial_only = [not any(cache.full_given(raw) for raw in names) for names in records.names]
    order = p._sort_keys(records, cache) if settings.window > 0 else None
    left, right, oversized = p.candidate_pairs(
        records, keys_of, settings.max_block, initial_only, order, settings.window
    )
    step(
        f"blocking: {len(left):,} candidate pairs ({oversized} blocks over {settings.max_block} "
        + (f"by sorted neighbourhood, window {settings.window})" if settings.window else "skipped)")
    )
    columns = p._name_columns(records, cache)
    gammas = p.comparison_levels(records, cache, left, right, settings, columns)
    step("comparison levels (name engine once per distinct pair of name keys)")
    rng = np.random.default_rng(settings.seed)
    size = min(settings.u_sample_pairs, len(records) * 4)
    ra, rb = rng.integers(0, len(records), size=size), rng.integers(0, len(records), size=size)
    u = fs.estimate_u(
        p.comparison_levels(records, cache, ra[ra != rb], rb[ra != rb], settings, columns), p.FEATURES
    )
    model = fs.train_em(
        gammas, p.FEATURES, prior=settings.prior, max_iterations=settings.em_iterations, fixed_u=u
    )
    weight = fs.match_weights(model, gammas)
    step("u from random pairs, EM")
    pairs = p.PairScores(left, right, gammas, 1.0 / (1.0 + np.exp2(-weight)), weight)
    result = p.cluster(records, pairs, settings, cache)
    step(f"clustering ({result.stats['refused_merges']:,} merges refused)")
    truth = {
        r["mention_id"]: r["true_identity"]
        for r in csv.DictReader((truth_dir(data_dir) / "mentions.csv").open(encoding="utf-8"))
    }
    chosen = [k for k, record_id in enumerate(records.ids) if record_id in truth]
    q = cluster_quality([int(result.cluster_of[k]) for k in chosen], [truth[records.ids[k]] for k in chosen])
    total_wall, total_cpu = sum(r[1] for r in rows), sum(r[2] for r in rows)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{len(chosen):,} named mentions: P {q.precision:.3f} R {q.recall:.3f} F1 {q.f1:.3f} B3 {q.bcubed_f1:.3f}; "
        f"{total_wall:.0f} s wall, {total_cpu:.0f} s CPU; load {load}"
    )
    command = f".venv/bin/python bench/bench_linking.py --phases {data_dir}"
    _write_phases(rows, q, len(chosen), total_wall, total_cpu, load, command)
    n = f"{len(chosen):,} named mentions"
    _record_person_f1(f"person F1 at {n} (phases run)", q, command)
    record(
        "linking",
        f"person linking CPU at {n}",
        round(total_cpu),
        "s",
        goal="<= 60 at 1,000,000 mentions",
        met=False,
        command=command,
        note=f"wall {total_wall:.0f} s at load {load}",
    )
    record("linking", f"person linking peak RSS at {n}", rows[-1][3], "MiB", command=command)


def ceiling(data_dir: Path) -> None:
    """How many named mentions fit two or more of the demo's identities on what the records say.

    For each named mention: the identities (among those the register mentions) whose
    Russian or Belarusian full name the name engine accepts (score >= its threshold),
    with the same sex, a birth year within one year and the same side (officer or
    civilian) where the mention gives them; narrowed to those of them named in full
    (given name, patronymic, surname) by another mention of the same incident, if any.
    A mention with two or more such identities cannot be attributed from the records.
    Two oracle policies, perfect on all other mentions, bound what a linker can do.
    """
    from svidok.linking.persons import _NameCache, _specific
    from svidok.names import THRESHOLD, name_keys
    from svidok.names.compare import fast_score

    store = Store.open(Settings(data_dir=data_dir), create=True)
    with store.read() as conn:
        records = load_records(conn, linker_persons=False)
    store.close()
    truth = {r["mention_id"]: r["true_identity"] for r in _truth(data_dir, "mentions")}
    identities = {r["true_identity"]: r for r in _truth(data_dir, "identities")}
    chosen = [i for i in range(len(records)) if not records.is_person[i] and records.ids[i] in truth]
    true_of = {i: truth[records.ids[i]] for i in chosen}
    mentioned: dict[str, int] = {}
    for t in true_of.values():
        mentioned[t] = mentioned.get(t, 0) + 1
    index: dict[str, set[str]] = {}
    keys_of_identity = {}
    for t in mentioned:
        row = identities[t]
        keys = [name_keys(row["name_ru"]), name_keys(row["name_be"])]
        keys_of_identity[t] = keys
        for k in keys:
            for parse in k.parses:
                for part in parse.surname:
                    for c in part.classes:
                        index.setdefault("s" + c, set()).add(t)
                for part in parse.given:
                    for c in part.classes | part.dims:
                        index.setdefault("g" + c, set()).add(t)
    cache = _NameCache()
    sexes = {"male": 0, "female": 1}
    fits: dict[int, set[str]] = {}
    for i in chosen:
        mk = cache.key(records.names[i][0])
        lookup = set()
        for parse in mk.parses:
            lookup |= {"s" + c for part in parse.surname for c in part.classes}
            if not parse.surname:
                lookup |= {"g" + c for part in parse.given for c in part.classes | part.dims}
        found = {true_of[i]}
        for t in set().union(*(index.get(k, set()) for k in lookup)) if lookup else ():
            row = identities[t]
            if max(fast_score(mk, k) for k in keys_of_identity[t]) < THRESHOLD:
                continue
            if records.sex[i] >= 0 and sexes.get(row["sex"], records.sex[i]) != records.sex[i]:
                continue
            year = records.birth_year[i]
            if year > 0 and row["birth_date"] and abs(int(row["birth_date"][:4]) - year) > 1:
                continue
            if records.side[i] >= 0 and (row["kind"] == "officer") != (records.side[i] == 1):
                continue
            found.add(t)
        fits[i] = found
    full_in: dict[str, list[int]] = {}
    for i in chosen:
        incident = records.incident[i]
        if incident and _specific(records, i, cache):
            full_in.setdefault(incident, []).append(i)
    for i in chosen:
        incident = records.incident[i]
        if len(fits[i]) > 1 and incident:
            here = {
                true_of[j]
                for j in full_in.get(incident, [])
                if j != i
                and true_of[j] in fits[i]
                and cache.score(records.names[i], records.names[j]) >= THRESHOLD
            }
            if here:
                fits[i] = here
    ambiguous = [i for i in chosen if len(fits[i]) > 1]
    truth_list = [true_of[i] for i in chosen]
    alone = cluster_quality([true_of[i] if len(fits[i]) == 1 else f"alone {i}" for i in chosen], truth_list)
    guess = cluster_quality(
        [
            true_of[i] if len(fits[i]) == 1 else max(sorted(fits[i]), key=lambda t: mentioned[t])
            for i in chosen
        ],
        truth_list,
    )
    share = len(ambiguous) / len(chosen)
    print(f"{len(ambiguous):,} of {len(chosen):,} named mentions ({share:.1%}) fit two or more identities")
    for label, q in (("left alone", alone), ("most-mentioned guess", guess)):
        print(
            f"oracle, ambiguous {label}: P {q.precision:.3f} R {q.recall:.3f} F1 {q.f1:.3f} B3 {q.bcubed_f1:.3f}"
        )
    command = f".venv/bin/python bench/bench_linking.py --ceiling {data_dir}"
    n = f"{len(chosen):,} named mentions"
    record(
        "linking",
        f"share of mentions fitting 2+ identities, {n}",
        round(share, 4),
        "",
        command=command,
        note=f"{len(ambiguous)} mentions",
    )
    record(
        "linking",
        f"oracle F1 ceiling estimate, {n}",
        round(max(alone.f1, guess.f1), 4),
        "",
        command=command,
        note=f"left alone {alone.f1:.3f}, most-mentioned guess {guess.f1:.3f}",
    )


PHASES_HEADING = "## Person-linking phases on an existing demo register"


def _write_phases(
    rows: list[tuple[str, float, float, int]],
    q: Quality,
    mentions: int,
    total_wall: float,
    total_cpu: float,
    load: str,
    command: str,
) -> None:
    """Replace (or add) the phases section of bench/results/linking.md."""
    table = "\n".join(f"| {name} | {w:.1f} | {c:.1f} | {rss:,} |" for name, w, c, rss in rows)
    body = f"""Command: `{command}`; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average after the run {load}
(2 cores shared: wall time is inflated by the other jobs, CPU time is this process's own).

| phase | wall s | CPU s | peak RSS MiB |
|---|---|---|---|
{table}
| **total** | **{total_wall:.0f}** | **{total_cpu:.0f}** | |

{mentions:,} named mentions: P {q.precision:.3f}, R {q.recall:.3f}, **F1 {q.f1:.3f}**, B³ F1 {q.bcubed_f1:.3f}.
"""
    _write_section(PHASES_HEADING.removeprefix("## "), body)


def _fmt(q: Quality) -> str:
    return f"{q.precision:.3f} / {q.recall:.3f} / **{q.f1:.3f}** / {q.bcubed_f1:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--out", type=Path, default=Path("bench/results/linking.md"))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--phases", type=Path, help="time the person linker's phases on this demo register")
    parser.add_argument("--full-link", type=Path, help="svidok link --full on this demo register, timed")
    parser.add_argument("--name-keys", type=Path, help="write only the name_key index of this demo register")
    parser.add_argument(
        "--incremental", type=Path, help="latency of linking one mention against this linked demo register"
    )
    parser.add_argument(
        "--ceiling", type=Path, help="mentions of this demo register no record information resolves"
    )
    args = parser.parse_args()
    # each of these modes works on one existing demo register and writes its own section
    modes = {
        "phases": phases,
        "ceiling": ceiling,
        "full_link": full_link,
        "name_keys": write_name_keys,
        "incremental": incremental,
    }
    for option, mode in modes.items():
        if getattr(args, option):
            mode(getattr(args, option))
            return
    if args.one:
        result = run_size(args.one)
        print(repr(result))
        return
    command = f".venv/bin/python bench/bench_linking.py --sizes {' '.join(map(str, args.sizes))}"
    quality = [
        "| testimonies | named mentions | ours P / R / F1 / B³ | ours, partial names two persons fit left to review | "
        "Splink at 0.95 | Splink, best threshold | rapidfuzz JW, best threshold | F1 ours / Splink best | "
        "F1 ours / rapidfuzz | load before |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    speed = [
        "| testimonies | demo build (s) | full link run (s) | candidate pairs | our persons only, strict (s) | "
        "Splink train+predict+cluster (s) | Splink pairs ≥ 0.01 | rapidfuzz (s) | one mention p50/p95 ms | "
        "reports→incidents P/R/F1/B³ | missing→custody found/of/wrong | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in args.sizes:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        out = (
            subprocess.run(
                [sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        r = eval(out, {"Quality": Quality})  # noqa: S307 - our own subprocess's repr
        ours, base, strict, sp = r["ours"], r["baseline"], r["strict"], r["splink"]
        ratio_sp = ours.f1 / sp["best"].f1 if sp["best"].f1 else float("inf")
        ratio_rf = ours.f1 / base.f1 if base.f1 else float("inf")
        quality.append(
            f"| {size:,} | {r['named_mentions']:,} | {_fmt(ours)} | {_fmt(strict)} ({r['ambiguous']:,} held) | "
            f"{_fmt(sp['default'])} | {_fmt(sp['best'])} (≥ {sp['best_threshold']}) | "
            f"{_fmt(base)} (≥ {r['baseline_threshold']}) | {ratio_sp:.2f} | {ratio_rf:.2f} | {load} |"
        )
        rep, miss = r["reports"], r["missing_top1"]
        speed.append(
            f"| {size:,} | {r['demo_s']:.0f} | {r['link_s']:.1f} | {r['pairs']:,} | {r['strict_s']:.1f} | "
            f"{sp['seconds']:.1f} | {sp['pairs']:,} | {r['baseline_s']:.1f} | "
            f"{r['incremental_ms'][0]:.1f} / {r['incremental_ms'][1]:.1f} | "
            f"{rep.precision:.3f} / {rep.recall:.3f} / {rep.f1:.3f} / {rep.bcubed_f1:.3f} | "
            f"{miss[1]} / {miss[0]} / {miss[2]} | {r['peak_rss_mib']:.0f} |"
        )
        print(quality[-1], speed[-1], sep="\n", flush=True)
        n = f"{size:,} testimonies"
        _record_person_f1(f"person F1 at {n}", ours, command, note=f"load {load}")
        record("linking", f"person precision at {n}", round(ours.precision, 4), "", command=command)
        record("linking", f"person recall at {n}", round(ours.recall, 4), "", command=command)
        record("linking", f"person B3 F1 at {n}", round(ours.bcubed_f1, 4), "", command=command)
        record(
            "linking",
            f"person F1, ambiguous partial names to review, at {n}",
            round(strict.f1, 4),
            "",
            command=command,
            note=f"P {strict.precision:.3f} R {strict.recall:.3f}",
        )
        record("linking", f"Splink F1 at 0.95, {n}", round(sp["default"].f1, 4), "", command=command)
        record(
            "linking",
            f"Splink F1 best threshold, {n}",
            round(sp["best"].f1, 4),
            "",
            command=command,
            note=f"threshold {sp['best_threshold']}",
        )
        record("linking", f"rapidfuzz JW F1 best threshold, {n}", round(base.f1, 4), "", command=command)
        record(
            "linking",
            f"F1 ours / Splink best, {n}",
            round(ratio_sp, 2),
            "ratio",
            goal="> 1",
            met=ratio_sp > 1,
            command=command,
        )
        record(
            "linking",
            f"F1 ours / rapidfuzz best, {n}",
            round(ratio_rf, 2),
            "ratio",
            goal="> 1",
            met=ratio_rf > 1,
            command=command,
        )
        record(
            "linking",
            f"full link run at {n}",
            round(r["link_s"], 1),
            "s",
            command=command,
            note=f"load {load}",
        )
        record("linking", f"Splink run at {n}", round(sp["seconds"], 1), "s", command=command)
        record("linking", f"peak RSS at {n}", round(r["peak_rss_mib"]), "MiB", command=command)
    lines = [
        "# Linking: mention → person on the demo ground truth, beside Splink and rapidfuzz",
        "",
        f"Command: `{command}` (each size in its own process); {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, {os.cpu_count()} cores shared with other engineers' jobs, "
        f"Python {platform.python_version()}. Demo seed 7. Load average (1, 5, 15 min) before each size "
        "in the last column.",
        "",
        "Pairwise P / R / F1 / B³ F1 over named mentions against the demo's ground truth. Ours: the "
        "full `svidok link --full` service with default settings; the strict variant is the same "
        "linker with `defer_ambiguous=True`. Splink and rapidfuzz: see `splink_baseline` and `baseline` "
        "in the script (raw names; Splink gets the same birth year, sex, unit, rank, badge and incident).",
        "",
        *quality,
        "",
        *speed,
        "",
        "Error analysis, the ceiling of this demo and the 100,000-testimony run: `docs/linking.md`.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    kept = ""
    if args.out.exists() and PHASES_HEADING in (old := args.out.read_text(encoding="utf-8")):
        kept = PHASES_HEADING + old.split(PHASES_HEADING, 1)[1]  # from a --phases run
    args.out.write_text("\n".join(lines) + ("\n" + kept if kept else ""), encoding="utf-8")


if __name__ == "__main__":
    main()
