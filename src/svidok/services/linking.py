"""Running the linking engine over the register and writing what it found.

`link_register` runs every linker (persons, evidence ↔ incidents, suspects) and
writes their results: new persons for clusters without one, each mention's
person, machine links with scores and explanations. Human decisions are
respected: pinned mentions keep their person, rejected pairs are never linked,
confirmed and rejected link rows are never changed.
"""

from __future__ import annotations

import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, bindparam, delete, exists, or_, select, update

from svidok.access.compartments import copy_compartments
from svidok.domain.values import new_id
from svidok.linking import fellegi_sunter as fs
from svidok.linking.evidence import EvidenceLinkSettings, suggest_evidence_links
from svidok.linking.incremental import PersonCandidate, candidates_and_keys, latest_model
from svidok.linking.missing import MissingLinkSettings, suggest_missing_links
from svidok.linking.persons import PersonLinkResult, PersonLinkSettings, link_persons
from svidok.linking.records import LinkRecords, load_records
from svidok.linking.reports import ReportLinkSettings, suggest_report_links
from svidok.linking.suspects import SuspectSettings, as_suggestions, suspect_candidates
from svidok.services.context import ServiceContext, utc_now
from svidok.services.review import PERSON_REFERENCES
from svidok.store.links import Suggestion, write_suggestions
from svidok.store.register import insert_rows, table_of

UPDATE_BATCH = 10_000


@dataclass
class LinkSettings:
    persons: PersonLinkSettings = field(default_factory=PersonLinkSettings)
    evidence: EvidenceLinkSettings = field(default_factory=EvidenceLinkSettings)
    reports: ReportLinkSettings = field(default_factory=ReportLinkSettings)
    missing: MissingLinkSettings = field(default_factory=MissingLinkSettings)
    suspects: SuspectSettings = field(default_factory=SuspectSettings)


@dataclass
class LinkReport:
    stats: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    result: PersonLinkResult | None = None
    records: LinkRecords | None = None
    #: per step: wall and CPU seconds, and the process's peak RSS (MiB) when it ended
    timings: dict[str, dict[str, float]] = field(default_factory=dict)


Progress = Callable[[str], None]


class _Steps:
    """Progress messages, and the wall time, CPU time and peak memory of each step."""

    def __init__(self, say: Progress, timings: dict[str, dict[str, float]]) -> None:
        self._say, self._timings = say, timings
        self._name: str | None = None
        self._wall = self._cpu = 0.0

    def __call__(self, name: str, message: str | None = None) -> None:
        self.end()
        self._say(message or name)
        self._name, self._wall, self._cpu = name, time.perf_counter(), time.process_time()

    def end(self) -> None:
        if self._name is not None:
            self._timings[self._name] = {
                "wall_s": round(time.perf_counter() - self._wall, 2),
                "cpu_s": round(time.process_time() - self._cpu, 2),
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        self._name = None


def link_register(
    ctx: ServiceContext,
    settings: LinkSettings | None = None,
    progress: Progress | None = None,
    *,
    full: bool = False,
) -> LinkReport:
    """Run every linker and write the results in one transaction.

    Without `full`, mentions that already have a person keep it and only the
    others are linked; with `full`, every machine decision is made afresh
    (human decisions still stand) and stale machine links are removed.
    """
    ctx.require("link.run")
    settings = settings or LinkSettings()
    report = LinkReport()
    say = _Steps(progress or (lambda _step: None), report.timings)
    started = utc_now()
    with ctx.store.read() as conn:
        say("load", "loading mentions and persons")
        records = load_records(conn, linker_persons=not full)
    if not full:
        for i, current in enumerate(records.current_person):
            if current is not None and not records.is_person[i]:
                records.pinned.setdefault(records.ids[i], current)
    say("persons", f"linking {len(records):,} mentions and persons")
    result = link_persons(records, settings.persons)
    report.result, report.records = result, records
    report.model = result.model.as_dict()
    report.stats.update(result.stats)
    with ctx.store.begin() as conn:
        say("write persons", "writing persons and mention links")
        report.stats.update(_write_persons(conn, records, result, settings.persons, full))
        say("reports", "matching reports to incidents")
        reports = suggest_report_links(conn, settings.reports)
        stale = ("source_incident", settings.reports.method) if full else None
        report.stats["report_links"] = write_suggestions(
            conn, reports, now=utc_now(), replace_stale=stale
        ).written
        say("missing", "matching missing persons to custody records and testimonies")
        missing = suggest_missing_links(conn, settings.missing)
        for kind in ("missing_custody", "missing_mention"):
            stale = (kind, settings.missing.method) if full else None
            chosen = [s for s in missing if s.kind == kind]
            report.stats[f"{kind}_links"] = write_suggestions(
                conn, chosen, now=utc_now(), replace_stale=stale
            ).written
        say("evidence", "matching evidence to incidents")
        evidence = suggest_evidence_links(conn, settings.evidence)
        stale = ("evidence_incident", settings.evidence.method) if full else None
        written = write_suggestions(conn, evidence, now=utc_now(), replace_stale=stale)
        report.stats["evidence_links"] = written.written
        say("suspects", "ranking suspect candidates")
        suspects = as_suggestions(suspect_candidates(conn, settings.suspects), settings.suspects)
        stale = ("suspect_act", settings.suspects.method) if full else None
        written = write_suggestions(conn, suspects, now=utc_now(), replace_stale=stale)
        report.stats["suspect_links"] = written.written
        say("name keys", "storing name keys")
        report.stats["name_keys"] = _write_name_keys(conn, records, result.keys_of, full)
        say("commit", "recording the run")
        run_id = new_id("link_run")
        conn.execute(
            table_of("link_run").insert(),
            {
                "id": run_id,
                "started_at": started,
                "finished_at": utc_now(),
                "actor": ctx.actor.name,
                "full": full,
                "settings": {
                    "persons": settings.persons.as_dict(),
                    "evidence": settings.evidence.as_dict(),
                    "reports": settings.reports.as_dict(),
                    "missing": settings.missing.as_dict(),
                    "suspects": settings.suspects.as_dict(),
                },
                "model": report.model,
                "stats": {k: int(v) for k, v in report.stats.items()},
            },
        )
        ctx.record(
            conn,
            "link.run",
            "link_run",
            run_id,
            {"full": full, "figures": sorted(f"{k}:{int(v)}" for k, v in report.stats.items())},
        )
    say.end()
    return report


def _write_name_keys(conn: Connection, records: LinkRecords, keys_of: list[set[str]], full: bool) -> int:
    """Blocking keys for linking single new mentions later; rebuilt by a full run."""
    table = table_of("name_key")
    if full:
        conn.execute(delete(table))
        present: set[str] = set()
    else:
        present = {row[0] for row in conn.execute(select(table.c.record_id).distinct())}
    rows = (
        {"key": key[:120], "record_id": records.ids[i]}
        for i, keys in enumerate(keys_of)
        if records.ids[i] not in present
        for key in sorted(keys)
    )
    return insert_rows(conn, table, rows)


def _remove_orphans(conn: Connection) -> int:
    """Persons the linker made that nothing refers to any more."""
    person = table_of("person")
    still_used = [
        exists().where(table_of(kind).c[column] == person.c.id) for kind, column in PERSON_REFERENCES
    ]
    link = table_of("link")
    still_used.append(
        exists().where(
            and_(
                link.c.status.in_(("confirmed", "rejected")),
                or_(link.c.to_id == person.c.id, link.c.from_id == person.c.id),
            )
        )
    )
    result = conn.execute(delete(person).where(person.c.origin == "linker", *(~used for used in still_used)))
    return result.rowcount or 0


def _write_persons(
    conn: Connection,
    records: LinkRecords,
    result: PersonLinkResult,
    settings: PersonLinkSettings,
    full: bool,
) -> dict[str, int]:
    """New persons, changed mention→person assignments, auto links and review suggestions."""
    person = table_of("person")
    new_rows = []
    for person_id, indices in result.new_persons.items():
        mentions = [i for i in indices if not records.is_person[i] and records.ids[i] not in records.pinned]
        if not mentions:
            continue
        names = [records.names[i][0] for i in mentions]
        sexes = Counter(records.sex[i] for i in mentions if records.sex[i] >= 0)
        sex = {0: "male", 1: "female"}.get(sexes.most_common(1)[0][0], "unknown") if sexes else "unknown"
        new_rows.append(
            {
                "id": person_id,
                "primary_name": max(names, key=lambda n: (len(n.split()), len(n), n))[:300],
                "pseudonym": "P-" + person_id[3:11],
                "sex": sex,
                "origin": "linker",
            }
        )
    existing = (
        {
            row[0]
            for row in conn.execute(select(person.c.id).where(person.c.id.in_([r["id"] for r in new_rows])))
        }
        if new_rows
        else set()
    )
    new_rows = [row for row in new_rows if row["id"] not in existing]
    insert_rows(conn, person, new_rows)
    made = {row["id"] for row in new_rows}
    copy_compartments(
        conn,
        (
            ("person", person_id, "mention", records.ids[i])
            for person_id, indices in result.new_persons.items()
            if person_id in made
            for i in indices
            if not records.is_person[i]
        ),
    )

    changes = []
    for i, record_id in enumerate(records.ids):
        if records.is_person[i] or record_id in records.pinned:
            continue
        assigned = result.person_of_cluster[int(result.cluster_of[i])]
        if records.current_person[i] != assigned:
            changes.append({"m": record_id, "p": assigned})
    mention = table_of("mention")
    statement = update(mention).where(mention.c.id == bindparam("m")).values(person_id=bindparam("p"))
    for start in range(0, len(changes), UPDATE_BATCH):
        conn.execute(statement, changes[start : start + UPDATE_BATCH])

    links = list(_person_links(records, result, settings))
    stale = ("mention_person", settings.method) if full else None
    written = write_suggestions(conn, links, now=utc_now(), replace_stale=stale)
    return {
        "new_persons": len(new_rows),
        "mentions_reassigned": len(changes),
        "person_links": written.written,
        "orphan_persons_removed": _remove_orphans(conn) if full else 0,
    }


def _person_links(records: LinkRecords, result: PersonLinkResult, settings: PersonLinkSettings) -> Any:
    pairs, model = result.pairs, result.model
    cluster_of, person_of = result.cluster_of, result.person_of_cluster
    best: dict[int, int] = {}
    for auto in np.flatnonzero(pairs.probability >= settings.auto_threshold):
        k = int(auto)
        a, b = int(pairs.left[k]), int(pairs.right[k])
        if cluster_of[a] != cluster_of[b]:
            continue
        for i in (a, b):
            if not records.is_person[i] and (
                i not in best or pairs.probability[k] > pairs.probability[best[i]]
            ):
                best[i] = int(k)
    for i, k in sorted(best.items()):
        if records.ids[i] in records.pinned:
            continue
        probability = float(pairs.probability[k])
        yield Suggestion(
            "mention_person",
            records.ids[i],
            person_of[int(cluster_of[i])],
            probability,
            [
                f"auto-linked: probability {probability:.3f} ≥ {settings.auto_threshold}",
                *fs.explain(model, pairs.gammas[k]),
            ],
            settings.method,
            status="auto",
        )
    in_band = (pairs.probability >= settings.review_threshold) & (pairs.probability < settings.auto_threshold)
    if result.ambiguous:  # partial names two persons fit: every such person goes to review
        held = np.zeros(len(records), dtype=bool)
        held[sorted(result.ambiguous)] = True
        in_band |= (pairs.probability >= settings.auto_threshold) & (held[pairs.left] | held[pairs.right])
    review = np.flatnonzero(in_band)
    seen: set[tuple[str, str]] = set()
    for k in (int(x) for x in review):
        a, b = int(pairs.left[k]), int(pairs.right[k])
        if cluster_of[a] == cluster_of[b]:
            continue
        mention_index, other = (a, b) if not records.is_person[a] else (b, a)
        mention_id = records.ids[mention_index]
        target = person_of[int(cluster_of[other])]
        if (mention_id, target) in records.rejected or (mention_id, target) in seen:
            continue
        seen.add((mention_id, target))
        probability = float(pairs.probability[k])
        yield Suggestion(
            "mention_person",
            mention_id,
            target,
            probability,
            [
                f"review: probability {probability:.3f}"
                + (", but another person fits as well" if mention_index in result.ambiguous else ""),
                *fs.explain(model, pairs.gammas[k]),
            ],
            settings.method,
        )


def link_new_mention(
    ctx: ServiceContext, mention_id: str, settings: PersonLinkSettings | None = None
) -> list[PersonCandidate]:
    """Link one new mention against the register now (the interactive path at intake).

    Its name keys join the index; above the auto threshold it is assigned to the
    best person, in the review band the candidates wait for a reviewer.
    """
    ctx.require_record("record.update", "mention", mention_id)
    settings = settings or PersonLinkSettings()
    mention, index = table_of("mention"), table_of("name_key")
    with ctx.store.begin() as conn:
        candidates, keys = candidates_and_keys(conn, mention_id, latest_model(conn), settings)
        conn.execute(delete(index).where(index.c.record_id == mention_id))
        insert_rows(conn, index, ({"key": key[:120], "record_id": mention_id} for key in keys))
        suggestions = []
        for rank, candidate in enumerate(candidates):
            if not candidate.person_id.startswith("pe_"):
                continue
            if rank == 0 and candidate.probability >= settings.auto_threshold:
                conn.execute(
                    update(mention).where(mention.c.id == mention_id).values(person_id=candidate.person_id)
                )
                status, lead = "auto", f"auto-linked: probability {candidate.probability:.3f}"
            elif candidate.probability >= settings.review_threshold:
                status, lead = "suggested", f"review: probability {candidate.probability:.3f}"
            else:
                continue
            suggestions.append(
                Suggestion(
                    "mention_person",
                    mention_id,
                    candidate.person_id,
                    candidate.probability,
                    [lead, f"via {candidate.via}", *candidate.explanation],
                    settings.method,
                    status=status,
                )
            )
        write_suggestions(conn, suggestions, now=utc_now())
        ctx.record(conn, "link.mention", "mention", mention_id, {"candidates": len(candidates)})
    return candidates
