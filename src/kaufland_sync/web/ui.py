"""The web app's HTML pages (Jinja2 templates in ``web/templates``) and their static files.

``router`` serves the dashboard at ``GET /`` to any signed-in user (viewer and up). The page is
a frame: its figures come from ``GET /ui/data/dashboard`` (``web/dashboard_data.py``), which
``/static/dashboard.js`` calls with the filter form's values, on load, on every change and every
:data:`REFRESH_SECONDS`. The page's own query (``?period=...&from=...&to=...&account=...&
storefront=...``) preselects the filters, so a dashboard URL can be bookmarked or shared; the
script keeps the address bar in step with the filters.

:func:`mount_static` serves ``web/static`` at ``/static``: our stylesheet and scripts, and
``vendor/`` (htmx, Chart.js) which ``make assets`` copies from ``node_modules`` (not committed).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.applications import Starlette
from starlette.routing import Match

from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.users import User
from kaufland_sync.web.auth import require_user
from kaufland_sync.web.deps import WebContext, get_context
from kaufland_sync.web.templating import templates

__all__ = [
    "DASHBOARD_DATA_URL",
    "DEFAULT_PERIOD",
    "NAV_PATHS",
    "PERIODS",
    "REFRESH_SECONDS",
    "STATIC_DIR",
    "mount_static",
    "nav_pages",
    "page_paths",
    "router",
]

STATIC_DIR = Path(__file__).parent / "static"

#: The dashboard's JSON endpoint (web/dashboard_data.py).
DASHBOARD_DATA_URL = "/ui/data/dashboard"
#: How often the dashboard loads its figures again while shown (seconds).
REFRESH_SECONDS = 60
#: The period filter's choices, as the data endpoint names them.
PERIODS: tuple[tuple[str, str], ...] = (
    ("today", "Today"),
    ("7d", "7 days"),
    ("30d", "30 days"),
    ("90d", "90 days"),
    ("year", "Year"),
    ("custom", "Custom range"),
)
#: The pages the layout's nav and the dashboard's quick actions link to.
NAV_PATHS: tuple[str, ...] = (
    "/",
    "/products",
    "/orders",
    "/customers",
    "/returns",
    "/queue",
    "/logs",
    "/performance",
    "/commission",
    "/accounts",
    "/settings",
)
#: The data endpoint's default, so the page and a bare data request show the same figures.
DEFAULT_PERIOD = "30d"

# HTML pages are not part of the REST API's OpenAPI document.
router = APIRouter(include_in_schema=False)


def page_paths(app: Starlette, paths: Iterable[str] = NAV_PATHS) -> frozenset[str]:
    """Those of ``paths`` that ``app`` serves to a ``GET`` (asked of its routes the way a
    request would be, so routers included in any way and added at any time count). The layout
    links a nav item only when its page is among them: pages added later appear by themselves,
    and no link leads to a 404."""
    served = set()
    for path in paths:
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "root_path": "",
            "query_string": b"",
            "headers": [],
            "app": app,
        }
        if any(route.matches(scope)[0] is Match.FULL for route in app.router.routes):
            served.add(path)
    return frozenset(served)


def nav_pages(request: Request) -> frozenset[str]:
    """Template global: :func:`page_paths` of the request's app for the nav's pages."""
    return page_paths(request.app)


# base.html asks which nav pages exist; every page extending it gets the answer this way
# (rather than each route passing it). Registered here, where the pages live.
templates.env.globals["nav_pages"] = nav_pages


@router.get("/", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    context: Annotated[WebContext, Depends(get_context)],
    user: Annotated[User, Depends(require_user("viewer"))],
) -> HTMLResponse:
    """The dashboard. A plain ``def``: FastAPI runs it in its thread pool, so the query for
    the account filter never blocks the event loop."""
    with context.factory() as session:
        accounts = list(
            session.scalars(
                select(Account).options(selectinload(Account.storefronts)).order_by(Account.name)
            )
        )
        choices = [(account.id, account.name) for account in accounts]
        storefronts = sorted(
            {settings.storefront.value for account in accounts for settings in account.storefronts}
        )
    query = request.query_params
    period = query.get("period", DEFAULT_PERIOD)
    if period not in dict(PERIODS):
        period = DEFAULT_PERIOD
    filters: dict[str, Any] = {
        "period": period,
        "from": query.get("from", ""),
        "to": query.get("to", ""),
        "account": query.get("account", ""),
        "storefront": query.get("storefront", ""),
    }
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "user": user,
            "pages": page_paths(request.app),
            "filters": filters,
            "periods": PERIODS,
            "accounts": choices,
            "storefronts": storefronts,
            "data_url": DASHBOARD_DATA_URL,
            "refresh_seconds": REFRESH_SECONDS,
        },
    )


def mount_static(app: FastAPI) -> None:
    """Serve ``web/static`` at ``/static`` (name ``static``). The vendor libraries are there
    only after ``make assets``; without them pages load but draw no charts."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
