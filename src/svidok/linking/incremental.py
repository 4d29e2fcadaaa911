"""Linking one new mention as it arrives, without a full run.

The mention's blocking keys are looked up in the stored `name_key` index, its
candidates are loaded by id, and each pair is scored with the model the last
full run trained (stored in `link_run`), so the weights match those of the
batch path. Candidates are grouped by the person they belong to; the best
probability per person is returned with its explanation.

The work per mention is bounded however large the register grows: first the
size of each of its keys' blocks (an index-only count), then the records of the
smaller blocks, ranked by how many rare keys they share with the mention
(Σ 1/block size, the rarest key counting most), at most `MAX_CANDIDATES`; a
block larger than `MAX_SCAN` is read only as far as the cap still has room,
after every smaller one. At 1,000,000 mentions a common name's block holds
thousands of records, nearly all of them namesakes the rarer keys (incident,
patronymic) already separate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, case, func, select

from svidok.linking import fellegi_sunter as fs
from svidok.linking.persons import FEATURES, PersonLinkSettings, _NameCache, blocking_keys, comparison_levels
from svidok.linking.records import LinkRecords, load_records
from svidok.store.register import table_of

#: records loaded and scored for one new mention, at most
MAX_CANDIDATES = 50
#: blocks larger than this are not ranked, only read up to the cap (rarer keys first)
MAX_SCAN = 2_000


@dataclass(frozen=True)
class PersonCandidate:
    person_id: str
    probability: float
    via: str
    explanation: tuple[str, ...]


def model_from_dict(data: dict[str, Any]) -> fs.Model:
    """Rebuild a trained model from the form `Model.as_dict` stores with each run."""
    m, u = [], []
    for feature in FEATURES:
        levels = data.get("features", {}).get(feature.name, {})
        m.append(np.array([levels.get(level, {}).get("m", 0.5) for level in feature.levels]))
        u.append(np.array([levels.get(level, {}).get("u", 0.5) for level in feature.levels]))
    return fs.Model(FEATURES, m, u, float(data.get("prior", 0.001)))


def latest_model(conn: Connection) -> fs.Model:
    """The model of the latest full linking run, or the untrained starting model if none ran."""
    run = table_of("link_run")
    row = conn.execute(
        select(run.c.model).where(run.c.full.is_(True)).order_by(run.c.finished_at.desc()).limit(1)
    ).first()
    if row is None or not row[0]:
        return fs.initial_model(FEATURES)
    return model_from_dict(row[0])


def mention_keys(conn: Connection, mention_id: str) -> list[str]:
    """The blocking keys of one mention (empty when it has no usable name)."""
    return _load_new(conn, mention_id)[2]


def _load_new(conn: Connection, mention_id: str) -> tuple[LinkRecords, _NameCache, list[str]]:
    new = load_records(conn, mention_ids=[mention_id])
    cache = _NameCache()
    if not len(new):
        return new, cache, []
    return new, cache, sorted(blocking_keys(cache.key(new.names[0][0]), new.unit[0], new.incident[0]))


def candidate_ids(conn: Connection, keys: list[str], limit: int = MAX_CANDIDATES) -> list[str]:
    """Record ids sharing a key with `keys`, best first: rare shared keys first, at most `limit`."""
    index = table_of("name_key")
    # the column reads back as its stored form (a keyed hash where keys are blind): map it back
    bind: Callable[[str], str] = index.c.key.type.bind_processor(conn.dialect) or (lambda value: value)
    stored = {bind(key): key for key in keys}
    sizes: dict[str, int] = {
        stored[found]: int(n)
        for found, n in conn.execute(
            select(index.c.key, func.count()).where(index.c.key.in_(keys)).group_by(index.c.key)
        )
        if found in stored
    }
    if not sizes:
        return []
    small = [key for key, n in sizes.items() if n <= MAX_SCAN]
    out: list[str] = []
    if small:
        weight = case(*((index.c.key == key, 1.0 / sizes[key]) for key in small), else_=0.0)
        score = func.sum(weight)
        out = [
            row[0]
            for row in conn.execute(
                select(index.c.record_id)
                .where(index.c.key.in_(small))
                .group_by(index.c.record_id)
                .order_by(score.desc(), index.c.record_id)
                .limit(limit)
            )
        ]
    taken = set(out)
    for key in sorted((k for k in sizes if k not in small), key=lambda k: sizes[k]):
        if len(out) >= limit:
            break
        room = limit - len(out)
        for (record_id,) in conn.execute(
            select(index.c.record_id).where(index.c.key == key).limit(room + len(taken))
        ):
            if record_id not in taken and len(out) < limit:
                taken.add(record_id)
                out.append(record_id)
    return out


def candidates_for(
    conn: Connection, mention_id: str, model: fs.Model, settings: PersonLinkSettings, limit: int = 10
) -> list[PersonCandidate]:
    """The persons a mention may be, best first."""
    return candidates_and_keys(conn, mention_id, model, settings, limit)[0]


def candidates_and_keys(
    conn: Connection, mention_id: str, model: fs.Model, settings: PersonLinkSettings, limit: int = 10
) -> tuple[list[PersonCandidate], list[str]]:
    """The persons a mention may be, best first, and the mention's own blocking keys (one load)."""
    new, cache, keys = _load_new(conn, mention_id)
    if not keys:
        return [], keys
    found = [i for i in candidate_ids(conn, keys) if i != mention_id]
    mention_ids = [i for i in found if i.startswith("me_")]
    person_ids = [i for i in found if i.startswith("pe_")]
    if not found:
        return [], keys
    others = load_records(conn, mention_ids=mention_ids, person_ids=person_ids)
    new.extend(others)
    right = np.arange(1, len(new), dtype=np.int64)
    left = np.zeros(len(right), dtype=np.int64)
    gammas = comparison_levels(new, cache, left, right, settings)
    probability = fs.probabilities(model, gammas)
    best: dict[str, PersonCandidate] = {}
    for k, i in enumerate(right):
        person = new.ids[i] if new.is_person[i] else (new.current_person[i] or new.ids[i])
        if (mention_id, person) in new.rejected:
            continue
        p = float(probability[k])
        if person not in best or p > best[person].probability:
            best[person] = PersonCandidate(person, p, new.ids[i], tuple(fs.explain(model, gammas[k])))
    return sorted(best.values(), key=lambda c: (-c.probability, c.person_id))[:limit], keys
