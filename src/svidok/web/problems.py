"""Errors as RFC 9457 problem details in the API and as plain pages in the UI.

Messages of `SvidokError` name fields and ids, never protected contents, so
they are shown; anything else becomes a bare 500. Validation errors list the
fields at fault without echoing the values sent.

A full disk (ENOSPC, EDQUOT, SQLite's "database or disk is full") and an
unreachable or lost database (`DatabaseUnavailable`, a dropped PostgreSQL
connection) are the machine's trouble, not the request's: they answer 503 with
`Retry-After`, a problem document in the API and a plain page saying to send
again in the form. Nothing acknowledged is lost by them (a receipt is given only
after its commit) and the server needs no restart once space or the database
returns. The driver's message is never shown or logged (it may carry statement
parameters); only which of the two it was.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from svidok.errors import ConfigError, ConflictError, DatabaseUnavailable, InputError, NotFound, SvidokError
from svidok.web.auth import MustChangePassword
from svidok.web.ui.render import error_page

PROBLEM_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 30
"""What a 503 asks the client to wait before sending again."""
DISK_FULL = "the server is out of storage space; nothing new was kept from this request: send it again later"
DATABASE_DOWN = "the register's database cannot be reached; send this request again later"
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
# SQLite: SQLITE_FULL (13) and SQLITE_IOERR (10, the WAL could not grow). PostgreSQL:
# disk_full (53100), connection exceptions (08xxx), shutdowns (57P01-57P03).
_SQLITE_FULL = ("database or disk is full", "disk i/o error")
_PG_FULL = {"53100"}
_PG_DOWN_PREFIXES = ("08", "57P")
log = logging.getLogger("svidok.web")
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


def unavailable_reason(exc: BaseException) -> str | None:
    """DISK_FULL or DATABASE_DOWN when `exc` (or what it wraps) is one of those, else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DatabaseUnavailable):
            return DATABASE_DOWN
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return DISK_FULL
        if isinstance(current, DBAPIError):
            reason = _driver_reason(current)
            if reason is not None:
                return reason
        current = current.__cause__ or current.__context__
    return None


def _driver_reason(exc: DBAPIError) -> str | None:
    original = exc.orig
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if isinstance(code, str):
        if code in _PG_FULL:
            return DISK_FULL
        if code.startswith(_PG_DOWN_PREFIXES):
            return DATABASE_DOWN
    if exc.connection_invalidated:
        return DATABASE_DOWN
    message = str(original).lower()
    if any(m in message for m in _SQLITE_FULL):
        return DISK_FULL
    module = type(original).__module__
    if module.startswith("psycopg") and type(original).__name__ == "OperationalError":
        return DATABASE_DOWN  # no SQLSTATE: the connection itself failed
    return None


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
    if isinstance(exc, DatabaseUnavailable):
        detail = DATABASE_DOWN  # its message names the database's address: for the server's operator only
    response: Response
    if _is_api(request):
        response = problem(status, detail)
        if status == 401:
            response.headers["www-authenticate"] = 'Bearer realm="svidok"'
    else:
        response = error_page(request, status, detail)
    if status == 503:
        response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    return response


def unavailable(request: Request, reason: str) -> Response:
    """503 with `Retry-After`: a problem document in the API, a plain page elsewhere."""
    response: Response
    if _is_api(request):
        response = problem(503, reason, retryable=True)
    else:
        response = error_page(request, 503, reason)
    response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    return response


async def _machine_error(request: Request, exc: Exception) -> Response:
    reason = unavailable_reason(exc)
    if reason is None:
        raise exc  # not ours: SafeErrors answers a bare 500 and logs only the type
    what = "disk full" if reason == DISK_FULL else "database unreachable"
    log.warning("503 on %s %s: %s", request.method, request.url.path, what)
    return unavailable(request, reason)


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
    app.add_exception_handler(OSError, _machine_error)
    app.add_exception_handler(DBAPIError, _machine_error)
