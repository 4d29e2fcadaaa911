"""Svidok's web application: server-rendered pages and the JSON API (FastAPI)."""

from svidok.web.app import create_app

__all__ = ["create_app"]
