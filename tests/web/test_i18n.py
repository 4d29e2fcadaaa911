"""Every string a page or message uses has a translation in every catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from svidok.services.intake import URGENT_REASONS
from svidok.web.i18n import LANGUAGES, negotiate, translator
from svidok.web.problems import DATABASE_DOWN, DISK_FULL
from svidok.web.ui.forms import PRECISIONS

WEB = Path(__file__).resolve().parents[2] / "src" / "svidok" / "web"
CALL = re.compile(r"""(?:\b_|gettext)\(\s*(['"])((?:(?!\1).)+?)\1\s*[,)]""", re.S)


def _used() -> set[str]:
    found: set[str] = set()
    for path in [*WEB.rglob("*.html"), *WEB.rglob("*.py")]:
        for match in CALL.finditer(path.read_text()):
            if not match.group(2).endswith(":"):
                found.add(match.group(2))
    found |= {DISK_FULL, DATABASE_DOWN}  # 503 pages (`error.html` translates its detail)
    found |= {f"precision:{p}" for p in PRECISIONS} | {f"urgent:{r}" for r in URGENT_REASONS}
    found.add(
        "Contact details cannot be protected on this server yet, so nothing was stored. Remove them to send "
        "your testimony without them; your receipt lets you add information later."
    )
    return found


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_message_is_translated(lang: str) -> None:
    missing = sorted(m for m in _used() if m not in translator(lang).messages)
    assert missing == []


def test_english_names_the_coded_messages() -> None:
    english = translator("en")
    for key in [f"precision:{p}" for p in PRECISIONS] + [f"urgent:{r}" for r in URGENT_REASONS]:
        assert english.gettext(key) != key


def test_negotiation() -> None:
    assert negotiate(None, None, "uk-UA,uk;q=0.9,en;q=0.5") == "uk"
    assert negotiate("xx", "ru", "pl") == "ru"
    assert negotiate(None, None, "en-US,en;q=0.5") == "en"
    assert negotiate(None, None, "de;q=1, pl;q=0") == "en"


@pytest.mark.parametrize(("lang", "words"), [("ru", "закончилось место"), ("be", "скончылася месца")])
def test_a_full_disk_page_speaks_the_sources_language(lang: str, words: str) -> None:
    from starlette.requests import Request

    from svidok.web.problems import unavailable

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/submit",
        "query_string": f"lang={lang}".encode(),
        "headers": [],
    }
    response = unavailable(Request(scope), DISK_FULL)
    assert response.status_code == 503 and response.headers["retry-after"] == "30"
    assert words in bytes(response.body).decode()
