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
import platform
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from rapidfuzz.distance import JaroWinkler
from sqlalchemy import select

from svidok.demo.generator import DemoConfig, generate
from svidok.linking.evaluate import Quality, cluster_quality
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
    truth = {r["source_id"]: r["true_incident_id"] for r in _truth(data_dir, "sources") if r["true_incident_id"]}
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
            select(link.c.from_id, link.c.to_id).where(link.c.kind == "source_incident").order_by(link.c.score)
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
            select(link.c.from_id, link.c.to_id).where(link.c.kind == "missing_custody").order_by(link.c.score)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--out", type=Path, default=Path("bench/results/linking.md"))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        result = run_size(args.one)
        print(repr(result))
        return
    lines = [
        "# Linking: mention → person on the demo ground truth",
        "",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}; "
        f"{datetime.now(UTC):%Y-%m-%d}. Command: `.venv/bin/python bench/bench_linking.py --sizes "
        f"{' '.join(map(str, args.sizes))}` (each size in its own process).",
        "",
        "| testimonies | named mentions | full link run (s) | pairs | P | R | F1 | B³ F1 | baseline JW F1 (best thr.) | ratio | one mention p50/p95 ms | reports→incidents P/R/F1/B³ | missing→custody found/of/wrong | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in args.sizes:
        out = (
            subprocess.run(
                [sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        r = eval(out, {"Quality": Quality})  # noqa: S307 - our own subprocess's repr
        ours, base = r["ours"], r["baseline"]
        row = (
            f"| {size:,} | {r['named_mentions']:,} | {r['link_s']:.1f} | {r['pairs']:,} | {ours.precision:.3f} | "
            f"{ours.recall:.3f} | {ours.f1:.3f} | {ours.bcubed_f1:.3f} | {base.f1:.3f} ({r['baseline_threshold']}) | "
            f"{ours.f1 / base.f1 if base.f1 else float('nan'):.2f} | "
            f"{r['incremental_ms'][0]:.1f} / {r['incremental_ms'][1]:.1f} | "
            f"{r['reports'].precision:.3f} / {r['reports'].recall:.3f} / {r['reports'].f1:.3f} / {r['reports'].bcubed_f1:.3f} | "
            f"{r['missing_top1'][1]} / {r['missing_top1'][0]} / {r['missing_top1'][2]} | {r['peak_rss_mib']:.0f} |"
        )
        print(row, flush=True)
        lines.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
