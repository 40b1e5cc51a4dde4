"""The Jinja2 templates of the web app (``web/templates``), shared by every HTML route.

Templates are rendered with ``templates.TemplateResponse(request, "page.html", {...})``; the
``request`` is always in their context. Globals available in every template:

* ``csrf_token(request)``: the session's CSRF token, for the ``<meta name="csrf-token">`` tag
  that htmx sends back as ``X-CSRF-Token``, and for ``<input type="hidden" name="csrf_token">``
  in plain forms (``kaufland_sync.web.auth.verify_csrf`` checks either).

Autoescaping is on for ``.html`` templates (Starlette's ``select_autoescape()``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from kaufland_sync.web.auth import csrf_token

__all__ = ["TEMPLATE_DIR", "templates"]

TEMPLATE_DIR = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=TEMPLATE_DIR)
templates.env.globals["csrf_token"] = csrf_token
