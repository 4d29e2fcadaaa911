"""Errors as RFC 9457 problem details in the API and as plain pages in the UI.

Messages of `SvidokError` name fields and ids, never protected contents, so
they are shown; anything else becomes a bare 500. Validation errors list the
fields at fault without echoing the values sent.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from svidok.errors import ConfigError, ConflictError, DatabaseUnavailable, InputError, NotFound, SvidokError
from svidok.web.auth import MustChangePassword
from svidok.web.ui.render import error_page

PROBLEM_TYPE = "application/problem+json"
_STATUS: list[tuple[type[SvidokError], int]] = [
    (NotFound, 404),
    (ConflictError, 409),
    (InputError, 422),
    (DatabaseUnavailable, 503),
    (ConfigError, 503),
]
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def status_of(exc: SvidokError) -> int:
    """The HTTP status of an error: its `http_status` if it has one, else by its class."""
    explicit = getattr(exc, "http_status", None)
    if isinstance(explicit, int):
        return explicit
    name = type(exc).__name__
    if name == "AccessDenied":
        return 403
    if name == "AuthenticationFailed":
        return 401
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def problem(status: int, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _svidok_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SvidokError)  # nosec B101 # type narrowing: registered for SvidokError only
    status = status_of(exc)
    detail = str(exc) if status < 500 or status == 503 else None
    if _is_api(request):
        response = problem(status, detail)
        if status == 401:
            response.headers["www-authenticate"] = 'Bearer realm="svidok"'
        return response
    return error_page(request, status, detail)


async def _must_change_password(request: Request, exc: Exception) -> Response:
    del exc
    if _is_api(request):
        return problem(403, "change the initial password first")
    return RedirectResponse("/account/password", status_code=303)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # nosec B101 # type narrowing: registered for HTTPException only
    detail = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else None
    response: Response
    if _is_api(request):
        response = problem(exc.status_code, detail)
    else:
        response = error_page(request, exc.status_code, detail)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # nosec B101 # type narrowing: registered for this type only
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    if _is_api(request):
        return problem(422, "the request does not match the API's schema", errors=errors)
    return error_page(request, 422, "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors))


def install(app: FastAPI) -> None:
    app.add_exception_handler(SvidokError, _svidok_error)
    app.add_exception_handler(MustChangePassword, _must_change_password)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
