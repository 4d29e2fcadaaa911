"""Register pages and their JSON twins: roles, compartments, masking, suspects, review decisions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import People

PAGES = [
    "/home",
    "/incidents",
    "/incidents/in_1",
    "/persons/pe_victim1",
    "/units/un_aomon",
    "/custody",
    "/missing",
    "/missing/mc_1",
    "/review",
    "/statistics",
    "/incidents?q=Freedom",
    "/incidents?violation=torture&from=2020-08-01&to=2020-08-31&unit=un_zmvd&place=pl_zcity",
]


def test_an_investigator_sees_every_page(client: TestClient, people: People) -> None:
    people.add("ina", "investigator")
    people.sign_in(client, "ina")
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert "<script" not in response.text and "style=" not in response.text
    incident = client.get("/incidents/in_1").text
    assert "Detentions at Freedom Square" in incident
    assert "Suspect candidates" in incident and "membership mb_1" in incident  # suspects with their evidence
    assert "ev_1" in incident and "2020-08-10 18:35" in incident  # evidence with capture time
    assert "B2" in incident  # source grading
    assert "V-0001" in incident and "Аляксандр Кавалёў" not in incident  # no identity grant: pseudonym


def test_out_of_compartment_answers_exactly_like_missing(client: TestClient, people: People) -> None:
    people.add("ina", "investigator")
    people.sign_in(client, "ina")
    hidden, missing = client.get("/incidents/in_2"), client.get("/incidents/in_404")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text.replace("in_2", "ID") == missing.text.replace("in_404", "ID")
    listed = client.get("/incidents").text
    assert "in_1" in listed and "in_2" not in listed and "Beatings" not in listed
    auth = people.token("ina", "record.*")
    a, b = (
        client.get("/api/v1/incidents/in_2", headers=auth),
        client.get("/api/v1/incidents/in_404", headers=auth),
    )
    assert a.status_code == b.status_code == 404
    assert a.headers["content-type"] == "application/problem+json"
    assert a.json()["detail"].replace("in_2", "ID") == b.json()["detail"].replace("in_404", "ID")


def test_an_analyst_sees_no_suspects_and_identity_needs_a_grant(client: TestClient, people: People) -> None:
    people.add("ana", "analyst", identity=("case-a",))
    people.sign_in(client, "ana")
    incident = client.get("/incidents/in_1").text
    assert "Suspect candidates" not in incident and "membership mb_1" not in incident
    assert "Аляксандр Кавалёў" in incident  # identity granted in case-a
    auth = people.token("ana", "record.view")
    shown = client.get("/api/v1/incidents/in_1", headers=auth).json()
    assert shown["suspects_shown"] is False and all(not a["suspects"] for a in shown["acts"])
    review = client.get("/review?kind=suspect_act").text
    assert "li_s1" not in review


def test_roles_without_contents_are_refused(client: TestClient, people: People) -> None:
    people.add("adm", "admin")
    people.sign_in(client, "adm")
    assert client.get("/home").status_code == 200
    for path in ("/incidents", "/incidents/in_1", "/review", "/custody", "/intake"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Aляксандр" not in response.text
    auth = people.token("adm", "user.list")
    refused = client.get("/api/v1/incidents", headers=auth)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    anonymous = client.get("/api/v1/incidents")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")


def test_a_reviewer_confirms_a_link_with_the_csrf_token(client: TestClient, people: People) -> None:
    people.add("ana", "analyst")
    csrf = people.sign_in(client, "ana")
    queue = client.get("/review?kind=mention_person").text
    assert "li_1" in queue and "surname" in queue
    assert client.post("/review/li_1/decide", data={"decision": "confirm"}).status_code == 403
    done = client.post(
        "/review/li_1/decide", data={"decision": "confirm", "csrf": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    assert "li_1" in client.get("/review?kind=mention_person&status=confirmed").text
    auth = people.token("ana", "link.*")
    rejected = client.post("/api/v1/links/li_e1/decision", json={"decision": "reject"}, headers=auth)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"


def test_custody_search_across_scripts_and_missing_cases(client: TestClient, people: People) -> None:
    people.add("ina", "investigator", identity=("case-a",))
    people.sign_in(client, "ina")
    found = client.get("/custody?name=Kovalev").text
    assert "cu_1" in found
    case = client.get("/missing/mc_1").text
    assert "li_m1" in case and "held 4 h after last seen" in case
    auth = people.token("ina", "record.*")
    assert client.get("/api/v1/custody", params={"name": "Ковалев"}, headers=auth).json()["total"] == 1
    assert client.get("/api/v1/missing", headers=auth).json()["items"][0]["candidates"] == 1
    stats = client.get("/api/v1/statistics", headers=people.token("ina", "register.stats")).json()
    assert stats["totals"]["acts"] == 1


def test_custody_name_search_never_matches_a_masked_name(client: TestClient, people: People) -> None:
    people.add("ana", "analyst")
    auth = people.token("ana", "record.search")
    assert client.get("/api/v1/custody", params={"name": "Kovalev"}, headers=auth).json()["total"] == 0
    assert client.get("/api/v1/custody", headers=auth).json()["items"][0]["recorded_name"] == "[redacted]"


def test_first_sign_in_must_change_the_password(client: TestClient, people: People) -> None:
    enrolment = people.add("newbie", "analyst", first_login=True)
    response = client.post(
        "/login",
        data={"name": "newbie", "password": enrolment.password, "code": people.code("newbie")},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/account/password"
    assert client.get("/incidents", follow_redirects=False).headers["location"] == "/account/password"
    page = client.get("/account/password").text
    import re

    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert csrf
    changed = client.post(
        "/account/password",
        data={"csrf": csrf.group(1), "old": enrolment.password, "new": "a much longer passphrase 42"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert client.get("/incidents").status_code == 200


def test_sign_out_ends_the_session(client: TestClient, people: People) -> None:
    people.add("ana", "analyst")
    csrf = people.sign_in(client, "ana")
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/incidents").status_code == 401
