"""Evidence is matched to incidents by capture time and place, with the distances as explanation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from svidok.linking.evidence import EvidenceLinkSettings, suggest_evidence_links
from svidok.services import register
from svidok.store.links import write_suggestions
from svidok.store.register import Store, table_of
from tests.factories import RECORDS, write_jsonl

EXTRA = [
    # 20 minutes after the incident window ended, 600 m away: suggested, scored lower
    {"record": "evidence", "id": "ev_late", "media_type": "video/mp4", "size_bytes": 10, "sha256": "cd" * 32,
     "capture_start": "2020-08-10T21:20:00Z", "capture_end": "2020-08-10T21:25:00Z", "lat": 53.9088,
     "lon": 27.5567, "received_at": "2020-08-12T09:16:00Z"},
    # same place, next morning: too far in time
    {"record": "evidence", "id": "ev_morning", "media_type": "image/jpeg", "size_bytes": 10, "sha256": "ef" * 32,
     "capture_start": "2020-08-11T08:00:00Z", "lat": 53.9034, "lon": 27.5567,
     "received_at": "2020-08-12T09:16:00Z"},
    # right time, 5 km away: too far in space
    {"record": "evidence", "id": "ev_far", "media_type": "image/jpeg", "size_bytes": 10, "sha256": "01" * 32,
     "capture_start": "2020-08-10T19:00:00Z", "lat": 53.95, "lon": 27.5567,
     "received_at": "2020-08-12T09:16:00Z"},
    # no coordinates of its own, but a place with coordinates: matched through the place
    {"record": "evidence", "id": "ev_place", "media_type": "image/jpeg", "size_bytes": 10, "sha256": "02" * 32,
     "capture_start": "2020-08-10T19:00:00Z", "place_id": "pl_asquare", "received_at": "2020-08-12T09:16:00Z"},
]


def _load(store: Store, tmp_path: Path) -> None:
    register.import_file(store, write_jsonl(tmp_path / "r.jsonl", RECORDS + EXTRA))


def test_items_near_in_time_and_space_are_suggested_with_distances(store: Store, tmp_path: Path) -> None:
    _load(store, tmp_path)
    with store.read() as conn:
        found = {s.from_id: s for s in suggest_evidence_links(conn, EvidenceLinkSettings())}
    assert set(found) == {"ev_1", "ev_late", "ev_place"}
    assert all(s.to_id == "in_1" for s in found.values())
    assert found["ev_1"].score > found["ev_late"].score > 0
    assert "overlaps the incident" in found["ev_1"].explanation[0]
    assert "20 min after the incident" in found["ev_late"].explanation[0]
    distance = int(found["ev_late"].explanation[1].split()[1])
    assert 550 <= distance <= 650


def test_a_rerun_keeps_human_decisions(store: Store, tmp_path: Path) -> None:
    _load(store, tmp_path)
    now = datetime(2020, 9, 1, tzinfo=UTC).replace(tzinfo=None)
    settings = EvidenceLinkSettings()
    with store.begin() as conn:
        write_suggestions(conn, suggest_evidence_links(conn, settings), now=now)
    link = table_of("link")
    with store.begin() as conn:
        conn.execute(
            link.update()
            .where(link.c.from_id == "ev_late")
            .values(status="rejected", decided_by="analyst-1", decided_at=now)
        )
    with store.begin() as conn:
        write_suggestions(
            conn,
            suggest_evidence_links(conn, settings),
            now=now,
            replace_stale=("evidence_incident", settings.method),
        )
    with store.read() as conn:
        rows = {
            r.from_id: r
            for r in conn.execute(select(link).where(link.c.kind == "evidence_incident"))
        }
    assert rows["ev_late"].status == "rejected" and rows["ev_late"].decided_by == "analyst-1"
    assert rows["ev_1"].status == "suggested"
    assert len(rows) == 3
