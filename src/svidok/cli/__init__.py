"""The `svidok` command line: thin commands that parse options, call services, print."""

from __future__ import annotations

from svidok.cli.app import app, main

__all__ = ["app", "main"]
