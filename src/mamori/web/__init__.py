"""The web dashboard and JSON API over a findings store (`mamori serve`): FastAPI,
server-rendered pages, login required on every bind, CSRF-checked changes."""

from mamori.web.app import WebConfig, create_app

__all__ = ["WebConfig", "create_app"]
