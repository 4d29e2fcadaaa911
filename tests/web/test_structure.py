"""An operator structures a public submission; the linking engine's suggestions stand beside the form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import People


def _submit(client: TestClient) -> str:
    receipt = client.post(
        "/api/v1/submissions",
        json={
            "language": "ru",
            "what_happened": "Моего брата задержали на площади, с тех пор мы его не видели.",
            "when_date": "2020-08-10",
            "when_time": "18:40",
            "place_text": "Площадь Свободы",
            "victims": [{"name": "Кавалёў Аляксандр"}],
            "perpetrators": [
                {"name": "Савицкий Д.", "rank": "капитан", "badge_number": "0427", "unit": "ОМОН"}
            ],
            "urgent": ["missing_person"],
        },
    )
    assert receipt.status_code == 201
    return receipt.json()["receipt_code"]


def test_an_operator_structures_a_submission(client: TestClient, people: People) -> None:
    _submit(client)
    people.add("op", "intake_operator", ("case-a", "intake"), identity=("case-a", "intake"))
    csrf = people.sign_in(client, "op")
    queue = client.get("/intake?everyone=true").text
    submission_id = re.search(r'href="/intake/(sb_[0-9a-f]+)"', queue)
    assert submission_id
    sid = submission_id.group(1)
    form = client.get(f"/intake/{sid}/structure")
    assert form.status_code == 200
    assert "Suggestions from the linking engine" in form.text
    victim = re.search(r'<option value="(me_[0-9a-f]+)">Кавалёў Аляксандр', form.text)
    assert victim
    done = client.post(
        f"/intake/{sid}/structure",
        data={
            "csrf": csrf,
            "compartment": "case-a",
            "title": "Detention at Freedom Square, 10 Aug",
            "start_date": "2020-08-10",
            "start_time": "18:40",
            "precision": "hour",
            "place": "pl_asquare",
            "status": "alleged",
            "reliability": "C",
            "credibility": "3",
            "act_1_violation": "arbitrary_detention",
            "act_1_victim": victim.group(1),
            "missing_name": "Кавалёў Аляксандр",
            "missing_seen_date": "2020-08-10",
            "missing_seen_time": "18:40",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    incident_id = done.headers["location"].rsplit("/", 1)[1]
    people.add("ina", "investigator", ("case-a",))
    auth = people.token("ina", "record.*")
    shown = client.get(f"/api/v1/incidents/{incident_id}", headers=auth).json()
    assert shown["acts"][0]["violation"] == "arbitrary_detention"
    assert shown["sources"][0]["reliability"] == "C" and shown["sources"][0]["link"]["status"] == "confirmed"
    cases = client.get("/api/v1/missing", headers=auth).json()["items"]
    new_case = next(c for c in cases if c["id"] != "mc_1")
    matched = client.get(f"/api/v1/missing/{new_case['id']}", headers=auth).json()
    assert any(c["to_id"] == "cu_1" for c in matched["candidates"])


def test_structuring_needs_the_operator_role(client: TestClient, people: People) -> None:
    _submit(client)
    people.add("ana", "analyst", ("case-a", "intake"))
    auth = people.token("ana", "record.*")
    queue = client.get("/api/v1/intake/queue?everyone=true", headers=auth).json()
    sid = queue[0]["id"]
    refused = client.post(f"/api/v1/intake/submissions/{sid}/structure", json={"title": "x"}, headers=auth)
    assert refused.status_code == 403
