"""Rendering pages: one Jinja2 environment (autoescape on), the request's language, plain error pages."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from svidok.domain.vocabulary import vocabulary
from svidok.web.i18n import LANGUAGES, NAMES, negotiate, translator


@cache
def templates() -> Jinja2Templates:
    folder = resources.files("svidok.web").joinpath("ui", "templates")
    found = Jinja2Templates(directory=str(folder))
    found.env.autoescape = True
    return found


def lang_of(request: Request, form_lang: str | None = None) -> str:
    return negotiate(request.query_params.get("lang"), form_lang, request.headers.get("accept-language"))


def render(
    request: Request, name: str, context: dict[str, Any], *, status: int = 200, lang: str | None = None
) -> HTMLResponse:
    """Render template `name` in the request's language; `_` translates, `label` names a code."""
    chosen = lang or lang_of(request)
    tr = translator(chosen)

    def label(vocab: str, code: str) -> str:
        try:
            return vocabulary(vocab).label(code, chosen)
        except Exception:  # noqa: BLE001 - an unknown code is shown as itself
            return code

    def local(record: dict[str, Any] | None) -> str:
        """A place's or unit's name in the page's language (its own name otherwise)."""
        if not record:
            return ""
        names = record.get("names") or {}
        return str(names.get(chosen) or record.get("name") or record.get("id") or "")

    full = {
        "_": tr.gettext,
        "lang": chosen,
        "languages": LANGUAGES,
        "language_names": NAMES,
        "label": label,
        "local": local,
        "when": when,
        "caller": None,
    }
    full.update(context)
    return templates().TemplateResponse(request, name, full, status_code=status)


def when(value: Any, precision: str | None = "minute") -> str:
    """A stored UTC time as text, as exact as its precision."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if precision in ("day", "week", "month", "year"):
        return str(value.strftime("%Y-%m-%d"))
    return str(value.strftime("%Y-%m-%d %H:%M")) + " UTC"


def error_page(request: Request, status: int, detail: str | None) -> HTMLResponse:
    """A plain page for an error: the status and a safe message, never a stack trace."""
    return render(request, "error.html", {"status": status, "detail": detail}, status=status)
