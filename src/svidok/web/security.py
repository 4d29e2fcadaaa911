"""Security of every response: headers, request size, and errors that never leak.

Threat: a page that runs a script planted in a testimony, is framed by another
site, leaks its address through a Referer, or an error page or log line that
prints a stack trace with protected values (SQLAlchemy errors carry their
statement parameters). Design: pure ASGI middlewares, outermost first:
`SafeErrors` turns any escaped exception into a bare 500 and logs only the
exception's type; `SecurityHeaders` sets a strict CSP (no inline script or
style, no `unsafe-inline`), `frame-ancestors 'none'`, nosniff, no referrer,
no caching and HSTS under TLS; `BodyLimit` refuses bodies beyond a size before
they are parsed. Nothing here reads or logs the client's address.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
log = logging.getLogger("svidok.web")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, tls: bool = False) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = self.tls or scope.get("scheme") == "https"
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers += _HEADERS
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                if tls:
                    headers.append(_HSTS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


MAX_NON_UPLOAD_BYTES = 2 * 1024 * 1024
"""Any body but a multipart upload: the largest submission (20,000 characters and every person) is ~200 KB."""


class BodyTooLarge(Exception):
    """The request body is larger than the configured limit."""


class BodyLimit:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        # only file uploads may be large: a 100 MB JSON body costs about 1.8 GB parsed (issue #9)
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.limit if multipart else min(self.limit, MAX_NON_UPLOAD_BYTES)
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await _plain(send, 413, "Content Too Large", scope)
            return
        seen = 0
        answered = False  # our 413 went out; whatever the app sends after it is dropped
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def counted() -> Message:
            nonlocal seen, answered
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer here: body parsers (FastAPI's among them) turn any error raised while
                    # reading into their own 400, which would hide that the body was too large.
                    if not started and not answered:
                        await _plain(send, 413, "Content Too Large", scope)
                        answered = True
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted, guarded_send)
        except BodyTooLarge:
            if not started and not answered:
                await _plain(send, 413, "Content Too Large", scope)


class SafeErrors:
    """The last line: an unexpected exception becomes a 500 without details; only its type is logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # noqa: BLE001 - the message may hold protected values
            log.error("unhandled %s on %s %s", type(exc).__name__, scope.get("method"), scope.get("path"))
            if not started:
                await _plain(send, 500, "Internal Server Error", scope)


async def _plain(send: Send, status: int, title: str, scope: Scope) -> None:
    """A problem document for the API, a plain text page elsewhere (headers come from `SecurityHeaders`)."""
    if str(scope.get("path", "")).startswith("/api/"):
        body = json.dumps({"type": "about:blank", "title": title, "status": status}).encode()
        kind = b"application/problem+json"
    else:
        body = f"{status} {title}\n".encode()
        kind = b"text/plain; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    start: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
