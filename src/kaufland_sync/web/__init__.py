"""The web process (FastAPI): health, metrics and Kaufland's push notifications; later the
dashboard and the REST API. ``create_app(settings)`` builds it (``kaufland_sync.web.app``)."""

from __future__ import annotations

from kaufland_sync.web.app import create_app

__all__ = ["create_app"]
