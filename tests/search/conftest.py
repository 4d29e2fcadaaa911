"""A small register in several languages and scripts, indexed, on SQLite and PostgreSQL.

On PostgreSQL the store carries field keys, as a register opened by `svidok` does: the
protected columns are sealed and the index holds blind tokens, so every search test runs
through them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from svidok.crypto.fields import FieldCipher
from svidok.reports import index
from svidok.services import register
from svidok.settings import Settings
from svidok.store.db import attach_fields
from svidok.store.register import Store
from tests.factories import RECORDS, T0, write_jsonl

EXTRA: list[dict[str, Any]] = [
    {
        "record": "person",
        "id": "pe_sv",
        "primary_name": "Святлана Ціханоўская",
        "pseudonym": "V-0101",
        "sex": "female",
    },
    {
        "record": "person_name",
        "id": "pn_sv",
        "person_id": "pe_sv",
        "name": "Светлана Тихановская",
        "lang": "ru",
        "script": "Cyrl",
        "kind": "variant",
    },
    {
        "record": "source",
        "id": "so_ru",
        "kind": "testimony",
        "author_role": "witness",
        "language": "ru",
        "text": "Меня избили дубинками у ЦИП на улице Ясной. Рядом была Светлана Тихановская.",
        "received_at": "2020-08-13T09:15:00Z",
        "reliability": "C",
        "credibility": 3,
        "origin": "import",
    },
    {
        "record": "source",
        "id": "so_en",
        "kind": "testimony",
        "author_role": "victim",
        "language": "en",
        "text": "They detained me near the square. Officer Savitski was there.",
        "received_at": "2020-08-14T09:15:00Z",
        "reliability": "B",
        "credibility": 2,
        "origin": "import",
    },
    {
        "record": "source",
        "id": "so_far",
        "kind": "testimony",
        "author_role": "witness",
        "language": "ru",
        "text": "Дубинками махали, но били руками.",
        "received_at": "2020-09-20T09:15:00Z",
        "reliability": "D",
        "credibility": 4,
        "origin": "import",
    },
    {
        "record": "incident",
        "id": "in_9",
        "title": "Beatings at the Yasnaya St. centre",
        "start_at": "2020-09-20T10:00:00Z",
        "place_id": "pl_bcip",
        "status": "verified",
    },
    {"record": "act", "id": "ac_9", "incident_id": "in_9", "violation": "cruel_treatment"},
    {
        "record": "citation",
        "id": "ci_s1",
        "source_id": "so_ru",
        "subject_kind": "incident",
        "subject_id": "in_1",
        "field": "",
        "confidence": 0.7,
    },
    {
        "record": "citation",
        "id": "ci_s2",
        "source_id": "so_far",
        "subject_kind": "incident",
        "subject_id": "in_9",
        "field": "",
        "confidence": 0.6,
    },
]
del T0


def throwaway_cipher() -> FieldCipher:
    """Field keys of a throwaway keyring (random per call, as a new register's are)."""
    root, field = os.urandom(32), os.urandom(32)

    def derive(key_id: str, info: str) -> bytes:
        return hashlib.blake2b(f"{key_id}|{info}".encode(), key=root, digest_size=32).digest()

    return FieldCipher(field, lambda _key_id: field, lambda _subject: field, derive)


@pytest.fixture
def indexed(store: Store, tmp_path: Path) -> Iterator[Store]:
    if store.dialect == "postgresql":
        attach_fields(store.engine, throwaway_cipher())
    register.import_file(store, write_jsonl(tmp_path / "records.jsonl", [*RECORDS, *EXTRA]))
    index.rebuild(store)
    yield store
    with store.begin() as conn:  # keep the schema equal to the migrations for later tests
        index.drop_structures(conn)


@pytest.fixture
def indexed_sqlite(sqlite_settings: Settings, tmp_path: Path) -> Iterator[Store]:
    """The same indexed register on SQLite only, for tests of FTS5's own structures."""
    store = Store.open(sqlite_settings)
    register.import_file(store, write_jsonl(tmp_path / "records.jsonl", [*RECORDS, *EXTRA]))
    index.rebuild(store)
    yield store
    store.close()
