"""TEMPORARY operator guard, until the access work's sessions and logins land.

Operators present a token from `WebSettings.operator_tokens` (`svidok serve`
reads them from SVIDOK_OPERATOR_TOKENS as `token=name:role,...`): the API as
`Authorization: Bearer <token>`, the pages through a cookie set by `/login`.
State-changing pages carry the CSRF token of `svidok.access.credentials`.
Replace with the access sessions (password + TOTP) when they exist.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from svidok.access.credentials import bearer_token, check_csrf
from svidok.services.context import Actor
from svidok.web.state import state_of

COOKIE = "svidok-operator"


def _actor_for(request: Request, token: str | None) -> Actor | None:
    if not token:
        return None
    for known, (name, role) in state_of(request).web.operator_tokens.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            return Actor(name, role)
    return None


def api_operator(request: Request) -> Actor:
    """The operator calling the API, or 401."""
    actor = _actor_for(request, bearer_token(request.headers.get("authorization")))
    if actor is None:
        raise HTTPException(401, "an operator token is needed", headers={"WWW-Authenticate": "Bearer"})
    return actor


def page_operator(request: Request) -> Actor | None:
    """The operator signed in on the pages, or None."""
    return _actor_for(request, request.cookies.get(COOKIE))


def check_form(request: Request, submitted: str | None) -> None:
    """Refuse a state-changing form without the session's CSRF token."""
    token = request.cookies.get(COOKIE) or ""
    if not token or not check_csrf(token, submitted):
        raise HTTPException(403, "the form is out of date; open the page again")
