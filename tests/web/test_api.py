"""Headers, problem details, the operators' queue and its routing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.services.keys import Protection
from svidok.settings import Settings
from svidok.web import create_app
from svidok.web.config import WebSettings
from tests.web.conftest import People


@pytest.mark.parametrize(
    "path", ["/", "/add", "/api/v1/health", "/api/v1/openapi.json", "/static/svidok.css", "/nope"]
)
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get("http://testserver" + path)  # plain HTTP: no HSTS
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in response.headers
    assert "server" not in response.headers


def test_pages_never_inline_scripts_or_styles(client: TestClient) -> None:
    for path in ("/", "/add", "/login", "/?lang=be"):
        html = client.get(path).text
        assert "<script" not in html and "style=" not in html and "<style" not in html
        assert "http://" not in html and "https://" not in html  # every asset is local


def test_hsts_under_tls(protection: Protection) -> None:
    app = create_app(
        Settings(data_dir=protection.keyring.data_dir), protection=protection, web=WebSettings(tls=True)
    )
    with TestClient(app) as client:
        assert client.get("/").headers["strict-transport-security"].startswith("max-age=")


def test_errors_are_problem_details_in_the_api_and_pages_in_the_ui(client: TestClient) -> None:
    missing = client.get("/api/v1/vocabularies/nothing")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["title"] == "Not Found" and missing.json()["status"] == 404
    invalid = client.post("/api/v1/submissions", json={"what_happened": "", "lat": 100})
    body = invalid.json()
    assert invalid.status_code == 422 and body["type"] == "about:blank" and "errors" in body
    assert "input" not in str(body["errors"])
    page = client.get("/no/such/page?lang=pl")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Coś poszło nie tak" in page.text and "Traceback" not in page.text
    assert client.get("/api/v1/intake/queue").status_code == 401


def test_an_unexpected_error_shows_nothing_of_what_was_sent(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    state = client.app.state.svidok  # type: ignore[attr-defined]

    def broken(*_: object) -> None:
        raise RuntimeError("testimony text SECRET-WORDS in an SQL error")

    async def broken_async(*_: object) -> None:
        broken()

    monkeypatch.setattr(state.intake, "submit", broken)
    monkeypatch.setattr(state.intake, "submit_async", broken_async)
    page = client.post("/submit", data={"lang": "en", "what_happened": "SECRET-WORDS"})
    api = client.post("/api/v1/submissions", json={"what_happened": "SECRET-WORDS"})
    assert page.status_code == 500 and api.status_code == 500
    assert api.headers["content-type"] == "application/problem+json"
    for response in (page, api):
        assert "SECRET" not in response.text and "Traceback" not in response.text
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "SECRET" not in caplog.text


def test_bodies_beyond_the_limit_are_refused(protection: Protection) -> None:
    app = create_app(
        Settings(data_dir=protection.keyring.data_dir),
        protection=protection,
        web=WebSettings(max_request_bytes=1000),
    )
    with TestClient(app) as client:
        response = client.post("/api/v1/submissions", json={"what_happened": "x" * 2000})
        assert response.status_code == 413 and response.headers["content-type"] == "application/problem+json"


def test_the_queue_is_routed_by_language_and_urgency(client: TestClient, people: People) -> None:
    people.add("op-anna", "intake_operator", ("intake",))
    auth = people.token("op-anna", "record.*")

    def submit(lang: str, urgent: list[str]) -> None:
        assert (
            client.post(
                "/api/v1/submissions", json={"what_happened": "x", "language": lang, "urgent": urgent}
            ).status_code
            == 201
        )

    submit("ru", [])
    submit("pl", ["ongoing_detention"])
    submit("be", ["missing_person"])
    submit("ru", ["needs_medical_care"])
    submit("be", [])
    assert (
        client.put("/api/v1/intake/languages", json={"languages": ["be", "ru"]}, headers=auth).status_code
        == 200
    )
    mine = client.get("/api/v1/intake/queue", headers=auth).json()
    assert [(i["language"], i["urgency"]) for i in mine] == [("be", 4), ("ru", 2), ("ru", 0), ("be", 0)]
    everyone = client.get("/api/v1/intake/queue?everyone=true", headers=auth).json()
    assert [i["urgency"] for i in everyone] == [4, 4, 2, 0, 0]
    first = mine[0]["id"]
    taken = client.post(f"/api/v1/intake/submissions/{first}/take", headers=auth).json()
    assert taken["status"] == "assigned" and taken["assigned_to"] == "op-anna"
    shown = client.get(f"/api/v1/intake/submissions/{first}", headers=auth).json()
    assert shown["sources"][0]["text"] == "x" and "passphrase_hash" not in shown


def test_operator_pages_need_a_sign_in_and_a_csrf_token(client: TestClient, people: People) -> None:
    people.add("op-anna", "intake_operator", ("intake",))
    assert client.get("/intake").status_code == 401
    assert "/login" in client.get("/intake").text
    wrong = client.post("/login", data={"name": "op-anna", "password": "wrong", "code": "000000"})
    assert wrong.status_code == 401
    people.sign_in(client, "op-anna")
    cookie = next(c for c in client.cookies.jar if c.name == "__Host-svidok-session")
    assert cookie.secure and cookie.path == "/" and cookie.has_nonstandard_attr("HttpOnly")
    assert client.get("/intake").status_code == 200
    assert client.post("/intake/languages", data={"languages": ["ru"]}).status_code == 403


def test_the_app_refuses_to_start_without_a_passphrase(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path / "d")
    Protection.open(
        settings, MasterSecret(passphrase="web passphrase"), create=True, params=TEST_ARGON2
    ).close()
    from svidok.errors import ConfigError

    with pytest.raises(ConfigError):
        create_app(settings)
    app = create_app(Settings(data_dir=tmp_path / "d", passphrase="web passphrase"))
    with TestClient(app) as client:
        assert client.get("/api/v1/health").json() == {"status": "ok"}
    app.state.svidok.protection.close()
