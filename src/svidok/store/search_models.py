"""Tables of the search index: one document per searchable record, and its facet values.

`search_doc` holds index terms, not contents: stems of the record's words in
reading order (`terms`) and hashed cross-script name keys (`names`), plus the
columns filters need. On PostgreSQL the terms are keyed blind tokens
(`svidok.reports.text.BlindTerms`) and the display `label` is a protected
column (sealed like the register's names, migration 0010). The full-text
structures over it are dialect-specific and are made by
`svidok.reports.index.ensure` (an FTS5 table with triggers on SQLite; a GIN
tsvector index on PostgreSQL); they are kept out of the models so the
migrations-versus-models check stays exact. The
statistics' covering indexes on the register's tables are declared here too
(migration 0007).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from svidok.store.models import ID, PROTECTED, Base


class SearchDoc(Base):
    """One searchable record (source, incident, person, unit or place)."""

    __tablename__ = "search_doc"
    __table_args__ = (Index("ix_search_doc_kind_day", "kind", "day"),)
    n: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ID, unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str | None] = mapped_column(String(300), info=PROTECTED)
    terms: Mapped[str] = mapped_column(Text, default="")
    names: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str | None] = mapped_column(String(8))
    day: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    place_id: Mapped[str | None] = mapped_column(ID, index=True)
    incident_id: Mapped[str | None] = mapped_column(ID, index=True)
    status: Mapped[str | None] = mapped_column(String(40))


class SearchFacet(Base):
    """A multi-valued facet of a document: a violation type or a unit it concerns."""

    __tablename__ = "search_facet"
    facet: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    doc_n: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


# Covering indexes for the statistics (`svidok.reports.stats`): every table is a GROUP BY over
# act ⋈ incident (⋈ involvement); with these the scans read only index pages, never the rows.
_ACT, _INCIDENT, _INVOLVEMENT = (Base.metadata.tables[t] for t in ("act", "incident", "involvement"))
Index("ix_act_stats", _ACT.c.incident_id, _ACT.c.violation, _ACT.c.victim_id, _ACT.c.id)
Index("ix_incident_stats", _INCIDENT.c.id, _INCIDENT.c.start_at, _INCIDENT.c.place_id, _INCIDENT.c.status)
Index("ix_involvement_stats", _INVOLVEMENT.c.act_id, _INVOLVEMENT.c.person_id, _INVOLVEMENT.c.unit_id)
