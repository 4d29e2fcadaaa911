"""Suspect candidates come from deployments, rosters and the sources, each with its evidence."""

from __future__ import annotations

from pathlib import Path

from svidok.linking.suspects import SuspectSettings, suspect_candidates
from svidok.services import register
from svidok.store.register import Store
from tests.factories import RECORDS, write_jsonl

EXTRA = [
    {"record": "unit", "id": "un_plat2", "kind": "platoon", "name": "2-і ўзвод", "parent_id": "un_aomon"},
    {"record": "unit", "id": "un_other", "kind": "riot_police", "name": "Other unit"},
    {"record": "place", "id": "pl_far", "kind": "square", "name": "Far square", "lat": 53.95, "lon": 27.60},
    {"record": "person", "id": "pe_badge", "primary_name": "Іван Сідарэнка", "pseudonym": "P-2", "sex": "male"},
    {"record": "person", "id": "pe_left", "primary_name": "Пётр Лазоўскі", "pseudonym": "P-3", "sex": "male"},
    {"record": "person", "id": "pe_elsewhere", "primary_name": "Павел Жук", "pseudonym": "P-4", "sex": "male"},
    {"record": "membership", "id": "mb_badge", "person_id": "pe_badge", "unit_id": "un_plat2",
     "rank": "сяржант", "badge_number": "0427", "start_date": "2018-05"},
    {"record": "membership", "id": "mb_left", "person_id": "pe_left", "unit_id": "un_aomon",
     "start_date": "2012", "end_date": "2019-12-31"},
    {"record": "membership", "id": "mb_else", "person_id": "pe_elsewhere", "unit_id": "un_other",
     "start_date": "2012"},
    {"record": "deployment", "id": "de_far", "unit_id": "un_other", "place_id": "pl_far",
     "start_at": "2020-08-10T15:00:00Z", "end_at": "2020-08-11T03:00:00Z"},
]


def test_candidates_are_ranked_with_the_evidence_behind_each(store: Store, tmp_path: Path) -> None:
    register.import_file(store, write_jsonl(tmp_path / "r.jsonl", RECORDS + EXTRA))
    with store.read() as conn:
        found = {c.candidate_id: c for c in suspect_candidates(conn, SuspectSettings())}
    # who was not there, or no longer served, is not a candidate
    assert "un_other" not in found and "pe_elsewhere" not in found and "pe_left" not in found
    unit = found["un_aomon"]
    assert unit.kind == "unit" and "deployment de_1" in unit.explanation[0]
    # the roster badge named by a perpetrator mention outranks plain roster membership
    badge, officer = found["pe_badge"], found["pe_officer1"]
    assert badge.score > officer.score
    assert any("badge number 0427" in r and "me_1" in r for r in badge.explanation)
    assert any("sub-unit of un_aomon" in r for r in badge.explanation)
    assert any("rank капитан" in r for r in officer.explanation)
    assert all(c.act_id == "ac_1" for c in found.values())


def test_a_person_the_sources_name_is_the_strongest_candidate(store: Store, tmp_path: Path) -> None:
    records = [dict(r) for r in RECORDS + EXTRA]
    mention = next(r for r in records if r["id"] == "me_1")
    mention["person_id"] = "pe_officer1"
    mention["badge_number"] = None  # no roster badge points elsewhere
    register.import_file(store, write_jsonl(tmp_path / "r.jsonl", records))
    with store.read() as conn:
        ranked = suspect_candidates(conn, SuspectSettings(), only_acts=["ac_1"])
    assert ranked[0].candidate_id == "pe_officer1"
    assert any("named as perpetrator in source(s) so_t1" in r for r in ranked[0].explanation)
