"""Builders of small, fictional, consistent registers for tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

T0 = "2020-08-10T18:30:00Z"


RECORDS: list[dict[str, Any]] = [
    {"record": "place", "id": "pl_zcity", "kind": "city", "name": "Горад Н",
     "names": {"be": "Горад Н", "ru": "Город Н", "en": "N-city"}, "lat": 53.9, "lon": 27.5667},
    {"record": "place", "id": "pl_asquare", "kind": "square", "name": "Плошча Свабоды",
     "names": {"en": "Freedom Square"}, "lat": 53.90341, "lon": 27.556712, "parent_id": "pl_zcity"},
    {"record": "place", "id": "pl_bcip", "kind": "detention_facility", "name": "ЦІП на вул. Ясной",
     "names": {"ru": "ЦИП на ул. Ясной", "en": "Yasnaya St. detention centre"}, "parent_id": "pl_zcity"},
    {"record": "unit", "id": "un_zmvd", "kind": "ministry", "name": "Міністэрства ўнутраных спраў"},
    {"record": "unit", "id": "un_aomon", "kind": "riot_police", "name": "АМАП ГУУС", "abbreviation": "АМАП",
     "parent_id": "un_zmvd"},
    {"record": "person", "id": "pe_victim1", "primary_name": "Аляксандр Кавалёў", "pseudonym": "V-0001",
     "sex": "male", "birth_date": "1991-03"},
    {"record": "person", "id": "pe_officer1", "primary_name": "Дзмітрый Савіцкі", "pseudonym": "P-0001",
     "sex": "male"},
    {"record": "person_name", "id": "pn_1", "person_id": "pe_victim1", "name": "Aliaksandr Kavaliou",
     "lang": "be", "script": "Latn", "kind": "translit"},
    {"record": "source", "id": "so_t1", "kind": "testimony", "author_role": "victim", "language": "be",
     "text": "Мяне затрымалі каля плошчы і білі ў аўтазаку.", "received_at": "2020-08-12T09:15:00Z",
     "reliability": "B", "credibility": 2, "origin": "import"},
    {"record": "incident", "id": "in_1", "title": "Detentions at Freedom Square", "summary": None,
     "start_at": T0, "start_offset_min": 180, "start_precision": "minute", "end_at": "2020-08-10T21:00:00Z",
     "end_precision": "hour", "place_id": "pl_asquare", "place_text": "каля плошчы", "lat": 53.9034,
     "lon": 27.5567, "status": "alleged"},
    {"record": "act", "id": "ac_1", "incident_id": "in_1", "violation": "torture", "victim_id": "pe_victim1",
     "occurred_at": "2020-08-10T19:00:00Z", "precision": "hour", "injuries": ["bruising", "head_injury"]},
    {"record": "involvement", "id": "iv_1", "act_id": "ac_1", "unit_id": "un_aomon", "role": "direct_perpetrator",
     "confidence": 0.7},
    {"record": "mention", "id": "me_1", "source_id": "so_t1", "role": "perpetrator", "raw_name": "Савицкий Д.",
     "rank": "капитан", "badge_number": "0427", "unit_text": "ОМОН", "unit_id": "un_aomon"},
    {"record": "membership", "id": "mb_1", "person_id": "pe_officer1", "unit_id": "un_aomon", "rank": "капитан",
     "start_date": "2015", "end_date": None},
    {"record": "deployment", "id": "de_1", "unit_id": "un_aomon", "place_id": "pl_asquare",
     "start_at": "2020-08-10T15:00:00Z", "end_at": "2020-08-11T03:00:00Z"},
    {"record": "custody_record", "id": "cu_1", "person_id": "pe_victim1", "recorded_name": "КОВАЛЁВ А.С.",
     "facility_id": "pl_bcip", "held_from": "2020-08-10T23:10:00Z", "held_to": "2020-08-13T08:00:00Z",
     "arresting_unit_id": "un_aomon", "injuries": ["bruising"], "source_id": "so_t1"},
    {"record": "missing_case", "id": "mc_1", "missing_name": "Кавалёў Аляксандр", "sex": "male",
     "reported_at": "2020-08-11T07:00:00Z", "last_seen_at": T0, "last_seen_place_id": "pl_asquare",
     "status": "located_in_custody", "reporter_contact": "+000 00 000 0000"},
    {"record": "evidence", "id": "ev_1", "source_id": "so_t1", "media_type": "video/mp4",
     "original_name": "VID_20200810_183512.mp4", "size_bytes": 48_211_004, "sha256": "ab" * 32,
     "capture_start": "2020-08-10T18:35:12Z", "capture_end": "2020-08-10T18:37:40Z",
     "capture_time_basis": "metadata", "lat": 53.90352, "lon": 27.55661, "capture_place_basis": "metadata",
     "received_at": "2020-08-12T09:16:00Z", "device": "phone"},
    {"record": "citation", "id": "ci_1", "source_id": "so_t1", "subject_kind": "act", "subject_id": "ac_1",
     "field": "", "confidence": 0.8},
    {"record": "link", "id": "li_1", "kind": "mention_person", "from_id": "me_1", "to_id": "pe_officer1",
     "score": 0.91, "explanation": ["surname: Савицкий ~ Савіцкі (be/ru ending)"], "method": "names-v1",
     "status": "suggested", "created_at": "2020-08-13T00:00:00Z"},
]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path
