"""Search, exports, evidence packages and public statistics through the web (issue 8)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from svidok.reports.verify_package import verify
from svidok.services import register
from svidok.services.keys import Protection
from svidok.store.models import Base
from tests.web.conftest import People

AUDIT = Base.metadata.tables["audit_entry"]


def _audit(protection: Protection, action: str) -> list[dict[str, Any]]:
    with protection.store.read() as conn:
        rows = conn.execute(select(AUDIT.c.actor, AUDIT.c.details).where(AUDIT.c.action == action))
        return [{"actor": a, "details": d if isinstance(d, dict) else json.loads(d or "{}")} for a, d in rows]


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(path).text)
    assert found
    return found.group(1)


def test_search_page_finds_across_scripts_with_highlights_and_facets(
    client: TestClient, people: People
) -> None:
    people.add("ina", "investigator")
    people.sign_in(client, "ina")
    page = client.get("/search", params={"q": "Kavaliou"})  # Latin query, Cyrillic name
    assert page.status_code == 200
    assert "<script" not in page.text and "style=" not in page.text
    assert "/persons/pe_victim1" in page.text and "V-0001" in page.text
    assert "Аляксандр Кавалёў" not in page.text  # persons are shown by pseudonym
    testimony = client.get("/search", params={"q": "затрымаць"}).text  # be: затрымалі
    assert "so_t1" in testimony and re.search(r"<mark>[^<]*затрымалі[^<]*</mark>", testimony)
    assert 'id="facets"' in testimony and "kind=source" in testimony
    filtered = client.get("/search", params={"q": "Freedom", "kind": "incident", "violation": "torture"})
    assert "/incidents/in_1" in filtered.text
    none = client.get("/search", params={"q": "Freedom", "kind": "person"})
    assert "/incidents/in_1" not in none.text


def test_search_stays_inside_the_callers_compartments(client: TestClient, people: People) -> None:
    people.add("ina", "investigator")  # case-a only
    people.sign_in(client, "ina")
    page = client.get("/search", params={"q": "Beatings"}).text
    assert "in_2" not in page and "CANARY" not in page
    auth = people.token("ina", "record.*")
    found = client.get("/api/v1/search", params={"q": "Beatings yard"}, headers=auth).json()
    assert found["hits"] == []
    mine = client.get("/api/v1/search", params={"q": "Freedom", "kind": "incident"}, headers=auth)
    assert mine.status_code == 200
    assert [h["id"] for h in mine.json()["hits"]] == ["in_1"]
    assert mine.json()["facets"]["kind"] == {"incident": 1}


def test_search_api_refuses_bad_input_as_problems(client: TestClient, people: People) -> None:
    people.add("ina", "investigator")
    auth = people.token("ina", "record.*")
    empty = client.get("/api/v1/search", params={"q": " "}, headers=auth)
    assert empty.status_code == 422 and empty.headers["content-type"] == "application/problem+json"
    bad_kind = client.get("/api/v1/search", params={"q": "x", "kind": "secret"}, headers=auth)
    assert bad_kind.status_code == 422
    assert client.get("/api/v1/search", params={"q": "Freedom"}).status_code == 401


def test_exports_download_for_investigators_only_and_are_audited(
    client: TestClient, people: People, protection: Protection
) -> None:
    people.add("ana", "analyst")
    people.sign_in(client, "ana")
    assert client.get("/exports").status_code == 403
    people.add("ina", "investigator")
    people.sign_in(client, "ina")
    csrf = _csrf(client, "/exports")
    ftm = client.post("/exports", data={"csrf": csrf, "format": "ftm"})
    assert ftm.status_code == 200 and "attachment" in ftm.headers["content-disposition"]
    entities = [json.loads(line) for line in ftm.text.splitlines()]
    assert entities and all("schema" in e for e in entities)
    assert "CANARY-TEXT-B" not in ftm.text  # case-b is outside ina's compartments
    one = client.post("/exports", data={"csrf": csrf, "format": "csv", "record_type": "incident"})
    rows = list(csv.DictReader(io.StringIO(one.text)))
    assert [r["id"] for r in rows] == ["in_1"]
    bundle = client.post("/exports", data={"csrf": csrf, "format": "csv"})
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as z:
        assert {"incident.csv", "source.csv", "person.csv"} <= set(z.namelist())
    jsonl = client.post("/exports", data={"csrf": csrf, "format": "jsonl"})
    assert {json.loads(line)["record"] for line in jsonl.text.splitlines()} >= {"incident", "source"}
    assert client.post("/exports", data={"csrf": "0" * 64, "format": "ftm"}).status_code == 403
    assert client.post("/exports", data={"csrf": csrf, "format": "xml"}).status_code == 422
    entries = _audit(protection, "register.export")
    assert [e["details"]["format"] for e in entries] == ["ftm", "csv", "csv", "jsonl"]
    assert entries[1]["details"]["types"] == ["incident"] and {e["actor"] for e in entries} == {"ina"}
    spool = protection.keyring.data_dir / ".downloads"
    assert not any(spool.iterdir())  # every download's files are removed once sent


def test_export_api_needs_a_token_of_an_exporting_role(
    client: TestClient, people: People, protection: Protection
) -> None:
    people.add("ina", "investigator")
    people.add("ana", "analyst")
    assert client.post("/api/v1/exports/jsonl", headers=people.token("ana", "record.*")).status_code == 403
    done = client.post(
        "/api/v1/exports/csv", params={"record_type": "source"}, headers=people.token("ina", "register.*")
    )
    assert done.status_code == 200, done.text
    assert [r["id"] for r in csv.DictReader(io.StringIO(done.text))] == ["so_t1"]
    assert len(_audit(protection, "register.export")) == 1


def test_a_package_is_made_in_the_web_and_verifies(
    client: TestClient, people: People, protection: Protection, tmp_path: Path
) -> None:
    people.add("ina", "investigator")
    people.sign_in(client, "ina")
    page = client.get("/incidents/in_1/package")
    assert page.status_code == 200
    key = re.search(r'id="verifier-key">([^<]+)<', page.text)
    assert key
    csrf = _csrf(client, "/incidents/in_1/package")
    made = client.post("/incidents/in_1/package", data={"csrf": csrf, "purpose": "court request 12"})
    assert made.status_code == 200, made.text[:300]
    assert made.headers["content-type"] == "application/zip"
    assert made.headers["x-svidok-verifier-key"] == key.group(1).replace("&#43;", "+")
    path = tmp_path / "p.zip"
    path.write_bytes(made.content)
    assert verify(str(path), made.headers["x-svidok-verifier-key"]) == []
    with zipfile.ZipFile(path) as z:
        record = json.loads(z.read("record.json"))
    assert record["incident"]["id"] == "in_1"
    entries = _audit(protection, "evidence.package")
    assert len(entries) == 1 and entries[0]["details"]["purpose"] == "court request 12"
    hidden = client.post("/incidents/in_2/package", data={"csrf": csrf})
    missing = client.post("/incidents/in_404/package", data={"csrf": csrf})
    assert hidden.status_code == missing.status_code == 404
    api = client.post(
        "/api/v1/incidents/in_1/package",
        json={"purpose": "api"},
        headers=people.token("ina", "evidence.*"),
    )
    assert api.status_code == 200 and api.content[:2] == b"PK"
    people.add("ana", "analyst")
    refused = client.post("/api/v1/incidents/in_1/package", headers=people.token("ana", "record.*"))
    assert refused.status_code == 403


def _many_incidents(n: int, place: str, start: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(start, start + n):
        out.append(
            {
                "record": "incident",
                "id": f"in_p{i}",
                "title": f"Public {i}",
                "start_at": "2020-08-20T10:00:00Z",
                "place_id": place,
                "status": "verified",
            }
        )
        out.append({"record": "act", "id": f"ac_p{i}", "incident_id": f"in_p{i}", "violation": "torture"})
    return out


def test_public_statistics_need_no_login_withhold_small_counts_and_never_name_suspects(
    client: TestClient, people: People, protection: Protection
) -> None:
    from tests.factories import write_jsonl

    records = _many_incidents(12, "pl_bcip", 0) + _many_incidents(15, "pl_zcity", 100)
    register.import_file(people.system, write_jsonl(protection.keyring.data_dir / "p.jsonl", records))
    page = client.get("/public/statistics")
    assert page.status_code == 200 and "<script" not in page.text
    assert "withheld" in page.text
    for secret in ("Савіцкі", "P-0001", "pe_officer1", "un_aomon", "CANARY"):
        assert secret not in page.text
    data = client.get("/api/v1/public/statistics").json()
    places = next(t for t in data["tables"] if t["name"] == "incidents_by_place")
    assert any(c["count"] and c["count"] >= 12 and not c["suppressed"] for c in places["cells"])
    assert any(c["suppressed"] for c in places["cells"])  # in_1's place has one incident
    for table in data["tables"]:
        for cell in table["cells"]:
            assert cell["suppressed"] in (True, False)  # withheld, never why
            assert cell["count"] is None or cell["count"] == 0 or cell["count"] >= data["threshold"]
    sheet = client.get("/public/statistics.csv")
    assert sheet.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    assert {r["table"] for r in rows} >= {"incidents_by_place", "acts_by_violation"}
    assert all(r["count"] == "" for r in rows if r["withheld"] == "yes")


def test_in_chromium_a_search_across_scripts_and_a_package_that_verifies(
    server: str, browser: Any, people: People, tmp_path: Path
) -> None:
    """Headless Chromium, JavaScript off: a Latin query finds a Cyrillic name, then the incident's
    package is downloaded and `svidok package verify` accepts it with the key the page shows."""
    import subprocess
    import sys

    from tests.web.conftest import ARTIFACTS

    people.add("ina", "investigator")
    context = browser.new_context(java_script_enabled=False, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.on("dialog", lambda d: (_ for _ in ()).throw(AssertionError(f"a dialog ran: {d.message}")))
    page.goto(server + "/login")
    page.fill("input[name=name]", "ina")
    page.fill("input[name=password]", people.enrolled["ina"].password)
    page.fill("input[name=code]", people.code("ina"))
    page.click("main button[type=submit]")
    page.wait_for_selector("nav.ops")
    page.click("nav.ops a[href='/search']")
    page.fill("input[name=q]", "Kavaliou")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("#results")
    assert page.locator("#results a[href='/persons/pe_victim1']").count() == 1
    page.fill("input[name=q]", "Freedom")
    page.click("form.filters button[type=submit]")
    page.click("#results a[href='/incidents/in_1']")
    page.click("#package-link")
    key = page.inner_text("#verifier-key")
    page.fill("input[name=purpose]", "browser test")
    with page.expect_download() as download:
        page.click("#make-package")
    path = tmp_path / "in_1.zip"
    download.value.save_as(str(path))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "outputs-package.png"), full_page=True)
    context.close()
    svidok = Path(sys.executable).with_name("svidok")
    done = subprocess.run(
        [str(svidok), "package", "verify", str(path), "--key", key],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "package verifies" in done.stdout
