"""Testimonies are matched to the incidents they describe by time, place and shared persons."""

from __future__ import annotations

from pathlib import Path

from svidok.linking.reports import ReportLinkSettings, suggest_report_links
from svidok.services import register
from svidok.store.register import Store
from tests.factories import RECORDS, write_jsonl

BASE = {"kind": "testimony", "received_at": "2020-08-15T10:00:00Z", "reliability": "C", "credibility": 3}
EXTRA = [
    {"record": "incident", "id": "in_2", "title": "Beatings at the detention centre", "start_at": "2020-08-11T00:00:00Z",
     "end_at": "2020-08-11T06:00:00Z", "place_id": "pl_bcip", "lat": 53.87, "lon": 27.50},
    # the evening at the square, 300 m away, names the victim of in_1
    {"record": "source", "id": "so_near", **BASE, "reported_start": "2020-08-10T19:00:00Z",
     "reported_end": "2020-08-10T20:00:00Z", "reported_lat": 53.9061, "reported_lon": 27.5567},
    {"record": "mention", "id": "me_near", "source_id": "so_near", "role": "victim", "raw_name": "Кавалёў",
     "person_id": "pe_victim1"},
    # same evening, 600 m away, nobody named: suggested with a lower score
    {"record": "source", "id": "so_anon", **BASE, "reported_start": "2020-08-10T19:30:00Z",
     "reported_lat": 53.8980, "reported_lon": 27.5567},
    # no coordinates, but a reported place: the place's coordinates are used
    {"record": "source", "id": "so_place", **BASE, "reported_start": "2020-08-10T19:30:00Z",
     "reported_place_id": "pl_asquare"},
    # the night at the detention centre
    {"record": "source", "id": "so_night", **BASE, "reported_start": "2020-08-11T02:00:00Z",
     "reported_lat": 53.8701, "reported_lon": 27.5002},
    # a week later: nothing
    {"record": "source", "id": "so_later", **BASE, "reported_start": "2020-08-17T19:00:00Z",
     "reported_lat": 53.9034, "reported_lon": 27.5567},
]


def test_reports_find_their_incidents(store: Store, tmp_path: Path) -> None:
    register.import_file(store, write_jsonl(tmp_path / "r.jsonl", RECORDS + EXTRA))
    with store.read() as conn:
        found = suggest_report_links(conn, ReportLinkSettings())
    best = {}
    for s in found:
        best.setdefault(s.from_id, s)
    assert best["so_near"].to_id == "in_1" and best["so_night"].to_id == "in_2"
    assert best["so_anon"].to_id == "in_1" and best["so_place"].to_id == "in_1"
    assert "so_later" not in best
    assert "so_t1" not in best  # already cited for in_1: decided
    assert best["so_near"].score > best["so_anon"].score
    assert any(r.startswith("persons: 1 named in both (pe_victim1)") for r in best["so_near"].explanation)
    assert any("m from the incident's place" in r for r in best["so_near"].explanation)
