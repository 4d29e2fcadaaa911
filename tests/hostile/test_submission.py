"""The public submission validator against hostile bodies: `POST /api/v1/submissions` (JSON) and the
web form (`POST /submit`). Every answer is a 201 with a receipt or a clear 4xx (a problem document
in the API, the form again with messages on the page), never a 5xx; a refused submission stores
nothing, and no error echoes what was sent."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import text

from svidok.services.keys import Protection
from tests.hostile.conftest import HOSTILE

CANARY = "КАНАРЕЙКА-СВЕДКА"
FIELDS = ["language", "what_happened", "author_role", "when_date", "when_time", "when_precision", "place_text",
          "lat", "lon", "victims", "perpetrators", "injuries", "urgent", "contact"]  # fmt: skip
any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=40)
edge_text = st.sampled_from(
    ["", " ", "\x00", "\ud800", "\u202e", "0001-01-01", "9999-12-31", "2020-02-30", "24:00", "23:59", "week",
     "minute", "ru", "xx", "NaN", "1e999", "-0", CANARY * 3, "a" * 20_001, "<script>alert(1)</script>"]
)  # fmt: skip
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), any_text, edge_text),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["name", "rank", "x"]), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    how = draw(st.sampled_from(["fields", "fields", "fields", "raw", "deep", "huge"]))
    if how == "raw":
        return draw(st.binary(max_size=200))
    if how == "deep":
        return b'{"what_happened":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    if how == "huge":
        return json.dumps({"what_happened": CANARY, "victims": [{"name": CANARY}] * 5000}).encode()
    body: dict[str, Any] = {"what_happened": CANARY}
    for name in draw(st.lists(st.sampled_from([*FIELDS, "unknown", "__proto__"]), max_size=5)):
        body[name] = draw(json_values)
    return json.dumps(body, allow_nan=True).encode()


def _submissions(p: Protection) -> int:
    with p.store.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM submission")).scalar_one())


@HOSTILE
@given(body=bodies())
def test_the_json_api_answers_201_or_a_clear_4xx(
    client: TestClient, protection: Protection, body: bytes
) -> None:
    before = _submissions(protection)
    response = client.post("/api/v1/submissions", content=body, headers={"content-type": "application/json"})
    event(f"status {response.status_code}")
    assert response.status_code in (201, 400, 413, 422), (response.status_code, response.text[:200])
    if response.status_code == 201:
        assert set(response.json()) >= {"receipt_code", "passphrase"}
        assert _submissions(protection) == before + 1
        return
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == response.status_code and problem["title"]
    assert CANARY not in response.text, "an error echoed what was sent"
    assert _submissions(protection) == before


form_values = st.one_of(
    any_text, edge_text, st.sampled_from(["bruising", "ongoing_detention", "53.9", "200"])
)


@HOSTILE
@given(
    fields=st.dictionaries(
        st.sampled_from([*FIELDS, "victim_1_name", "perp_1_badge", "lang", "files", "csrf"]),
        form_values,
        max_size=8,
    ),
    lists=st.lists(st.sampled_from(["injuries", "urgent"]), max_size=2),
)
def test_the_web_form_answers_201_or_the_form_with_messages(
    client: TestClient, protection: Protection, fields: dict[str, str], lists: list[str]
) -> None:
    data: dict[str, Any] = {"what_happened": CANARY, **fields}
    for name in dict.fromkeys(lists):
        data[name] = [str(data.get(name, "x")), "\x00", "\ud800"]
    # the form body is urlencoded as UTF-8; an unpaired surrogate cannot be, so it goes as U+FFFD
    data = {k: ([_utf8(x) for x in v] if isinstance(v, list) else _utf8(v)) for k, v in data.items()}
    before = _submissions(protection)
    response = client.post("/submit", data=data)
    event(f"status {response.status_code}")
    assert response.status_code in (201, 400, 413, 422), (response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("text/html")
    if response.status_code == 201:
        assert 'id="receipt-code"' in response.text and _submissions(protection) == before + 1
    else:
        assert _submissions(protection) == before


def _utf8(value: str) -> str:
    return value.encode("utf-8", "replace").decode("utf-8")


def test_raw_form_bodies_that_are_not_utf8_or_not_forms(client: TestClient, protection: Protection) -> None:
    cases = [
        (b"what_happened=%FF%FE%00&lang=ru", "application/x-www-form-urlencoded"),
        (b"what_happened=%ED%A0%80", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00\x01" * 100, "application/x-www-form-urlencoded"),
        (b"--x\r\nContent-Disposition: form-data; name=\"what_happened\"\r\n\r\n\xff\xfe\r\n--x--\r\n", "multipart/form-data; boundary=x"),
        (b"--x\r\n\r\n\r\n", "multipart/form-data; boundary=x"),
        (b"not multipart at all", "multipart/form-data"),
        (b"what_happened=" + b"a" * 300_000, "application/x-www-form-urlencoded"),
    ]  # fmt: skip
    for body, kind in cases:
        response = client.post("/submit", content=body, headers={"content-type": kind})
        assert response.status_code in (201, 400, 413, 422), (body[:40], response.status_code)


def test_a_huge_json_body_is_refused_before_parsing(client: TestClient, protection: Protection) -> None:
    """A 100 MB JSON submission was read and parsed whole: 22 s and +1.8 GB resident per request."""
    from tests.hostile.bounds import MIB, bounded

    body = b'{"what_happened":"x","victims":[' + b",".join([b'{"name":"a"}'] * (100 * MIB // 13)) + b"]}"
    with bounded(seconds=10, rss_bytes=64 * MIB, label="API: 100 MB JSON submission"):
        response = client.post(
            "/api/v1/submissions", content=body, headers={"content-type": "application/json"}
        )
        chunked = client.post(
            "/api/v1/submissions",
            content=iter([body[i : i + MIB] for i in range(0, 8 * MIB, MIB)]),
            headers={"content-type": "application/json"},
        )
    # without a length, reading stops at the limit, and the answer still says why
    assert response.status_code == 413 and chunked.status_code == 413
    assert _submissions(protection) == 0
