"""The sandbox's ASGI application: Kaufland's ``/v2`` API plus the ``/_sandbox`` control API.

Every ``/v2`` request goes through the same gate as on Kaufland: headers, key, timestamp window,
HMAC signature over the raw request target and raw body, then the per-key rate limit. Then the
fault plan for the request is drawn, time-based state moves on (``marketplace.tick``,
``catalog.tick``), and the route's handler answers. ``create_app`` wires it all together.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import importlib
import json
import logging
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kaufland_sync.sandbox import buyers, catalog
from kaufland_sync.sandbox._http import (
    ABOUT_BLANK,
    CORRUPTED_SIGNATURE,
    FORBIDDEN,
    INVALID_CREDENTIALS,
    MISSING_HEADER,
    NOT_FOUND,
    SERVER_ERROR,
    Ctx,
    Handler,
    Problem,
    RouteSpec,
    validation,
)
from kaufland_sync.sandbox.faults import Fault, Faults, error_response
from kaufland_sync.sandbox.seed import SEED_KINDS, seed_world
from kaufland_sync.sandbox.world import (
    ALL_STOREFRONTS,
    Record,
    SandboxConfig,
    Seller,
    World,
    iso,
    public,
)
from kaufland_sync.sellerapi._signing import message_to_sign, signatures_match

log = logging.getLogger("kaufland_sync.sandbox")

# Every module of sandbox/routes, each exposing ``ROUTES: list[RouteSpec]``.
ROUTE_MODULES = (
    "status",
    "info",
    "categories",
    "attributes",
    "products",
    "product_data",
    "units",
    "buybox",
    "shipping_groups",
    "warehouses",
    "carriers",
    "orders",
    "order_units",
    "shipments",
    "order_invoices",
    "returns",
    "return_units",
    "tickets",
    "subscriptions",
    "reports",
    "import_files",
    "playground",
    "assortment",
    "shipping_labels",
    "variant_suggestions",
)
REQUIRED_HEADERS = ("Shop-Client-Key", "Shop-Timestamp", "Shop-Signature", "User-Agent")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})
SAVE_INTERVAL = 2.0


class SimulatedReset(Exception):
    """Raised after a partial response so the server drops the connection (fault ``reset``)."""


def _optional_module(name: str) -> ModuleType | None:
    """Import a sibling module that another part of the sandbox provides, if it exists yet."""
    full = f"kaufland_sync.sandbox.{name}"
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name != full:
            raise
        log.warning("sandbox module %s is missing; its features are off", full)
        return None


def load_routes() -> list[RouteSpec]:
    specs: list[RouteSpec] = []
    for name in ROUTE_MODULES:
        module = _optional_module(f"routes.{name}")
        if module is not None:
            specs.extend(module.ROUTES)
    return specs


# Routing -------------------------------------------------------------------------------
@dataclass
class _Route:
    method: str
    template: str  # "/v2/units/{id_unit}" for request accounting
    regex: re.Pattern[str]
    convertors: dict[str, Any]
    handler: Handler


class Router:
    """Matches ``/v2``-relative paths (trailing slash optional) to handlers, grouped by the
    first path segment so a lookup tries a handful of patterns, not all hundred."""

    def __init__(self, specs: list[RouteSpec]) -> None:
        self.groups: dict[str, list[_Route]] = {}
        # Literal paths first, so /units/bulk never falls to /units/{id_unit}.
        for method, path, handler in sorted(specs, key=lambda s: s[1].count("{")):
            regex, _, convertors = compile_path(path)
            template = "/v2" + re.sub(r"{([^:}]+)(:[^}]+)?}", r"{\1}", path)
            route = _Route(method.upper(), template, regex, convertors, handler)
            self.groups.setdefault(_first_segment(path), []).append(route)

    def match(self, method: str, path: str) -> tuple[_Route | None, dict[str, Any], list[str]]:
        """(route, path params, methods the path allows when it exists with others only)."""
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/")
        allowed: list[str] = []
        for route in self.groups.get(_first_segment(path), ()):
            found = route.regex.match(path)
            if found is None:
                continue
            if route.method != method:
                allowed.append(route.method)
                continue
            params = {k: route.convertors[k].convert(v) for k, v in found.groupdict().items()}
            return route, params, []
        return None, {}, allowed


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


# Rate limiting ---------------------------------------------------------------------------
@dataclass
class RateLimiter:
    """Token bucket per client key: ``rate`` tokens per second, capacity ``rate``."""

    rate: float
    clock: Callable[[], float]
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, key: str) -> bool:
        if self.rate <= 0:
            return True
        now = self.clock()
        tokens, last = self.buckets.get(key, (self.rate, now))
        tokens = min(self.rate, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self.buckets[key] = (tokens, now)
            return False
        self.buckets[key] = (tokens - 1.0, now)
        return True


# The /v2 application -----------------------------------------------------------------------
class SandboxState:
    """Runtime state of one app: the world plus faults, limiter, RNG and optional modules."""

    def __init__(self, config: SandboxConfig, world: World) -> None:
        self.config = config
        self.world = world
        self.faults = Faults()
        self.rng = random.Random(config.random_seed)
        self.limiter = RateLimiter(config.rate_limit, world.base_clock)
        self.router = Router(load_routes())
        self.marketplace = _optional_module("marketplace")
        self.notify = _optional_module("notify")


def _problem(status: int, type_: str, message: str) -> Response:
    return Problem(status, type_, message).response()


class V2App:
    """Pure ASGI app for ``/v2`` (mounted, so ``root_path`` is ``/v2``). Pure ASGI because a
    ``reset`` fault has to start a response and then drop the connection."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        state = self.state
        world = state.world
        method: str = scope["method"]
        root = scope.get("root_path", "")
        path: str = scope["path"]
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        route, params, other_method = state.router.match(method, path)
        endpoint = f"{method} {route.template if route else '/v2/<unknown>'}"
        body = await _read_body(receive)
        status = 0
        try:
            delay = state.config.latency_ms + state.faults.latency_ms
            if delay > 0:
                await asyncio.sleep(delay / 1000.0)
            response, fault = self._gate(scope, body)
            if response is None:
                response, fault = await self._dispatch(
                    scope, route, params, other_method, body, fault
                )
            if fault is not None and fault.kind == "timeout":
                await asyncio.sleep(state.faults.timeout_seconds)
            if fault is not None and fault.kind == "reset":
                await _reset(send)
            status = response.status_code
            await response(scope, receive, send)
        finally:
            world.request_counts[(endpoint, status)] += 1
            if method != "GET":
                world.dirty = True

    def _gate(self, scope: Scope, body: bytes) -> tuple[Response | None, Fault | None]:
        """Authentication, rate limit and forced 429s; a Response ends the request here."""
        state = self.state
        headers = Headers(scope=scope)
        outcome = authenticate(state.config, state.world, scope, headers, body)
        if isinstance(outcome, Response):
            return outcome, None
        scope["sandbox.seller"] = outcome
        if not state.limiter.allow(outcome.client_key):
            return _problem(429, ABOUT_BLANK, "Too many requests"), None
        fault = state.faults.draw(scope["method"], state.rng)
        if fault is not None and fault.kind == "rate_limit":
            return _problem(429, ABOUT_BLANK, "Too many requests"), None
        return None, fault

    async def _dispatch(
        self,
        scope: Scope,
        route: _Route | None,
        params: dict[str, Any],
        other_method: list[str],
        body: bytes,
        fault: Fault | None,
    ) -> tuple[Response, Fault | None]:
        state = self.state
        world = state.world
        if fault is not None and fault.phase == "before":
            if fault.kind == "error":
                return error_response(fault.status), None
            if fault.kind == "timeout":
                return error_response(504), fault  # the proxy gave up; nothing was processed
            return Response(status_code=200), fault  # reset: never processed
        if state.marketplace is not None:
            state.marketplace.tick(world)
        catalog.tick(world)
        if route is None:
            if other_method:
                response = _problem(405, ABOUT_BLANK, "Method not allowed for this resource.")
                response.headers["Allow"] = ", ".join(sorted(set(other_method)))
                return response, None
            return _problem(404, NOT_FOUND, "The requested resource was not found."), None
        query = scope.get("query_string", b"").decode("utf-8", "replace")
        ctx = Ctx(
            world=world,
            seller=scope["sandbox.seller"],
            request=Request(scope),
            path=params,
            query=parse_qsl(query, keep_blank_values=True),
            raw_body=body,
        )
        try:
            response = await route.handler(ctx)
        except Problem as problem:
            response = problem.response()
        except Exception:
            log.exception("sandbox handler %s failed", route.template)
            response = _problem(500, SERVER_ERROR, "Internal Server Error")
        if fault is not None:  # phase "after": the change is made, the client sees a failure
            if fault.kind == "error":
                return error_response(fault.status), None
            return response, fault
        return response, None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _reset(send: Send) -> None:
    """Start a response that promises more than it sends, then abort: uvicorn closes the
    socket, so the client sees a connection dropped mid-response."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"data":', "more_body": True})
    raise SimulatedReset("connection reset by the sandbox (fault injection)")


def signed_url(config: SandboxConfig, scope: Scope, headers: Headers) -> str:
    """The URL the client must have signed: public base + raw request target, byte for byte.

    ASGI's ``raw_path`` excludes the query; some in-process transports put it there anyway,
    so a ``?`` in ``raw_path`` is taken as the start of the query."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    if b"?" in raw_path:
        raw_path, _, query = raw_path.partition(b"?")
    base = config.public_base_url or f"http://{headers.get('host', 'localhost')}"
    target = raw_path.decode("latin-1")
    if query:
        target += "?" + query.decode("latin-1")
    return base.rstrip("/") + target


def authenticate(
    config: SandboxConfig, world: World, scope: Scope, headers: Headers, body: bytes
) -> Seller | Response:
    """Kaufland's request authentication; returns the seller or the 401 to send."""
    for name in REQUIRED_HEADERS:
        if not headers.get(name, "").strip():
            return _problem(401, MISSING_HEADER, f"Missing or empty request header '{name}'.")
    raw_ts = headers["Shop-Timestamp"].strip()
    if not raw_ts.isdigit():
        return _problem(
            401, MISSING_HEADER, "Header 'Shop-Timestamp' must be a Unix timestamp in seconds."
        )
    seller = world.sellers.get(headers["Shop-Client-Key"].strip())
    secret = _secret(config, seller.client_key) if seller is not None else None
    if seller is None or secret is None:
        return _problem(401, INVALID_CREDENTIALS, "Invalid client key.")
    skew = abs(world.now() - int(raw_ts))
    if skew > config.timestamp_tolerance:
        return _problem(
            401,
            MISSING_HEADER,
            f"Header 'Shop-Timestamp' is outside the allowed window of "
            f"±{config.timestamp_tolerance} seconds around the server time.",
        )
    # Bytes, not text: the signature covers the raw body as sent, whatever its encoding.
    message = message_to_sign(scope["method"], signed_url(config, scope, headers), body, raw_ts)
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    received = headers["Shop-Signature"].strip()
    if signatures_match(digest.hex(), received):
        return seller
    if config.accept_base64_signatures and hmac.compare_digest(
        base64.b64encode(digest), received.encode("latin-1", "replace")
    ):
        return seller
    return _problem(401, CORRUPTED_SIGNATURE, "Request signature is corrupted.")


def _secret(config: SandboxConfig, client_key: str) -> str | None:
    for creds in config.sellers:
        if creds.client_key == client_key:
            return creds.secret_key
    return None


# Date header ----------------------------------------------------------------------------
class DateHeader:
    """Adds ``Date`` (from the sandbox clock, so a skewed clock shows) to every response.
    Servers run uvicorn with ``date_header=False`` so there is exactly one."""

    def __init__(self, app: ASGIApp, world: World) -> None:
        self.app = app
        self.world = world

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_date(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"date" for k, _ in headers):
                    date = formatdate(self.world.now(), usegmt=True).encode("latin-1")
                    headers.append((b"date", date))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_date)


# Control API ----------------------------------------------------------------------------
def _control(
    state: SandboxState, fn: Callable[[SandboxState, Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        host = request.client.host if request.client else "testclient"
        if host not in LOOPBACK_HOSTS:
            return _problem(403, FORBIDDEN, "The sandbox control API is for loopback clients only.")
        try:
            response = await fn(state, request)
        except Problem as problem:
            return problem.response()
        if request.method != "GET":
            state.world.dirty = True
        return response

    return endpoint


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise validation([("body", "Request body is not valid JSON.")]) from None
    if not isinstance(body, dict):
        raise validation([("body", "This value should be of type object.")])
    return body


def _pick_seller(state: SandboxState, body: dict[str, Any]) -> Seller:
    key = body.get("client_key")
    if key is None:
        if not state.world.sellers:
            raise validation([("client_key", "No seller is configured.")])
        return next(iter(state.world.sellers.values()))
    seller = state.world.sellers.get(str(key))
    if seller is None:
        raise validation([("client_key", f"Unknown client key {key!r}.")])
    return seller


def _need_marketplace(state: SandboxState) -> ModuleType:
    """The marketplace module, after applying its due time-driven transitions (so a control
    call sees the same world a ``/v2`` call would); 501 without one."""
    if state.marketplace is None:
        raise Problem(501, ABOUT_BLANK, "The sandbox marketplace module is not available.")
    state.marketplace.tick(state.world)
    return state.marketplace


def _int_field(body: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise validation([(name, "This value should not be blank.")])
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation([(name, "This value should be of type integer.")])
    return value


async def control_reset(state: SandboxState, request: Request) -> Response:
    """``POST /_sandbox/reset`` ``{"seed": "demo"|"empty"}``: a fresh world; request counts,
    pending events, rate-limit buckets, faults and the clock offset are reset too."""
    body = await _json_body(request)
    kind = body.get("seed", state.config.seed)
    if kind not in SEED_KINDS:
        raise validation([("seed", f"Choose one of: {', '.join(SEED_KINDS)}.")])
    world = state.world
    world.clock_offset = 0.0
    seed_world(world, kind)
    world.request_counts.clear()
    state.limiter.buckets.clear()
    state.faults = Faults()
    return JSONResponse({"data": {"seed": kind, "state": _state_json(state)}})


def _by_status(records: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records.values():
        status = str(record.get("status"))
        counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items()))


def _state_json(state: SandboxState) -> dict[str, Any]:
    world = state.world
    sellers = {}
    for key, seller in world.sellers.items():
        sellers[key] = {
            "units": len(seller.table("units")),
            "units_by_status": _by_status(seller.table("units")),
            "orders": len(seller.table("orders")),
            "order_units": len(seller.table("order_units")),
            "order_units_by_status": _by_status(seller.table("order_units")),
            "returns": len(seller.table("returns")),
            "return_units": len(seller.table("return_units")),
            "return_units_by_status": _by_status(seller.table("return_units")),
            "tickets": len(seller.table("tickets")),
            "subscriptions": len(seller.table("subscriptions")),
            "pending_events": sum(1 for e in world.events if e["client_key"] == key),
        }
    requests: dict[str, dict[str, int]] = {}
    for (endpoint, status), count in sorted(world.request_counts.items()):
        requests.setdefault(endpoint, {})[str(status)] = count
    return {
        "now_iso": iso(world.now()),
        "clock_offset_seconds": world.clock_offset,
        "catalog": {name: len(table) for name, table in world.catalog.items()},
        "sellers": sellers,
        "requests": requests,
        "requests_total": sum(world.request_counts.values()),
        "pending_events": len(world.events),
        "pending_deliveries": _pending_deliveries(state),
        "faults": state.faults.to_json(),
    }


def _pending_deliveries(state: SandboxState) -> int:
    """Push messages queued for (re)delivery by the notifier, 0 without one."""
    if state.notify is None:
        return 0
    return len(state.notify.notifier_for(state.world).pending)


async def control_state(state: SandboxState, request: Request) -> Response:
    return JSONResponse({"data": _state_json(state)})


async def control_get_faults(state: SandboxState, request: Request) -> Response:
    return JSONResponse({"data": state.faults.to_json()})


async def control_put_faults(state: SandboxState, request: Request) -> Response:
    errors = state.faults.update(await _json_body(request))
    if errors:
        raise validation(errors)
    return JSONResponse({"data": state.faults.to_json()})


async def control_orders(state: SandboxState, request: Request) -> Response:
    """``POST /_sandbox/orders`` ``{"client_key"?, "count", "storefront"?}``: buyers order."""
    market = _need_marketplace(state)
    body = await _json_body(request)
    seller = _pick_seller(state, body)
    count = _int_field(body, "count", required=False) or 1
    if not 1 <= count <= 1000:
        raise validation([("count", "This value should be between 1 and 1000.")])
    storefront = body.get("storefront")
    if storefront is not None and storefront not in ALL_STOREFRONTS:
        raise validation([("storefront", f"Choose one of: {', '.join(ALL_STOREFRONTS)}.")])
    ids = market.random_orders(state.world, seller.client_key, count, storefront=storefront)
    return JSONResponse(
        {"data": {"client_key": seller.client_key, "ids_order": ids}}, status_code=201
    )


def _owner_of(state: SandboxState, body: dict[str, Any], table: str, ident: int, what: str) -> str:
    """The seller named by ``client_key``, else the one holding record ``ident`` in ``table``;
    404 when nobody does (an unknown id under an explicit ``client_key`` is left to the
    marketplace function, which answers the same 404)."""
    if body.get("client_key") is not None:
        return _pick_seller(state, body).client_key
    for key, seller in state.world.sellers.items():
        if str(ident) in seller.table(table):
            return key
    raise Problem(404, NOT_FOUND, f"{what} {ident} not found")


def _owner_of_order_unit(state: SandboxState, body: dict[str, Any], id_order_unit: int) -> str:
    """The seller named by ``client_key``, else the one whose order unit it is."""
    return _owner_of(state, body, "order_units", id_order_unit, "Order unit")


def _owner_of_return_unit(state: SandboxState, body: dict[str, Any], id_return_unit: int) -> str:
    """The seller named by ``client_key``, else the one whose return unit it is."""
    return _owner_of(state, body, "return_units", id_return_unit, "Return unit")


def _str_field(body: dict[str, Any], name: str) -> str | None:
    """An optional non-blank string field."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise validation([(name, "This value should be of type string.")])
    if not value.strip():
        raise validation([(name, "This value should not be blank.")])
    return value


async def control_returns(state: SandboxState, request: Request) -> Response:
    """``POST /_sandbox/returns`` ``{"id_order_unit", "reason"?, "client_key"?}``: the buyer
    sends a unit back (``marketplace.open_return``); 201 with the return and its units."""
    market = _need_marketplace(state)
    body = await _json_body(request)
    id_order_unit = _int_field(body, "id_order_unit")
    assert id_order_unit is not None
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise validation([("reason", "This value should be of type string.")])
    owner = _owner_of_order_unit(state, body, id_order_unit)
    result = market.open_return(state.world, owner, id_order_unit, reason)
    # With its return units, so a script can go on with `return-arrived` at once.
    units = [
        public(unit)
        for unit in state.world.seller(owner).table("return_units").values()
        if unit["id_return"] == result["id_return"]
    ]
    return JSONResponse({"data": public(result) | {"return_units": units}}, status_code=201)


async def control_delivered(state: SandboxState, request: Request) -> Response:
    """``POST /_sandbox/delivered`` ``{"id_order_unit", "client_key"?}``: the parcel reached
    the buyer (``marketplace.mark_delivered``)."""
    market = _need_marketplace(state)
    body = await _json_body(request)
    id_order_unit = _int_field(body, "id_order_unit")
    assert id_order_unit is not None
    owner = _owner_of_order_unit(state, body, id_order_unit)
    market.mark_delivered(state.world, owner, id_order_unit)
    record = state.world.seller(owner).table("order_units")[str(id_order_unit)]
    return JSONResponse({"data": {"id_order_unit": id_order_unit, "status": record["status"]}})


async def control_autopaid(state: SandboxState, request: Request) -> Response:
    """``POST /_sandbox/autopaid`` ``{"id_order_unit", "client_key"?}``: Kaufland paid the
    seller out for a sent unit (``marketplace.mark_autopaid``: ``sent`` → ``sent_and_autopaid``)."""
    market = _need_marketplace(state)
    body = await _json_body(request)
    id_order_unit = _int_field(body, "id_order_unit")
    assert id_order_unit is not None
    owner = _owner_of_order_unit(state, body, id_order_unit)
    market.mark_autopaid(state.world, owner, id_order_unit)
    record = state.world.seller(owner).table("order_units")[str(id_order_unit)]
    return JSONResponse({"data": {"id_order_unit": id_order_unit, "status": record["status"]}})


def _return_unit_answer(state: SandboxState, owner: str, id_return_unit: int) -> Response:
    """``{"data": {id_return_unit, id_return, status, return_status}}`` after a change."""
    seller = state.world.seller(owner)
    unit = seller.table("return_units")[str(id_return_unit)]
    ret = seller.table("returns").get(str(unit["id_return"])) or {}
    return JSONResponse(
        {
            "data": {
                "id_return_unit": id_return_unit,
                "id_return": unit["id_return"],
                "status": unit["status"],
                "return_status": ret.get("status"),
            }
        }
    )


async def control_return_arrived(state: SandboxState, request: Request) -> Response:
    """``POST /_sandbox/return-arrived`` ``{"id_return_unit", "client_key"?}``: the buyer's
    parcel reached the seller (``marketplace.mark_return_arrived``)."""
    market = _need_marketplace(state)
    body = await _json_body(request)
    id_return_unit = _int_field(body, "id_return_unit")
    assert id_return_unit is not None
    owner = _owner_of_return_unit(state, body, id_return_unit)
    market.mark_return_arrived(state.world, owner, id_return_unit)
    return _return_unit_answer(state, owner, id_return_unit)


async def control_return_closed(state: SandboxState, request: Request) -> Response:
    """``POST /_sandbox/return-closed`` ``{"id_return_unit", "client_key"?}``: Kaufland closes a
    decided return unit (``marketplace.close_return_unit``)."""
    market = _need_marketplace(state)
    body = await _json_body(request)
    id_return_unit = _int_field(body, "id_return_unit")
    assert id_return_unit is not None
    owner = _owner_of_return_unit(state, body, id_return_unit)
    market.close_return_unit(state.world, owner, id_return_unit)
    return _return_unit_answer(state, owner, id_return_unit)


async def control_tickets(state: SandboxState, request: Request) -> Response:
    """``POST /_sandbox/tickets`` ``{"id_order_unit", "reason"?, "message"?, "client_key"?}``:
    a buyer opens a ticket (``marketplace.open_buyer_ticket``). ``id_order_unit`` is one id or
    a list of ids of one buyer; the owner of the first decides the default seller. 201 with
    the ticket."""
    market = _need_marketplace(state)
    body = await _json_body(request)
    raw_ids = body.get("id_order_unit")
    if raw_ids is None or raw_ids == []:
        raise validation([("id_order_unit", "This value should not be blank.")])
    given = raw_ids if isinstance(raw_ids, list) else [raw_ids]
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in given):
        raise validation(
            [("id_order_unit", "This value should be an integer or an array of integers.")]
        )
    ids = [int(i) for i in given]
    reasons = tuple(market.TOPIC_FOR_REASON)
    reason = body.get("reason")
    if reason is not None and reason not in reasons:
        raise validation([("reason", f"Choose one of: {', '.join(reasons)}.")])
    message = _str_field(body, "message")
    owner = _owner_of_order_unit(state, body, ids[0])
    extra: dict[str, str] = {}
    if reason is not None:
        extra["reason"] = reason
    if message is not None:
        extra["message"] = message
    ticket = market.open_buyer_ticket(state.world, owner, ids, **extra)
    view = public(ticket)
    view["storefront"] = ticket.get("_storefront")
    return JSONResponse({"data": {"client_key": owner, **view}}, status_code=201)


async def control_clock(state: SandboxState, request: Request) -> Response:
    """``PUT /_sandbox/clock`` ``{"offset_seconds"}``: skew the sandbox clock (GET reads it)."""
    if request.method == "PUT":
        body = await _json_body(request)
        offset = body.get("offset_seconds")
        if isinstance(offset, bool) or not isinstance(offset, int | float):
            raise validation([("offset_seconds", "This value should be a number.")])
        state.world.clock_offset = float(offset)
    world = state.world
    return JSONResponse(
        {
            "data": {
                "offset_seconds": world.clock_offset,
                "now": world.now(),
                "now_iso": iso(world.now()),
            }
        }
    )


# Downloads -------------------------------------------------------------------------------
# The records hand out absolute URLs under /_sandbox/files/ (built from the address the client
# reached); these endpoints serve what is behind them.


def _find(state: SandboxState, table: str, match: Callable[[Record], bool]) -> Record | None:
    """The first record of any seller's ``table`` that ``match`` accepts."""
    for seller in state.world.sellers.values():
        for record in seller.table(table).values():
            if match(record):
                return record
    return None


def _file_missing(what: str) -> Problem:
    return Problem(404, NOT_FOUND, f"{what} not found")


async def control_report_file(state: SandboxState, request: Request) -> Response:
    """``GET /_sandbox/files/reports/{id_report}.csv``: a DONE report's CSV (``render_report``);
    404 while the report is not DONE yet (its ``url`` is empty until then)."""
    reports = _optional_module("routes.reports")
    id_report = int(request.path_params["id_report"])
    for seller in state.world.sellers.values():
        report = seller.table("reports").get(str(id_report))
        if report is None or reports is None:
            continue
        reports.advance(state.world, report)
        if report["status"] != "DONE":
            raise _file_missing(f"File of report {id_report} (status {report['status']})")
        return Response(
            reports.render_report(seller, report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="report-{id_report}.csv"'},
        )
    raise _file_missing(f"Report {id_report}")


async def control_invoice_file(state: SandboxState, request: Request) -> Response:
    """``GET /_sandbox/files/order-invoices/{id_invoice}?access_token=…``: the uploaded invoice
    with its mime type. Like Kaufland's presigned links, the token of the handed-out ``url``
    is required; a wrong or missing one is the same 404 as an unknown invoice."""
    id_invoice = int(request.path_params["id_invoice"])
    invoice = _find(state, "order_invoices", lambda r: r.get("id_invoice") == id_invoice)
    what = f"Invoice file {id_invoice}"
    if invoice is None or "_data" not in invoice:
        raise _file_missing(what)
    expected = dict(parse_qsl(urlsplit(str(invoice.get("url", ""))).query)).get("access_token")
    given = request.query_params.get("access_token", "")
    if expected is not None and not hmac.compare_digest(expected, given):
        raise _file_missing(what)
    return _file_response(
        str(invoice["_data"]), str(invoice["mime_type"]), invoice["original_name"]
    )


async def control_ticket_file(state: SandboxState, request: Request) -> Response:
    """``GET /_sandbox/files/tickets/{id_ticket}/{position}/{filename}``: a file attached to a
    ticket message, with the mime type it was sent with (``position`` counts the ticket's
    files from 0; ``filename`` must match too)."""
    id_ticket = str(request.path_params["id_ticket"])
    position = int(request.path_params["position"])
    filename = str(request.path_params["filename"])
    what = f"File {filename!r} of ticket {id_ticket}"
    ticket = _find(state, "tickets", lambda r: r.get("id_ticket") == id_ticket)
    files = ticket.get("_files", []) if ticket is not None else []
    if not 0 <= position < len(files):
        raise _file_missing(what)
    stored = files[position]
    if stored.get("filename") != filename or "_data" not in stored:
        raise _file_missing(what)
    return _file_response(str(stored["_data"]), str(stored.get("_mime_type")), filename)


async def control_shipping_label_file(state: SandboxState, request: Request) -> Response:
    """``GET /_sandbox/files/shipping-labels/{id}.pdf``: a KSS label (``label_pdf``), for the
    7 days its ``download_url`` is valid; 404 after that or for an unknown id."""
    labels = _optional_module("routes.shipping_labels")
    id_label = str(request.path_params["id_label"])
    label = labels.find_label(state.world, id_label) if labels is not None else None
    if labels is None or label is None:
        raise _file_missing(f"Shipping label {id_label}")
    return Response(
        labels.label_pdf(label),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="label-{id_label}.pdf"'},
    )


def _file_response(encoded: str, mime_type: str, filename: str) -> Response:
    """The decoded bytes of a stored base64 file, inline, under its original name."""
    quoted = quote(filename, safe="")
    return Response(
        base64.b64decode(encoded),
        media_type=mime_type or "application/octet-stream",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quoted}"},
    )


async def _not_found(request: Request) -> Response:
    return _problem(404, NOT_FOUND, "The requested resource was not found.")


# Factory -----------------------------------------------------------------------------------
def create_app(config: SandboxConfig, *, world: World | None = None) -> Starlette:
    """Build the sandbox app. Without ``world``: load ``config.state_file`` if it exists, else
    seed ``config.seed``. With one: use it as it is (tests seed their own).

    On startup the push Notifier, (with a state file) the periodic saver and (with
    ``config.buyers_every`` > 0) the invented buyers of ``buyers.py`` run as background tasks; on
    shutdown they stop and the world is saved."""
    if world is None:
        world = World(config)
        if config.state_file is None or not world.load(config.state_file):
            seed_world(world, config.seed)
    state = SandboxState(config, world)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks: list[asyncio.Task[Any]] = []
        if state.notify is not None:
            tasks.append(asyncio.create_task(state.notify.run(world, stop)))
        if config.state_file is not None:
            tasks.append(asyncio.create_task(_saver(world, config, stop)))
        if config.buyers_every > 0:
            tasks.append(asyncio.create_task(buyers.run(world, stop)))
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=5.0)
            if config.state_file is not None:
                world.save(config.state_file)

    def control(
        path: str,
        fn: Callable[[SandboxState, Request], Awaitable[Response]],
        methods: list[str],
    ) -> Route:
        return Route(path, _control(state, fn), methods=methods)

    routes = [
        Mount("/v2", app=V2App(state)),
        control("/_sandbox/reset", control_reset, ["POST"]),
        control("/_sandbox/state", control_state, ["GET"]),
        control("/_sandbox/faults", control_get_faults, ["GET"]),
        control("/_sandbox/faults", control_put_faults, ["PUT", "PATCH"]),
        control("/_sandbox/orders", control_orders, ["POST"]),
        control("/_sandbox/returns", control_returns, ["POST"]),
        control("/_sandbox/delivered", control_delivered, ["POST"]),
        control("/_sandbox/autopaid", control_autopaid, ["POST"]),
        control("/_sandbox/return-arrived", control_return_arrived, ["POST"]),
        control("/_sandbox/return-closed", control_return_closed, ["POST"]),
        control("/_sandbox/tickets", control_tickets, ["POST"]),
        control("/_sandbox/clock", control_clock, ["GET", "PUT"]),
        control("/_sandbox/files/reports/{id_report:int}.csv", control_report_file, ["GET"]),
        control("/_sandbox/files/order-invoices/{id_invoice:int}", control_invoice_file, ["GET"]),
        control(
            "/_sandbox/files/tickets/{id_ticket}/{position:int}/{filename:path}",
            control_ticket_file,
            ["GET"],
        ),
        control(
            "/_sandbox/files/shipping-labels/{id_label}.pdf", control_shipping_label_file, ["GET"]
        ),
        Route(
            "/{path:path}",
            _not_found,
            methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        ),
    ]
    app = Starlette(
        routes=routes, middleware=[Middleware(DateHeader, world=world)], lifespan=lifespan
    )
    app.state.sandbox = state
    return app


async def _saver(world: World, config: SandboxConfig, stop: asyncio.Event) -> None:
    """Write the state file every few seconds while something changed."""
    assert config.state_file is not None
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=SAVE_INTERVAL)
        if world.dirty:
            world.dirty = False
            try:
                world.save(config.state_file)
            except OSError:
                log.exception("could not save the sandbox state to %s", config.state_file)
                world.dirty = True
