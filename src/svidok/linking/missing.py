"""Missing persons ↔ custody records and testimonies.

A family reports someone missing: a name, perhaps a birth date, where and when
they were last seen. Custody logs and testimonies record who was held where.
A custody record is a candidate when its recorded name matches (the name
engine, across scripts and forms), it starts within `window_days` after the
person was last seen (or a day before, for clock and report errors), and the
birth year, if both give one, agrees. A mention in a testimony (a victim or a
fellow detainee) is a candidate on the same terms, dated by its source.
Each suggestion explains the name comparison, the time and the birth year.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from svidok.names.compare import compare_keys
from svidok.names.keys import NameKeys, name_keys
from svidok.store.links import Suggestion
from svidok.store.register import table_of

DETAINED_ROLES = ("victim", "detainee", "other")


@dataclass(frozen=True)
class MissingLinkSettings:
    """Limits of the search; stored with every run."""

    window_days: int = 30
    min_name_score: float = 0.75
    max_per_case: int = 5
    method: str = "missing-v1"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Held:
    record_id: str
    kind: str  # "custody" or "mention"
    name: str
    held_from: datetime | None
    birth_year: int | None
    where: str


def _surname_keys(keys: NameKeys) -> set[str]:
    return {stem for parse in keys.parses for part in parse.surname for stem in part.classes}


def _year(value: str | None) -> int | None:
    return int(value[:4]) if value and value[:4].isdigit() else None  # not "[erased]"


def suggest_missing_links(
    conn: Connection, settings: MissingLinkSettings, only: list[str] | None = None
) -> list[Suggestion]:
    """Custody-record and mention suggestions for every case not closed (a located case still
    shows where the person was found, for the family and the record)."""
    missing, custody, mention, source, place = (
        table_of("missing_case"),
        table_of("custody_record"),
        table_of("mention"),
        table_of("source"),
        table_of("place"),
    )
    index: dict[str, list[_Held]] = defaultdict(list)
    custody_rows = conn.execute(
        select(
            custody.c.id, custody.c.recorded_name, custody.c.held_from, custody.c.birth_date, place.c.name
        ).select_from(custody.outerjoin(place, custody.c.facility_id == place.c.id))
    )
    for row in custody_rows:
        held = _Held(row[0], "custody", row[1], row[2], _year(row[3]), row[4] or "")
        for key in _surname_keys(name_keys(held.name)):
            index[key].append(held)
    mention_rows = conn.execute(
        select(
            mention.c.id,
            mention.c.raw_name,
            func.coalesce(source.c.reported_start, source.c.received_at),
            mention.c.birth_year,
        )
        .select_from(mention.join(source, mention.c.source_id == source.c.id))
        .where(mention.c.raw_name.is_not(None), mention.c.role.in_(DETAINED_ROLES))
    )
    for mention_row in mention_rows:
        held = _Held(mention_row[0], "mention", mention_row[1], mention_row[2], mention_row[3], "a testimony")
        for key in _surname_keys(name_keys(held.name)):
            index[key].append(held)

    query = select(
        missing.c.id,
        missing.c.missing_name,
        missing.c.last_seen_at,
        missing.c.reported_at,
        missing.c.birth_date,
    ).where(missing.c.status != "closed")
    if only is not None:
        query = query.where(missing.c.id.in_(only))
    out: list[Suggestion] = []
    for case_id, name, last_seen, reported_at, birth_date in conn.execute(query):
        keys = name_keys(name)
        since = last_seen or reported_at
        year = _year(birth_date)
        scored: dict[str, tuple[float, _Held, list[str]]] = {}
        for key in _surname_keys(keys):
            for held in index.get(key, ()):
                if held.record_id in scored:
                    continue
                reasons = _fits(settings, since, year, held)
                if reasons is None:
                    continue
                comparison = compare_keys(keys, name_keys(held.name))
                if comparison.score < settings.min_name_score:
                    continue
                scored[held.record_id] = (
                    comparison.score,
                    held,
                    [*reasons, *_without_names(comparison.explanation)],
                )
        best = sorted(scored.values(), key=lambda item: (-item[0], item[1].record_id))[
            : settings.max_per_case
        ]
        for score, held, reasons in best:
            kind = "missing_custody" if held.kind == "custody" else "missing_mention"
            out.append(Suggestion(kind, case_id, held.record_id, score, reasons, settings.method))
    return out


_QUOTED = re.compile(r"'[^']*' ~ '[^']*': ")


def _without_names(explanation: list[str]) -> list[str]:
    """The name engine's reasons without the name tokens themselves: links are not protected fields."""
    return [
        "name: " + _QUOTED.sub("", reason)
        for reason in explanation
        if " ~ " in reason or reason.startswith("score ")
    ]


def _fits(
    settings: MissingLinkSettings, since: datetime | None, year: int | None, held: _Held
) -> list[str] | None:
    """Time and birth-year reasons, or None when they rule the candidate out."""
    reasons = []
    if since is not None and held.held_from is not None:
        delta = held.held_from - since
        if delta < timedelta(days=-1) or delta > timedelta(days=settings.window_days):
            return None
        hours = delta.total_seconds() / 3600
        where = "in custody at " + held.where if held.kind == "custody" else "named in " + held.where
        reasons.append(f"time: {where} {hours:.0f} h after last seen")
    if year is not None and held.birth_year is not None:
        if abs(year - held.birth_year) > 1:
            return None
        reasons.append(f"birth year: {held.birth_year} against {year}")
    return reasons
