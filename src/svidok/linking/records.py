"""The records the person linker compares: mentions and existing persons, column-wise.

A mention brings its raw name and what its source says (sex, birth year, unit,
rank, badge number, role). An existing person brings all its names and what
rosters say (unit, rank, badge of its latest membership). Human decisions come
along: mentions pinned to a person by a confirmed link, and (mention, person)
pairs a reviewer rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, select, union_all

from svidok.crypto.errors import KeyDestroyed
from svidok.crypto.fields import ERASED
from svidok.store.db import fields_of
from svidok.store.register import table_of

OFFICER_ROLES = frozenset({"perpetrator", "commander", "official"})
SEX_CODES = {"male": 0, "female": 1}


@dataclass
class LinkRecords:
    """Parallel columns, one entry per record (mentions first, then persons)."""

    ids: list[str] = field(default_factory=list)
    is_person: list[bool] = field(default_factory=list)
    names: list[tuple[str, ...]] = field(default_factory=list)
    sex: list[int] = field(default_factory=list)
    birth_year: list[int] = field(default_factory=list)
    unit: list[str | None] = field(default_factory=list)
    rank: list[str | None] = field(default_factory=list)
    badge: list[str | None] = field(default_factory=list)
    side: list[int] = field(default_factory=list)
    current_person: list[str | None] = field(default_factory=list)
    incident: list[str | None] = field(default_factory=list)
    pinned: dict[str, str] = field(default_factory=dict)
    rejected: set[tuple[str, str]] = field(default_factory=set)

    def add(
        self,
        record_id: str,
        is_person: bool,
        names: tuple[str, ...],
        sex: str | None,
        birth_year: int | None,
        unit: str | None,
        rank: str | None,
        badge: str | None,
        side: int,
        current_person: str | None = None,
        incident: str | None = None,
    ) -> None:
        self.ids.append(record_id)
        self.incident.append(incident)
        self.current_person.append(current_person)
        self.is_person.append(is_person)
        self.names.append(names)
        self.sex.append(SEX_CODES.get(sex or "", -1))
        self.birth_year.append(birth_year if birth_year else -1)
        self.unit.append(unit)
        self.rank.append(_norm(rank))
        self.badge.append(_norm(badge))
        self.side.append(side)

    def __len__(self) -> int:
        return len(self.ids)

    def extend(self, other: LinkRecords) -> None:
        """Append `other`'s records (and its human decisions) after these."""
        for name in (
            "ids",
            "is_person",
            "names",
            "sex",
            "birth_year",
            "unit",
            "rank",
            "badge",
            "side",
            "current_person",
            "incident",
        ):
            getattr(self, name).extend(getattr(other, name))
        self.pinned.update(other.pinned)
        self.rejected |= other.rejected


def _norm(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split()).casefold()
    return value or None


def load_records(
    conn: Connection,
    *,
    linker_persons: bool = True,
    mention_ids: Sequence[str] | None = None,
    person_ids: Sequence[str] | None = None,
) -> LinkRecords:
    """Mentions with a name and existing persons, with the human decisions on them.

    By default every record; with `mention_ids` / `person_ids` only those (the
    one-mention path loads a new mention's candidates this way). Without
    `linker_persons`, persons the linker itself made are left out (a full run
    forms its clusters afresh), unless a human decision names them.
    """
    subset = mention_ids is not None or person_ids is not None
    mention, person, person_name = table_of("mention"), table_of("person"), table_of("person_name")
    membership, link, act = table_of("membership"), table_of("link"), table_of("act")
    records = LinkRecords()

    mention_query = select(
        mention.c.id,
        mention.c.raw_name,
        mention.c.sex,
        mention.c.birth_year,
        mention.c.unit_id,
        mention.c.rank,
        mention.c.badge_number,
        mention.c.role,
        mention.c.person_id,
        mention.c.source_id,
    ).where(mention.c.raw_name.is_not(None))
    if subset:
        mention_query = mention_query.where(mention.c.id.in_(list(mention_ids or [])))
        _prepare_subjects(conn, [*(mention_ids or []), *(person_ids or [])])
    mention_rows = list(
        conn.execute(mention_query.order_by(mention.c.id), execution_options={"yield_per": 50_000})
    )
    # Erased records (crypto-shredded: their names read as ERASED) are never linked again.
    mention_rows = [r for r in mention_rows if r.raw_name != ERASED]
    incident_of_source = _source_incidents(conn, {r.source_id for r in mention_rows} if subset else None)
    for row in mention_rows:
        side = 1 if row.role in OFFICER_ROLES else 0
        records.add(
            row.id,
            False,
            (row.raw_name,),
            row.sex,
            row.birth_year,
            row.unit_id,
            row.rank,
            row.badge_number,
            side,
            row.person_id,
            incident_of_source.get(row.source_id),
        )

    def only_persons(query: Select[Any], column: ColumnElement[str]) -> Select[Any]:
        return query.where(column.in_(list(person_ids or []))) if subset else query

    # the one-mention path asks for a few ids: queries about no persons are not sent at all
    wants_persons = not subset or bool(person_ids)
    victim_of: dict[str, str] = {}
    extra_names: dict[str, list[str]] = {}
    roster: dict[str, tuple[str | None, str | None, str | None]] = {}
    if wants_persons:
        victims = select(act.c.victim_id, func.min(act.c.incident_id)).where(act.c.victim_id.is_not(None))
        for person_id, incident_id in conn.execute(
            only_persons(victims, act.c.victim_id).group_by(act.c.victim_id)
        ):
            victim_of[person_id] = incident_id
        names_query = only_persons(
            select(person_name.c.person_id, person_name.c.name), person_name.c.person_id
        )
        for person_id, name in conn.execute(names_query):
            if name != ERASED:
                extra_names.setdefault(person_id, []).append(name)
        roster_query = select(
            membership.c.person_id, membership.c.unit_id, membership.c.rank, membership.c.badge_number
        ).order_by(membership.c.person_id, membership.c.start_date)
        for row in conn.execute(only_persons(roster_query, membership.c.person_id)):
            roster[row.person_id] = (row.unit_id, row.rank, row.badge_number)  # latest membership wins
    decision_query = select(link.c.from_id, link.c.to_id, link.c.status).where(
        and_(link.c.kind == "mention_person", link.c.status.in_(("confirmed", "rejected")))
    )
    if subset:  # by (kind, from_id), the unique index, not by status: machine links are many
        decision_query = select(link.c.from_id, link.c.to_id, link.c.status).where(
            link.c.kind == "mention_person", link.c.from_id.in_([r.id for r in mention_rows])
        )
    decisions = (
        [row for row in conn.execute(decision_query) if row.status in ("confirmed", "rejected")]
        if mention_rows or not subset
        else []
    )
    decided = {row.to_id for row in decisions}
    person_query = only_persons(
        select(person.c.id, person.c.primary_name, person.c.sex, person.c.birth_date, person.c.origin),
        person.c.id,
    )
    for row in conn.execute(person_query.order_by(person.c.id)) if wants_persons else ():
        if not linker_persons and row.origin == "linker" and row.id not in decided:
            continue
        if row.primary_name == ERASED:
            continue
        names = tuple(dict.fromkeys([row.primary_name, *extra_names.get(row.id, [])]))
        unit, rank, badge = roster.get(row.id, (None, None, None))
        year = int(row.birth_date[:4]) if row.birth_date and row.birth_date[:4].isdigit() else None
        side = 1 if row.id in roster else -1
        records.add(row.id, True, names, row.sex, year, unit, rank, badge, side, None, victim_of.get(row.id))
    for decision in decisions:
        if decision.status == "confirmed":
            records.pinned[decision.from_id] = decision.to_id
        else:
            records.rejected.add((decision.from_id, decision.to_id))
    return records


def _prepare_subjects(conn: Connection, ids: list[str]) -> None:
    """Fetch the subject keys of a few records in one key-store query before their sealed
    fields are read (else one query per value: most of a one-mention look-up's time)."""
    cipher = fields_of(conn.dialect)
    if cipher is None or len(ids) < 2:
        return
    try:
        cipher.prepare(ids)
    except KeyDestroyed:  # an erased record among them: its fields read as erased, one by one
        return


def _source_incidents(conn: Connection, sources: set[str] | None = None) -> dict[str, str]:
    """The incident each source is cited for (the first by id when several)."""
    citation, act = table_of("citation"), table_of("act")
    direct = select(citation.c.source_id, citation.c.subject_id.label("incident")).where(
        citation.c.subject_kind == "incident"
    )
    via_act = (
        select(citation.c.source_id, act.c.incident_id.label("incident"))
        .select_from(citation.join(act, citation.c.subject_id == act.c.id))
        .where(citation.c.subject_kind == "act")
    )
    if sources is not None:  # a few sources: two indexed look-ups beat the union over all citations
        found: dict[str, str] = {}
        acts: dict[str, list[str]] = {}
        # by source only: with the kind in the query too, SQLite walks the (kind, subject) index
        # over every citation of the register instead of the source index
        for source_id, kind, subject in conn.execute(
            select(citation.c.source_id, citation.c.subject_kind, citation.c.subject_id).where(
                citation.c.source_id.in_(sorted(sources))
            )
        ):
            if kind not in ("incident", "act"):
                continue
            if kind == "incident":
                found[source_id] = min(found.get(source_id, subject), subject)
            else:
                acts.setdefault(subject, []).append(source_id)
        if acts:
            for act_id, incident_id in conn.execute(
                select(act.c.id, act.c.incident_id).where(act.c.id.in_(sorted(acts)))
            ):
                for source_id in acts[act_id]:
                    found[source_id] = min(found.get(source_id, incident_id), incident_id)
        return found
    both = union_all(direct, via_act).subquery()
    query = select(both.c.source_id, func.min(both.c.incident)).group_by(both.c.source_id)
    return {row[0]: row[1] for row in conn.execute(query)}
