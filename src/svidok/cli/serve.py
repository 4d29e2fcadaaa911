"""`svidok serve`: the web application on one unlocked register.

The access log is off (it would record every source's network address) and
uvicorn's own `Server` header, proxy headers and `X-Forwarded-For` handling
are off too, so no address reaches a log line or a record.
"""

from __future__ import annotations

from typing import Annotated

import typer

from svidok.cli.context import settings_of
from svidok.web.config import WebSettings


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    tls: Annotated[bool, typer.Option("--tls", help="Send HSTS (served over TLS).")] = False,
) -> None:
    """Serve the public submission form, the intake queue and the API (unlocks the register first)."""
    import uvicorn

    from svidok.cli.security import open_protection
    from svidok.web import create_app

    settings = settings_of(ctx)
    protection = open_protection(ctx)
    from svidok.services.recovery import recover_at_start  # a crash's leftovers, named in the log

    recover_at_start(protection)
    web = WebSettings(tls=tls)
    app = create_app(settings, protection=protection, web=web)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    typer.echo(f"serving the register in {settings.data_dir} on http://{shown}:{port}/ (access log off)")
    typer.echo("operators sign in at /login (session cookies need HTTPS or localhost)")
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            log_level="warning",
        )
    finally:
        protection.close()
