"""The register's tables: who did what to whom, when and where, and on what sources.

Adapted from the HURIDOCS Events Standard Formats. Codes are checked against the
controlled vocabularies in the service and import layers, not by the database,
so the vocabularies can grow without a migration.

Columns whose contents would expose a person carry `info={"protected": True}`:
on PostgreSQL their type becomes `Protected`, which seals each value on the way
in and opens it on the way out (AES-256-GCM under the keyring's `field` key, see
`svidok.crypto.fields`); exports for lower roles redact them, and tests check
that they never reach a log line. `name_key.key` (the linker's blocking keys,
derived from names and looked up by equality) is a `BlindKey`: a keyed hash on
PostgreSQL, so the look-up still works and the stored value says nothing.
On SQLite both pass values through (SQLCipher encrypts the whole file), except the
`personal` columns (`info=PERSONAL`): a person's own data, sealed on both backends
under its row's own subject key so that erasing the record destroys it
(`svidok.services.erasure`).

The schema is created only by Alembic migrations (`store/migrations`); a test
proves the migrations and these models agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from svidok.store.db import fields_of

ID = String(32)
CODE = String(40)
PROTECTED = {"protected": True}
PERSONAL = {"protected": True, "personal": True}
"""A protected column holding a person's own data (name, birth date, contacts, their account):
sealed under the row's own subject key on both backends, so erasing the record destroys it."""

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Protected(TypeDecorator[str]):
    """A protected text column: sealed on PostgreSQL when the engine has its keys, else as is.

    On PostgreSQL the column is TEXT (a token is longer than the value it seals: the
    length limit of the model is still checked on the plaintext by the import layer).
    """

    impl: TypeEngine[Any] | type[TypeEngine[Any]] = Text
    cache_ok = True

    def __init__(self, table: str, column: str, length: int | None) -> None:
        super().__init__()
        self.table = table
        self.column = column
        self.length = length
        self.impl = String(length) if length is not None else Text()

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # Not through dialect.type_descriptor: psycopg's adaptation of Text renders VARCHAR.
        return Text() if dialect.name == "postgresql" else self.impl_instance

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        cipher = fields_of(dialect) if value is not None else None
        if cipher is None or value is None:
            return value
        return cipher.seal(self.table, self.column, value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        cipher = fields_of(dialect) if value is not None else None
        if cipher is None or value is None:
            return value
        return cipher.open(self.table, self.column, value)


class BlindKey(TypeDecorator[str]):
    """An exact-match look-up key derived from protected values: a keyed hash on PostgreSQL.

    Binds (inserts, `==`, `in_`) are hashed alike, so look-ups work unchanged; reading the
    column back gives the hash, never the key.
    """

    impl = String
    cache_ok = True

    def __init__(self, table: str, column: str, length: int) -> None:
        super().__init__(length)
        self.table = table
        self.column = column
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        cipher = fields_of(dialect) if value is not None else None
        if cipher is None or value is None:
            return value
        return cipher.blind(self.table, self.column, value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


def _fk(target: str, *, nullable: bool = True, index: bool = True) -> Mapped[Any]:
    return mapped_column(ID, ForeignKey(f"{target}.id"), nullable=nullable, index=index)


class Place(Base):
    """A gazetteer entry: a square, a street, a detention facility, a court, a city."""

    __tablename__ = "place"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(CODE)
    name: Mapped[str] = mapped_column(String(300))
    names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    parent_id: Mapped[str | None] = _fk("place")


class Unit(Base):
    """An organisation or sub-unit of the security forces, courts or administration."""

    __tablename__ = "unit"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(CODE)
    name: Mapped[str] = mapped_column(String(300))
    names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    abbreviation: Mapped[str | None] = mapped_column(String(40))
    parent_id: Mapped[str | None] = _fk("unit")


class Person(Base):
    """A canonical identity; the names sources use for it live in `person_name`."""

    __tablename__ = "person"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    primary_name: Mapped[str] = mapped_column(String(300), info=PERSONAL)
    pseudonym: Mapped[str] = mapped_column(String(60))
    sex: Mapped[str] = mapped_column(String(10), default="unknown")
    birth_date: Mapped[str | None] = mapped_column(String(10), info=PERSONAL)
    description: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    origin: Mapped[str] = mapped_column(String(10), default="register", server_default="register")
    """register: entered or imported by people; linker: made by the linking engine for a cluster."""


class PersonName(Base):
    """One written form of a person's name, in a language and script."""

    __tablename__ = "person_name"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = _fk("person", nullable=False)
    name: Mapped[str] = mapped_column(String(300), info=PERSONAL)
    lang: Mapped[str | None] = mapped_column(String(8))
    script: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(20), default="variant")
    name_keys: Mapped[str | None] = mapped_column(String(400))


class Source(Base):
    """Where information comes from: a testimony, a document, a media item, a post."""

    __tablename__ = "source"
    __table_args__ = (
        CheckConstraint("reliability IN ('A','B','C','D','E','F')", name="reliability"),
        CheckConstraint("credibility BETWEEN 1 AND 6", name="credibility"),
        Index("ix_source_received_at", "received_at"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(CODE)
    author_role: Mapped[str] = mapped_column(CODE, default="unknown")
    language: Mapped[str | None] = mapped_column(String(8))
    title: Mapped[str | None] = mapped_column(String(300), info=PERSONAL)
    text: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    reliability: Mapped[str] = mapped_column(String(1), default="F")
    credibility: Mapped[int] = mapped_column(Integer, default=6)
    origin: Mapped[str] = mapped_column(String(20), default="import")
    external_ref: Mapped[str | None] = mapped_column(String(200), unique=True)
    url: Mapped[str | None] = mapped_column(String(2000))
    captured_at: Mapped[datetime | None] = mapped_column(DateTime)
    capture_tool: Mapped[str | None] = mapped_column(String(200))
    # What the source itself says about when and where its events happened, before
    # an operator or the linking engine ties it to an incident.
    reported_start: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    reported_end: Mapped[datetime | None] = mapped_column(DateTime)
    reported_precision: Mapped[str | None] = mapped_column(String(10))
    reported_place_id: Mapped[str | None] = _fk("place")
    reported_place_text: Mapped[str | None] = mapped_column(String(300), info=PERSONAL)
    reported_lat: Mapped[float | None] = mapped_column(Float)
    reported_lon: Mapped[float | None] = mapped_column(Float)


class Incident(Base):
    """Something that happened in a time window and a place."""

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_start_at", "start_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text, info=PROTECTED)
    start_at: Mapped[datetime] = mapped_column(DateTime)
    start_offset_min: Mapped[int | None] = mapped_column(Integer)
    start_precision: Mapped[str] = mapped_column(String(10), default="minute")
    end_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_precision: Mapped[str | None] = mapped_column(String(10))
    place_id: Mapped[str | None] = _fk("place")
    place_text: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(CODE, default="alleged")


class Act(Base):
    """One violation against one victim within an incident."""

    __tablename__ = "act"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    incident_id: Mapped[str] = _fk("incident", nullable=False)
    violation: Mapped[str] = mapped_column(CODE, index=True)
    victim_id: Mapped[str | None] = _fk("person")
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime)
    precision: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text, info=PROTECTED)
    injuries: Mapped[list[str]] = mapped_column(default=list)
    consequences: Mapped[str | None] = mapped_column(Text, info=PROTECTED)


class Involvement(Base):
    """A perpetrator (a person, a unit, or both) in an act, with a role."""

    __tablename__ = "involvement"
    __table_args__ = (CheckConstraint("person_id IS NOT NULL OR unit_id IS NOT NULL", name="perpetrator"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    act_id: Mapped[str] = _fk("act", nullable=False)
    person_id: Mapped[str | None] = _fk("person")
    unit_id: Mapped[str | None] = _fk("unit")
    role: Mapped[str] = mapped_column(CODE)
    confidence: Mapped[float] = mapped_column(Float, default=0.5)


class Mention(Base):
    """A person as one source describes them; linked to a `person` by the linking engine."""

    __tablename__ = "mention"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    source_id: Mapped[str] = _fk("source", nullable=False)
    person_id: Mapped[str | None] = _fk("person")
    role: Mapped[str] = mapped_column(CODE)
    raw_name: Mapped[str | None] = mapped_column(String(300), info=PERSONAL)
    sex: Mapped[str | None] = mapped_column(String(10))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    rank: Mapped[str | None] = mapped_column(String(100))
    badge_number: Mapped[str | None] = mapped_column(String(40), index=True)
    unit_text: Mapped[str | None] = mapped_column(String(300))
    unit_id: Mapped[str | None] = _fk("unit")
    description: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    name_keys: Mapped[str | None] = mapped_column(String(400))


class Membership(Base):
    """A person in a unit, with rank and period (from rosters, orders, testimonies)."""

    __tablename__ = "membership"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = _fk("person", nullable=False)
    unit_id: Mapped[str] = _fk("unit", nullable=False)
    rank: Mapped[str | None] = mapped_column(String(100))
    position: Mapped[str | None] = mapped_column(String(200))
    badge_number: Mapped[str | None] = mapped_column(String(40))
    start_date: Mapped[str | None] = mapped_column(String(10))
    end_date: Mapped[str | None] = mapped_column(String(10))


class Deployment(Base):
    """A unit at a place during a period."""

    __tablename__ = "deployment"
    __table_args__ = (Index("ix_deployment_place_id_start_at", "place_id", "start_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    unit_id: Mapped[str] = _fk("unit", nullable=False)
    place_id: Mapped[str] = _fk("place", nullable=False, index=False)
    start_at: Mapped[datetime] = mapped_column(DateTime)
    end_at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)


class CustodyRecord(Base):
    """Someone held at a facility from/to, as a custody log or a testimony records it."""

    __tablename__ = "custody_record"
    __table_args__ = (Index("ix_custody_record_facility_id_held_from", "facility_id", "held_from"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str | None] = _fk("person")
    recorded_name: Mapped[str] = mapped_column(String(300), info=PERSONAL)
    birth_date: Mapped[str | None] = mapped_column(String(10), info=PERSONAL)
    facility_id: Mapped[str] = _fk("place", nullable=False, index=False)
    held_from: Mapped[datetime] = mapped_column(DateTime)
    held_to: Mapped[datetime | None] = mapped_column(DateTime)
    arresting_unit_id: Mapped[str | None] = _fk("unit")
    transferred_to_id: Mapped[str | None] = _fk("place")
    release_kind: Mapped[str | None] = mapped_column(String(40))
    injuries: Mapped[list[str]] = mapped_column(default=list)
    notes: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    source_id: Mapped[str | None] = _fk("source")


class MissingCase(Base):
    """A person whose family or friends cannot find them."""

    __tablename__ = "missing_case"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str | None] = _fk("person")
    missing_name: Mapped[str] = mapped_column(String(300), info=PERSONAL)
    sex: Mapped[str] = mapped_column(String(10), default="unknown")
    birth_date: Mapped[str | None] = mapped_column(String(10), info=PERSONAL)
    reported_at: Mapped[datetime] = mapped_column(DateTime)
    reporter_contact: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_seen_place_id: Mapped[str | None] = _fk("place")
    last_seen_text: Mapped[str | None] = mapped_column(String(300), info=PERSONAL)
    status: Mapped[str] = mapped_column(CODE, default="open")
    notes: Mapped[str | None] = mapped_column(Text, info=PERSONAL)


class Evidence(Base):
    """A stored file's metadata: digests, size, type, when and where it was captured."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_capture_start", "capture_start"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    source_id: Mapped[str | None] = _fk("source")
    media_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str | None] = mapped_column(String(300), info=PROTECTED)
    # 64-bit on both: SQLite's INTEGER already is, PostgreSQL needs BIGINT for files over 2 GiB
    size_bytes: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    capture_start: Mapped[datetime | None] = mapped_column(DateTime)
    capture_end: Mapped[datetime | None] = mapped_column(DateTime)
    capture_time_basis: Mapped[str] = mapped_column(String(10), default="unknown")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    place_id: Mapped[str | None] = _fk("place")
    capture_place_basis: Mapped[str] = mapped_column(String(10), default="unknown")
    device: Mapped[str | None] = mapped_column(String(200))
    collector: Mapped[str | None] = mapped_column(String(200), info=PROTECTED)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    description: Mapped[str | None] = mapped_column(Text, info=PROTECTED)


class Citation(Base):
    """A statement about a record (or one of its fields) rests on a source, with a confidence."""

    __tablename__ = "citation"
    __table_args__ = (
        Index("ix_citation_subject", "subject_kind", "subject_id"),
        UniqueConstraint("subject_kind", "subject_id", "field", "source_id"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    source_id: Mapped[str] = _fk("source", nullable=False)
    subject_kind: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[str] = mapped_column(ID)
    field: Mapped[str] = mapped_column(String(60), default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.5)
    note: Mapped[str | None] = mapped_column(Text)


class Link(Base):
    """A machine suggestion or human decision that two records belong together.

    A re-run of the linking engine only touches rows whose status is `suggested`;
    confirmed and rejected rows carry who decided and are never overwritten.
    """

    __tablename__ = "link"
    __table_args__ = (
        UniqueConstraint("kind", "from_id", "to_id"),
        Index("ix_link_to_id", "to_id"),
        Index("ix_link_status_kind", "status", "kind"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(CODE)
    from_id: Mapped[str] = mapped_column(ID)
    to_id: Mapped[str] = mapped_column(ID)
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[list[str]] = mapped_column(default=list)
    method: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="suggested")
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class NameKey(Base):
    """Blocking keys of mentions and persons, for linking one new mention without a full run."""

    __tablename__ = "name_key"
    key: Mapped[str] = mapped_column(BlindKey("name_key", "key", 120), primary_key=True)
    record_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)


class LinkRun(Base):
    """One run of the linking engine: its settings, trained model and figures, to reproduce it."""

    __tablename__ = "link_run"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))
    full: Mapped[bool] = mapped_column(default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)


RECORD_TABLES: dict[str, type[Base]] = {
    cls.__tablename__: cls
    for cls in (
        Place,
        Unit,
        Person,
        PersonName,
        Source,
        Incident,
        Act,
        Involvement,
        Mention,
        Membership,
        Deployment,
        CustodyRecord,
        MissingCase,
        Evidence,
        Citation,
        Link,
    )
}
"""Every record kind in dependency order: a kind refers only to kinds before it (or itself)."""

# The tables of the protection, intake, access and search layers register on the same metadata.
from svidok.store import access_models as _access_models  # noqa: E402,F401
from svidok.store import intake_models as _intake_models  # noqa: E402,F401
from svidok.store import search_models as _search_models  # noqa: E402,F401
from svidok.store import security_models as _security_models  # noqa: E402,F401


def _protect_columns() -> None:
    """Give every column marked protected (in any layer's tables) the `Protected` type."""
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if column.info.get("protected") and not isinstance(column.type, Protected):
                length = getattr(column.type, "length", None)
                column.type = Protected(table.name, column.name, length)


_protect_columns()
