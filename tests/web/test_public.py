"""The public pages: languages, receipts, files, sealed contacts, escaping, nothing about the network."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from svidok.services.keys import Protection, open_identity
from svidok.store.models import Base
from tests.web.conftest import People

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
SUBMISSION = Base.metadata.tables["submission"]


def _receipt(html: str) -> tuple[str, str]:
    code = re.search(r'id="receipt-code">([^<]+)<', html)
    passphrase = re.search(r'id="receipt-passphrase">([^<]+)<', html)
    assert code and passphrase
    return code.group(1), passphrase.group(1)


def _count(p: Protection, table: str) -> int:
    with p.store.read() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_language_from_browser_and_switch(client: TestClient) -> None:
    assert 'lang="be"' in client.get("/", headers={"accept-language": "be-BY,ru;q=0.8"}).text
    assert 'lang="pl"' in client.get("/", headers={"accept-language": "de, pl;q=0.7, ru;q=0.5"}).text
    assert 'lang="en"' in client.get("/", headers={"accept-language": "de"}).text
    page = client.get("/?lang=uk", headers={"accept-language": "ru"}).text
    assert 'lang="uk"' in page and "Повідомити про те, що сталося" in page
    for lang, word in {"ru": "Отправить", "pl": "Wyślij", "be": "Адправіць", "en": "Send"}.items():
        assert word in client.get(f"/submit?lang={lang}").text


def test_submission_returns_a_receipt_once_and_stores_only_digests(
    client: TestClient, protection: Protection
) -> None:
    response = client.post(
        "/submit",
        data={
            "lang": "ru",
            "what_happened": "Задержали у метро, били в автозаке.",
            "when_date": "2020-08-10",
            "when_time": "22:30",
            "when_precision": "minute",
            "place_text": "Пушкинская",
            "lat": "53.909",
            "lon": "27.495",
            "perp_1_name": "Иванов",
            "perp_1_badge": "0421",
            "perp_1_unit": "ОМОН",
            "victim_1_name": "Пётр",
            "injuries": ["bruising", "head_injury"],
            "urgent": ["needs_medical_care"],
        },
    )
    assert response.status_code == 201
    code, passphrase = _receipt(response.text)
    with protection.store.read() as conn:
        row = conn.execute(select(SUBMISSION)).mappings().one()
        source = conn.execute(text("SELECT * FROM source")).mappings().one()
        roles = sorted(r[0] for r in conn.execute(text("SELECT role FROM mention")))
    assert code not in str(dict(row)) and passphrase not in str(dict(row))
    assert row["passphrase_hash"].startswith("hmac-sha256$")  # keyed: 130 random bits need no slow hash
    assert len(passphrase.replace("-", "")) * 5 >= 128
    assert row["language"] == "ru" and row["urgent_reasons"] == ["needs_medical_care"]
    assert row["injuries"] == ["bruising", "head_injury"]
    assert source["origin"] == "web" and source["reported_precision"] == "minute"
    assert str(source["reported_start"]).startswith("2020-08-10 19:30:00")  # Minsk is UTC+3
    assert source["reported_lat"] == 53.909 and roles == ["perpetrator", "victim"]
    # the receipt adds information; a wrong passphrase does not
    bad = client.post("/add", data={"lang": "ru", "code": code, "passphrase": "wrong", "text": "x"})
    assert bad.status_code == 422 and "не совпадают" in bad.text
    good = client.post(
        "/add", data={"lang": "ru", "code": code.upper(), "passphrase": passphrase, "text": "Ещё"}
    )
    assert good.status_code == 200
    assert _count(protection, "submission_addition") == 1 and _count(protection, "source") == 2


def test_a_file_is_hashed_encrypted_and_in_custody(client: TestClient, protection: Protection) -> None:
    response = client.post(
        "/submit",
        data={"lang": "en", "what_happened": "photo of the van"},
        files=[("files", ("../../van photo.jpg", JPEG, "text/plain"))],
    )
    assert response.status_code == 201
    import hashlib

    with protection.store.read() as conn:
        ev = conn.execute(text("SELECT * FROM evidence")).mappings().one()
        events = [r[0] for r in conn.execute(text("SELECT event FROM custody_event"))]
    assert ev["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert ev["media_type"] == "image/jpeg" and ev["original_name"] == "van photo.jpg"
    assert events == ["intake"]
    blobs = list((protection.keyring.data_dir / "blobs").rglob("*"))
    assert not any(b.is_file() and JPEG[20:80] in b.read_bytes() for b in blobs)
    assert not list((protection.keyring.data_dir / "blobs" / ".uploads").rglob("*.jpg"))


def test_files_of_the_wrong_type_size_or_number_are_refused_with_clear_messages(
    client: TestClient, protection: Protection
) -> None:
    exe = client.post(
        "/submit",
        data={"lang": "en", "what_happened": "x"},
        files=[("files", ("tool.exe", b"MZ\x90\x00" + b"\x00" * 100, "image/jpeg"))],
    )
    assert exe.status_code == 422 and "tool.exe: this type of file is not accepted" in exe.text
    big = client.post(
        "/submit",
        data={"lang": "pl", "what_happened": "x"},
        files=[("files", ("big.jpg", JPEG * 100, "image/jpeg"))],
    )
    assert big.status_code == 422 and "big.jpg: plik jest większy niż 0.062 MB" in big.text
    assert "big.jpg: plik jest większy" in big.text
    many = client.post(
        "/submit",
        data={"lang": "en", "what_happened": "x"},
        files=[("files", (f"{i}.jpg", JPEG, "image/jpeg")) for i in range(4)],
    )
    assert many.status_code == 422 and "At most 3 files at once." in many.text
    assert _count(protection, "submission") == 0 and _count(protection, "evidence") == 0


def test_contact_details_are_refused_without_an_officer_key(
    client: TestClient, protection: Protection
) -> None:
    page = client.get("/?lang=en").text
    assert 'name="contact"' not in page and "this field is closed" in page
    response = client.post("/submit", data={"lang": "en", "what_happened": "x", "contact": "+375 29 123"})
    assert response.status_code == 422 and "nothing was stored" in response.text
    assert _count(protection, "source") == 0 and _count(protection, "sealed_identity") == 0
    api = client.post("/api/v1/submissions", json={"what_happened": "x", "contact": "+375 29 123"})
    assert api.status_code == 422 and api.headers["content-type"] == "application/problem+json"
    assert "+375" not in api.text


def test_contact_details_are_sealed_to_the_officer(
    client: TestClient, protection: Protection, officer_key: Path
) -> None:
    assert 'name="contact"' in client.get("/?lang=en").text
    response = client.post(
        "/submit", data={"lang": "en", "what_happened": "x", "contact": "signal: +375 29 1234567"}
    )
    assert response.status_code == 201
    with protection.store.read() as conn:
        record_id, box = conn.execute(text("SELECT record_id, ciphertext FROM sealed_identity")).one()
    assert b"1234567" not in bytes(box)
    assert open_identity(protection, "officer", record_id, officer_key, "test") == [
        {"contact": "signal: +375 29 1234567"}
    ]


def test_what_a_source_typed_is_shown_as_text(client: TestClient, people: People) -> None:
    markup = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    again = client.post("/submit", data={"lang": "en", "what_happened": markup, "lat": "1"})
    assert again.status_code == 422
    assert (
        "<script>alert" not in again.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in again.text
    )
    assert "<img src=x" not in again.text
    client.post("/submit", data={"lang": "en", "what_happened": markup, "perp_1_name": markup})
    people.add("op-anna", "intake_operator", ("intake",))
    people.sign_in(client, "op-anna")
    queue = client.get("/intake?everyone=true")
    submission_id = re.search(r'href="/intake/(sb_[0-9a-f]+)"', queue.text)
    assert submission_id
    page = client.get(f"/intake/{submission_id.group(1)}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert page.text.count("&lt;script&gt;") == 2


def test_nothing_about_the_network_is_stored(client: TestClient, protection: Protection) -> None:
    client.post(
        "/submit", data={"lang": "en", "what_happened": "x"}, headers={"x-forwarded-for": "203.0.113.9"}
    )
    client.post(
        "/api/v1/submissions", json={"what_happened": "y"}, headers={"user-agent": "Mozilla/5.0 UA-MARK"}
    )
    with protection.store.read() as conn:
        dump = "\n".join(str(conn.execute(select(t)).all()) for t in Base.metadata.sorted_tables)
    for needle in ("testclient", "203.0.113.9", "UA-MARK", "127.0.0.1"):
        assert needle not in dump
