"""Search: any script, any word form, phrases, filters, facets, highlights, compartments, updates."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import ColumnElement, false, true

from svidok.errors import InputError
from svidok.reports import index
from svidok.services import accounts, register
from svidok.services.context import Actor, ServiceContext
from svidok.services.search import SearchFilters, search
from svidok.store.register import Store
from tests.factories import write_jsonl


def ids(store: Store | ServiceContext, query: str, filters: SearchFilters | None = None) -> list[str]:
    return [h.id for h in search(store, query, filters).hits]


def test_a_latin_query_finds_cyrillic_text_and_back(indexed: Store) -> None:
    assert {"pe_sv", "so_ru"} <= set(ids(indexed, "Tsikhanouskaya"))
    assert "pe_victim1" in ids(indexed, "Кавалёў")  # Cyrillic query, Latin person_name Kavaliou too
    assert "pe_victim1" in ids(indexed, "Kovalev")
    assert "so_en" in ids(indexed, "Савицкий")  # Cyrillic query, Latin testimony text


def test_word_forms_are_found_through_stemming(indexed: Store) -> None:
    assert "so_ru" in ids(indexed, "дубинка")  # ru: дубинками
    assert "so_en" in ids(indexed, "detaining")  # en: detained


def test_a_phrase_needs_its_words_together_and_in_order(indexed: Store) -> None:
    assert ids(indexed, '"избили дубинками"') == ["so_ru"]
    assert "so_far" in ids(indexed, "дубинками били")
    assert "so_far" not in ids(indexed, '"дубинками били"')


def test_filters_and_facets(indexed: Store) -> None:
    result = search(indexed, "дубинками")
    assert result.facets["kind"] == {"source": 2}
    assert result.facets["status"] == {"alleged": 1, "verified": 1}
    assert result.facets["violation"] == {"torture": 1, "cruel_treatment": 1}
    assert ids(indexed, "дубинками", SearchFilters(violations=["cruel_treatment"])) == ["so_far"]
    assert ids(indexed, "дубинками", SearchFilters(statuses=["alleged"])) == ["so_ru"]
    assert ids(indexed, "дубинками", SearchFilters(date_from=date(2020, 9, 1))) == ["so_far"]
    assert ids(indexed, "дубинками", SearchFilters(kinds=["person"])) == []
    in_city = ids(indexed, "дубинками", SearchFilters(place="pl_zcity"))  # sub-places included
    assert set(in_city) == {"so_ru", "so_far"}
    assert ids(indexed, "Freedom", SearchFilters(units=["un_zmvd"], kinds=["incident"])) == ["in_1"]
    assert ids(indexed, "Freedom", SearchFilters(units=["un_nobody"], kinds=["incident"])) == []


def test_hits_are_ranked_and_highlighted(indexed: Store) -> None:
    result = search(indexed, "Тихановская")
    assert result.hits and all(a.score >= b.score for a, b in zip(result.hits, result.hits[1:], strict=False))
    hit = next(h for h in result.hits if h.id == "so_ru")
    marked = [hit.snippet[a:b] for a, b in hit.marks]
    assert "Тихановская" in marked


def test_persons_are_labelled_by_pseudonym_not_name(indexed: Store) -> None:
    hit = next(h for h in search(indexed, "Tsikhanouskaya").hits if h.id == "pe_sv")
    assert hit.label == "V-0101"


class _NoSources(ServiceContext):
    def visible(self, kind: str, id_column: ColumnElement[Any]) -> ColumnElement[bool]:
        return false() if kind == "source" else true()


def test_search_keeps_only_what_ctx_visible_allows(indexed: Store) -> None:
    ctx = _NoSources(indexed, Actor("limited"))
    found = ids(ctx, "Tsikhanouskaya")
    assert "pe_sv" in found and "so_ru" not in found


def test_search_within_compartments_of_a_user(indexed: Store) -> None:
    from svidok.access.principal import Principal

    system = ServiceContext(indexed, Actor("admin"))
    for name in ("case-a", "case-b"):
        accounts.create_compartment(system, name)
    accounts.assign_records(system, "case-a", "source", ["so_ru"])
    accounts.assign_records(system, "case-b", "source", ["so_far"])
    analyst = ServiceContext(
        indexed,
        Actor("ana", "analyst"),
        principal=Principal("ana", "analyst", compartments=frozenset({"case-a"})),
    )
    assert ids(analyst, "дубинками") == ["so_ru"]
    assert ids(system, "дубинками", SearchFilters(compartment="case-b")) == ["so_far"]
    assert search(system, "дубинками").facets["compartment"] == {"case-a": 1, "case-b": 1}


def test_refresh_indexes_new_and_changed_records(indexed: Store, tmp_path: Path) -> None:
    new = [
        {
            "record": "source",
            "id": "so_new",
            "kind": "testimony",
            "author_role": "victim",
            "language": "pl",
            "text": "Zatrzymano mnie na placu, bili pałkami.",
            "received_at": "2020-08-15T09:15:00Z",
            "reliability": "C",
            "credibility": 3,
            "origin": "import",
        }
    ]
    register.import_file(indexed, write_jsonl(tmp_path / "new.jsonl", new))
    assert ids(indexed, "pałka") == ["so_new"]  # the import refreshed the index itself
    assert index.refresh(indexed, "source", ["so_new"]) == 1
    assert ids(indexed, "pałka") == ["so_new"]  # pl: pałkami
    assert index.refresh(indexed, "act", ["ac_9"]) == 2  # its incident and the testimony cited for it


def test_an_empty_query_is_refused(indexed: Store) -> None:
    with pytest.raises(InputError):
        search(indexed, "  ")


def test_date_filters_match_the_documents_days_exactly(indexed: Store) -> None:
    from sqlalchemy import select

    days = [
        (date(2020, 8, 13), date(2020, 8, 13)),
        (date(2020, 8, 1), date(2020, 8, 31)),
        (date(2020, 8, 14), date(2020, 9, 19)),
        (date(2020, 1, 1), date(2020, 12, 31)),
        (date(2019, 12, 31), date(2021, 1, 1)),
        (None, date(2020, 8, 13)),
        (date(2020, 9, 20), None),
        (date(2020, 9, 21), None),
    ]
    for first, last in days:
        query = select(index.DOC.c.id).where(index.DOC.c.day.is_not(None))
        with indexed.read() as conn:
            expected = {
                r[0]
                for r in conn.execute(query.add_columns(index.DOC.c.day))
                if (first is None or r[1].date() >= first) and (last is None or r[1].date() <= last)
            }
        for word in ("дубинками", "Tsikhanouskaya", "Freedom"):
            found = set(ids(indexed, word, SearchFilters(date_from=first, date_to=last)))
            unfiltered = set(ids(indexed, word))
            assert found == unfiltered & expected, (word, first, last)


def test_the_fts_index_stays_consistent_through_refreshes(indexed_sqlite: Store, tmp_path: Path) -> None:
    index.refresh(indexed_sqlite, "act", ["ac_9"])
    index.refresh(indexed_sqlite, "source", ["so_ru", "so_far"])
    with indexed_sqlite.begin() as conn:  # raises when an FTS5 row differs from what the view gives
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
    assert ids(indexed_sqlite, "дубинками", SearchFilters(violations=["cruel_treatment"])) == ["so_far"]


def test_an_index_from_before_the_facets_column_is_upgraded_in_place(indexed_sqlite: Store) -> None:
    with indexed_sqlite.begin() as conn:
        index.drop_structures(conn)
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE search_fts USING fts5(terms, names, content='search_doc', "
            "content_rowid='n', tokenize='unicode61 remove_diacritics 0', detail='full')"
        )
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    index._ensured.discard(indexed_sqlite.engine)
    assert ids(indexed_sqlite, "дубинками", SearchFilters(statuses=["alleged"])) == ["so_ru"]


def test_common_words_are_ranked_among_the_newest_matches_and_say_so(
    indexed_sqlite: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from svidok.services import search as search_module

    everything = search(indexed_sqlite, "дубинками")
    assert everything.total == 2 and everything.total_is_exact
    monkeypatch.setattr(search_module, "CANDIDATES", 1)
    capped = search(indexed_sqlite, "дубинками")
    assert capped.total == 1 and not capped.total_is_exact
    assert len(capped.hits) == 1 and sum(capped.facets["kind"].values()) == 1


def test_an_index_from_before_week_tokens_is_upgraded_in_place(indexed_sqlite: Store) -> None:
    week = f"|| ' {index.WEEK_MARK}' || strftime('%Y%m%d', d.day, 'weekday 0', '-6 days') "
    assert week in index._SQLITE[0]
    with indexed_sqlite.begin() as conn:
        index.drop_structures(conn)
        conn.exec_driver_sql(index._SQLITE[0].replace(week, "").replace(index.VIEW_VERSION, "older view"))
        for statement in index._SQLITE[1:]:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    index._ensured.discard(indexed_sqlite.engine)
    # 10 to 23 August 2020 is two whole weeks: found only through week tokens.
    weeks = SearchFilters(date_from=date(2020, 8, 10), date_to=date(2020, 8, 23))
    assert ids(indexed_sqlite, "дубинками", weeks) == ["so_ru"]


def test_kinds_and_violation_types_filter_together_through_pair_tokens(indexed: Store) -> None:
    torture = SearchFilters(kinds=["source"], violations=["torture"])
    cruel = SearchFilters(kinds=["source", "incident"], violations=["cruel_treatment"])
    assert ids(indexed, "дубинками", torture) == ["so_ru"]
    assert ids(indexed, "дубинками", cruel) == ["so_far"]
    assert ids(indexed, "Beatings", cruel) == ["in_9"]
    assert ids(indexed, "Beatings", SearchFilters(kinds=["source"], violations=["cruel_treatment"])) == []
