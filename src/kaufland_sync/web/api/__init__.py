"""The REST API: ``/api/v1/...`` for programs (an ERP pushing stock, a script shipping orders),
its OpenAPI document at ``/api/openapi.json``. See docs/api.md.

How it is served: :func:`mount_api` mounts a FastAPI *sub-application* at ``/api`` holding
:data:`api_router` (prefix ``/v1``), rather than adding the routes to the main app. That gives
three things a route-level solution would have to fake:

* the OpenAPI document is the sub-app's own, so it lists the API routes only (not the HTML
  pages, webhooks or /health), with the bearer-token scheme, and ``servers: [{"url": "/api"}]``;
* the sub-app's exception handlers answer *every* error under ``/api`` as
  ``application/problem+json`` (validation errors naming each field, unknown paths, wrong
  methods), while the HTML app keeps FastAPI's default answers;
* the docs UI stays off (``docs_url=None``): the document is for client generators.

The sub-app shares the main app's ``state`` object, so :func:`~kaufland_sync.web.deps.get_context`
and the auth dependencies find the same context, and the main app's middleware (sessions,
metrics) wraps it. Every route needs ``Authorization: Bearer <token>``
(:func:`kaufland_sync.web.auth.require_token`); reads need a viewer's token, writes an
operator's.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount

from kaufland_sync import __version__
from kaufland_sync.logging import get_logger
from kaufland_sync.store.models.users import Role
from kaufland_sync.web.api import accounts, jobs, orders, products
from kaufland_sync.web.api._common import ApiError
from kaufland_sync.web.api.orders import CARRIERS_STATE, CarrierSource, KauflandCarriers
from kaufland_sync.web.api.schemas import Problem, ProblemField
from kaufland_sync.web.auth import AuthRefusal, require_token
from kaufland_sync.web.deps import problem

__all__ = ["API_PREFIX", "API_TITLE", "api_router", "build_api", "mount_api"]

log = get_logger(__name__)

#: Where the sub-application is mounted; its routes start with ``/v1``.
API_PREFIX = "/api"
API_TITLE = "kaufland-sync REST API"

#: Every resource of the API, version 1. The router-wide token dependency makes sure no route,
#: present or future, answers without a valid token.
api_router = APIRouter(prefix="/v1", dependencies=[Depends(require_token(Role.VIEWER))])
for _module in (accounts, products, orders, jobs):
    api_router.include_router(_module.router)


# --- problems -------------------------------------------------------------------------------


def _location(loc: tuple[int | str, ...] | list[int | str]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _location(error.get("loc", ())), "message": str(error.get("msg", "invalid"))}
        for error in exc.errors()
    ]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors)) or "the request"
    return problem(422, "Invalid request", f"invalid value in: {fields}", errors=errors)


async def _http_problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    try:
        title = HTTPStatus(exc.status_code).phrase
    except ValueError:
        title = "Error"
    answer = problem(exc.status_code, title, str(exc.detail))
    for name, value in (exc.headers or {}).items():
        answer.headers[name] = value
    return answer


async def _api_problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    extra: dict[str, Any] = dict(exc.extra)
    if exc.errors is not None:
        extra["errors"] = exc.errors
    return problem(exc.status, exc.title, exc.detail, **extra)


async def _refusal(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthRefusal)
    return exc.response


async def _crash(_request: Request, exc: Exception) -> Response:
    # Logged with its traceback; the caller learns nothing of the internals.
    log.exception("api request failed", error=type(exc).__name__)
    return problem(500, "Internal Server Error", "The request failed; see the server's log.")


# --- the document ---------------------------------------------------------------------------


def _document(api: FastAPI) -> dict[str, Any]:
    """The OpenAPI document: FastAPI's, plus the :class:`Problem` schema the error answers
    refer to, and ``servers`` naming the mount point (also when read outside a request)."""
    if api.openapi_schema is None:
        document = get_openapi(
            title=api.title,
            version=api.version,
            description=api.description,
            routes=api.routes,
            servers=[{"url": API_PREFIX}],
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in (Problem, ProblemField):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, nested in schema.pop("$defs", {}).items():
                schemas.setdefault(name, nested)
            schemas.setdefault(model.__name__, schema)
        api.openapi_schema = document
    return api.openapi_schema


def build_api(*, carriers: CarrierSource | None = None) -> FastAPI:
    """The API sub-application (not mounted). ``carriers`` gives Kaufland's carrier names for
    an account (default: :class:`~kaufland_sync.web.api.orders.KauflandCarriers`)."""
    api = FastAPI(
        title=API_TITLE,
        version=__version__,
        description="Read and steer kaufland-sync: accounts, products and stock, offers, "
        "orders and shipments, returns, jobs. Every call needs an API token.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        servers=[{"url": API_PREFIX}],
        # operationId = the function's name (``put_stock``), stable for client generators.
        generate_unique_id_function=lambda route: route.name,
    )
    api.include_router(api_router)
    api.add_exception_handler(RequestValidationError, _validation_problem)
    api.add_exception_handler(StarletteHTTPException, _http_problem)
    api.add_exception_handler(ApiError, _api_problem)
    api.add_exception_handler(AuthRefusal, _refusal)
    api.add_exception_handler(Exception, _crash)
    api.openapi = lambda: _document(api)  # type: ignore[method-assign]
    setattr(api.state, CARRIERS_STATE, carriers or KauflandCarriers())
    return api


def mount_api(app: FastAPI, *, carriers: CarrierSource | None = None) -> FastAPI:
    """Serve the REST API on ``app`` under ``/api`` (routes ``/api/v1/...``, document
    ``/api/openapi.json``); returns the sub-application. Call once, after ``create_app``
    (which sets ``app.state.kaufland``) and with :func:`~kaufland_sync.web.auth.install_auth`
    (or without it: tokens need no session)."""
    api = build_api(carriers=carriers)
    # One state for both apps: routes reach the context (and whatever install_auth keeps)
    # through request.app.state, and request.app is the sub-app here.
    setattr(app.state, CARRIERS_STATE, getattr(api.state, CARRIERS_STATE))
    api.state = app.state
    mount = Mount(API_PREFIX, app=api)
    # Starlette matches the rest of a mounted path with ``.*``, which stops at a newline: a
    # path parameter holding one (an SKU is any text, percent-encoded) would fall through to
    # the HTML app's 404. Matching across newlines keeps every /api/... request here.
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    app.router.routes.append(mount)
    return api
