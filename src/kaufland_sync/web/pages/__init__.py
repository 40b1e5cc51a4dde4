"""The management pages: one module per area (``orders``, ``accounts``, ``queue``, ...), each
with a ``router`` of HTML routes (and the htmx fragments they swap in).

:func:`routers` finds them: a module of this package that defines ``router`` is served by
``create_app(..., ui=True)`` without anybody editing a list, and the layout's nav links a page
as soon as its path is served (``web/ui.py``, ``page_paths``).
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

__all__ = ["routers"]


def routers() -> list[APIRouter]:
    """The ``router`` of every module of this package, in module-name order."""
    found: list[APIRouter] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found
