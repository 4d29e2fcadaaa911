"""The PostgreSQL search index holds no word, name key or label in plaintext, and still finds.

A demo register is imported into PostgreSQL through `Protection.open` (field keys attached)
and indexed; `pg_dump` of its schema is scanned, the search tables included. What the
index would hold without keys is computed from the same records on a plain SQLite copy
(`documents()`): none of its stems, name-key tokens or labels may appear among the
dumped search rows, nor any person's name or testimony phrase anywhere in the dump.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.demo.generator import DemoConfig, generate
from svidok.names import to_latin
from svidok.reports import index
from svidok.reports.documents import KINDS, documents
from svidok.services.context import Actor, ServiceContext
from svidok.services.keys import Protection
from svidok.services.register import export_register, import_file, init_register
from svidok.services.search import search
from svidok.settings import Settings
from svidok.store import migrate
from svidok.store.db import make_engine
from svidok.store.models import Base
from svidok.store.register import Store, table_of
from tests.pg_dump import dump_schema

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed"),
]

_COPY = re.compile(r"^COPY (\S+) \(([^)]*)\) FROM stdin;\n(.*?)^\\\.$", re.M | re.S)


@pytest.fixture
def pg(pg_schema_url: str, tmp_path: Path) -> Iterator[Protection]:
    engine = make_engine(pg_schema_url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    engine.dispose()
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_schema_url)
    p = Protection.open(settings, MasterSecret(passphrase="index tests"), create=True, params=TEST_ARGON2)
    yield p
    with p.store.begin() as conn:  # the schema stays equal to the migrations for later tests
        index.drop_structures(conn)
    p.close()


def _plain_index(store: Store) -> tuple[set[str], set[str], set[str]]:
    """(stems, name-key tokens, labels) that an unkeyed index of `store` holds."""
    stems: set[str] = set()
    keys: set[str] = set()
    labels: set[str] = set()
    with store.read() as conn:
        for kind in KINDS:
            for doc in documents(conn, kind):
                stems.update(doc.row["terms"].split())
                keys.update(doc.row["names"].split())
                if doc.row["label"]:
                    labels.add(doc.row["label"])
    return stems, keys, labels


def _names_and_phrases(store: Store) -> set[str]:
    person, pname, source = table_of("person"), table_of("person_name"), table_of("source")
    found: set[str] = set()
    with store.read() as conn:
        found.update(
            str(r[0]) for r in conn.execute(person.select().with_only_columns(person.c.primary_name))
        )
        found.update(str(r[0]) for r in conn.execute(pname.select().with_only_columns(pname.c.name)))
        for (body,) in conn.execute(source.select().with_only_columns(source.c.text)):
            if body and len(body) > 60:
                found.update(body[i : i + 40] for i in range(0, len(body) - 40, 97))
    return {n for n in found if len(n) >= 8}


def test_an_indexed_postgresql_register_dumps_no_stem_name_key_or_label(
    pg: Protection, pg_schema_url: str, tmp_path: Path
) -> None:
    plain = init_register(Settings(data_dir=tmp_path / "plain"))
    generate(plain, tmp_path / "truth", DemoConfig(scale=60, seed=7))
    export = tmp_path / "demo.jsonl"
    export_register(plain, export)
    stems, keys, labels = _plain_index(plain)
    needles = _names_and_phrases(plain)
    person = table_of("person")
    with plain.read() as conn:
        someone = conn.execute(person.select().with_only_columns(person.c.id, person.c.primary_name)).first()
    plain.close()
    assert someone is not None and len(stems) > 300 and len(keys) > 100 and len(labels) > 50

    ctx = ServiceContext(pg.store, Actor("test"), audit=pg.audit)
    assert import_file(ctx, export).inserted_total > 0
    index.rebuild(pg.store)
    dump = dump_schema(pg_schema_url)

    copied = {m.group(1).rsplit(".", 1)[-1]: m for m in _COPY.finditer(dump)}["search_doc"]
    columns = [c.strip().strip('"') for c in copied.group(2).split(",")]
    rows = [dict(zip(columns, line.split("\t"), strict=True)) for line in copied.group(3).splitlines()]
    assert len(rows) > 100, "the dump should hold the indexed documents"
    terms = {w for r in rows for w in f"{r['terms']} {r['names']}".split()}
    assert all(re.fullmatch(r"w[a-z2-7]{12}", w) for w in terms), "an index word is not a blind token"
    assert not terms & stems and not terms & keys
    stored = "\n".join(r["label"] for r in rows)
    assert all(r["label"].startswith("v1:field:") for r in rows if r["label"] != "\\N")  # sealed
    assert not [label for label in labels if len(label) >= 5 and label in stored], "a label is in the dump"
    leaked = sorted(n for n in needles if n in dump)
    assert leaked == [], f"{len(leaked)} names or phrases appear in pg_dump (first: {leaked[:1]!r})"

    # Search still finds through the same blind tokens: a name as written and in Latin letters.
    pid, name = someone
    surname = str(name).split()[-1]
    found = search(ctx, surname, limit=50)
    assert pid in [h.id for h in found.hits]
    assert pid in [h.id for h in search(ctx, to_latin(surname), limit=50).hits]
    labelled = next(h for h in found.hits if h.id == pid)
    assert labelled.label and not labelled.label.startswith("v1:")  # opened for display


def test_migration_0010_empties_a_plaintext_postgresql_index_and_seals_labels_from_then_on(
    pg_schema_url: str,
) -> None:
    from tests.conftest import PG_URL

    schema = "svidok_t_mig10"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        migrate.upgrade(engine, "0007")
        with engine.begin() as conn:  # an index as it was written before 0010: stems, a name
            conn.execute(
                text(
                    "INSERT INTO search_doc (n, id, kind, label, terms, names) "
                    "VALUES (1, 'so_1', 'source', 'Ales Kavaliou', 'избил дубинк', 'k0a1b2c3d4e5')"
                )
            )
            conn.exec_driver_sql(index._PG_TSV)
        migrate.upgrade(engine)
        store = Store(engine)
        assert migrate.is_current(engine)
        with store.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM search_doc").scalar() == 0
            columns = inspect(conn).get_columns("search_doc")
            assert str(next(c["type"] for c in columns if c["name"] == "label")) == "TEXT"
            assert "ix_search_doc_tsv" not in {i["name"] for i in inspect(conn).get_indexes("search_doc")}
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
