"""Linking one new mention as it arrives, without a full run.

The mention's blocking keys are looked up in the stored `name_key` index (one
indexed query), its candidates are loaded by id, and each pair is scored with
the model the last full run trained (stored in `link_run`), so the weights
match those of the batch path. Candidates are grouped by the person they
belong to; the best probability per person is returned with its explanation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from svidok.linking import fellegi_sunter as fs
from svidok.linking.persons import FEATURES, PersonLinkSettings, _NameCache, blocking_keys, comparison_levels
from svidok.linking.records import LinkRecords, load_records
from svidok.store.register import table_of

MAX_CANDIDATES = 500


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
    index = table_of("name_key")
    found = [
        row[0]
        for row in conn.execute(
            select(index.c.record_id).where(index.c.key.in_(keys)).distinct().limit(MAX_CANDIDATES)
        )
        if row[0] != mention_id
    ]
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
