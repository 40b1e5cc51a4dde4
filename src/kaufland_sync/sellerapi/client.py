"""``KauflandClient``: the asynchronous Seller API v2 client.

One client holds one pooled ``httpx.AsyncClient`` and, per request: encodes the query and JSON
body, paces sends per client key, signs (``_auth``), sends, maps errors to the ``errors`` tree,
corrects clock skew once on a 401 (``_clock``) and retries under the ``RetryPolicy``. Resources
(``client.units``, ``client.orders``, ...) sit on top and only use the ``Requester`` protocol.

Logging: ``logging.getLogger("kaufland_sync.sellerapi")`` gets one DEBUG line per send (method,
path with query, status, time, attempt) and WARNING lines for retries and clock corrections.
Headers are never logged, so keys and signatures never reach the logs.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import json as jsonlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel

from kaufland_sync.sellerapi import resources
from kaufland_sync.sellerapi._auth import KauflandAuth
from kaufland_sync.sellerapi._clock import SkewTracker
from kaufland_sync.sellerapi._pacing import NoPacer, Pacer, RateLimiter
from kaufland_sync.sellerapi._pagination import paginate
from kaufland_sync.sellerapi._requester import ApiResponse, QueryValue
from kaufland_sync.sellerapi._retry import RetryPolicy, parse_retry_after
from kaufland_sync.sellerapi.errors import (
    ClockSkewError,
    OutcomeUnknownError,
    TransportError,
    error_from_response,
)
from kaufland_sync.sellerapi.storefronts import Storefront

__all__ = [
    "PLAYGROUND_BASE_URL",
    "PRODUCTION_BASE_URL",
    "KauflandClient",
    "encode_json",
    "encode_query",
]

PRODUCTION_BASE_URL: Final = "https://sellerapi.kaufland.com/v2"
PLAYGROUND_BASE_URL: Final = "https://sellerapi-playground.kaufland.com/v2"

# Methods that may be sent twice without a second effect (RFC 9110 idempotent methods).
_REPLAY_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

logger = logging.getLogger("kaufland_sync.sellerapi")

M = TypeVar("M", bound=BaseModel)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return _scalar(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def encode_query(params: Mapping[str, QueryValue | enum.Enum] | None) -> str:
    """Encode query parameters the way the client sends them.

    Keys keep their order; sequences become repeated keys (``status=a&status=b``); booleans
    ``true``/``false``; enums their value; None (also inside sequences) is left out. Values are
    percent-encoded like PHP's ``http_build_query`` (``,`` → ``%2C``, space → ``+``).
    """
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            pairs.extend((key, _scalar(v)) for v in value if v is not None)
        else:
            pairs.append((key, _scalar(value)))
    return urlencode(pairs)


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_json(body: Any) -> bytes:
    """The exact request body bytes: compact JSON, non-ASCII kept as UTF-8.

    Pydantic models are dumped with ``mode="json", by_alias=True, exclude_unset=True`` (fields
    set explicitly to None are sent as ``null``; unset fields are left out).
    """
    return jsonlib.dumps(
        body, separators=(",", ":"), ensure_ascii=False, default=_json_default
    ).encode("utf-8")


def _default_user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"kaufland-sync/{version('kaufland-sync')}"
    except PackageNotFoundError:
        return "kaufland-sync/dev"


def _parse_body(response: httpx.Response) -> Any:
    content = response.content
    if not content or not content.strip():
        return None
    try:
        return jsonlib.loads(content)
    except ValueError:
        # Not JSON although the request succeeded: hand back the text rather than fail.
        return response.text


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context (certificate verification on, httpx's CA bundle) for every client of the
    process. Building one loads the CA bundle, which costs tens of milliseconds: a worker that
    opens a client per job would otherwise pay it on every job. Contexts are safe to share."""
    return httpx.create_ssl_context()


class KauflandClient:
    """Asynchronous client for the Kaufland Seller API v2; implements ``Requester``.

    Arguments:
        client_key, secret_key: the seller's API credentials (the secret is used as a plain
            string and never logged).
        base_url: ``PRODUCTION_BASE_URL``, ``PLAYGROUND_BASE_URL`` or a local sandbox URL ending
            in ``/v2``. Requests are signed against ``base_url + path`` exactly.
        storefront: default ``storefront`` for resources that need one.
        user_agent: sent as ``User-Agent``; Kaufland asks for the partner solution's name.
            Default ``kaufland-sync/<version>``.
        timeout: seconds, for the ``httpx.AsyncClient`` the client creates (ignored when
            ``http_client`` is given: that client's own timeouts apply).
        retry: the ``RetryPolicy`` (default ``RetryPolicy()``).
        rate_limit: requests per second for this client key (default 111); None disables pacing.
        pacer: a ``Pacer`` to use instead (e.g. one shared across processes).
        http_client: an ``httpx.AsyncClient`` to send with (e.g. with ``MockTransport``); the
            caller keeps ownership and closes it.
        correct_clock_skew: on a 401 while our clock is more than 300 s off Kaufland's ``Date``,
            sign with Kaufland's time and resend once (True), or raise ``ClockSkewError`` (False).
        clock: Unix-seconds clock used for ``Shop-Timestamp`` (and pacing, when injected).
        sleep: coroutine used to wait between retries (and for pacing, when injected).

    Pacing: without ``pacer``, the client uses ``RateLimiter.for_key(client_key, rate_limit)``,
    shared by every client of that key in this process. If ``clock`` or ``sleep`` are injected
    (tests), it uses a private ``RateLimiter`` on that clock and sleep instead, so fake time
    never leaks into the shared limiter.
    """

    def __init__(
        self,
        client_key: str,
        secret_key: str,
        *,
        base_url: str = PRODUCTION_BASE_URL,
        storefront: Storefront | str | None = None,
        user_agent: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        rate_limit: float | None = 111.0,
        pacer: Pacer | None = None,
        http_client: httpx.AsyncClient | None = None,
        correct_clock_skew: bool = True,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.storefront = Storefront.parse(storefront) if storefront is not None else None
        self.user_agent = user_agent or _default_user_agent()
        self.retry = retry or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._skew = SkewTracker(clock, correct=correct_clock_skew)
        self._auth = KauflandAuth(client_key, secret_key, self._skew.timestamp)
        self.pacer: Pacer
        if pacer is not None:
            self.pacer = pacer
        elif rate_limit is None:
            self.pacer = NoPacer()
        elif clock is time.time and sleep is asyncio.sleep:
            self.pacer = RateLimiter.for_key(client_key, rate_limit)
        else:
            self.pacer = RateLimiter(rate_limit, clock=clock, sleep=sleep)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            verify=shared_ssl_context(),
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=100, max_keepalive_connections=100, keepalive_expiry=30.0
            ),
            follow_redirects=False,
        )

        self.status = resources.Status(self)
        self.info = resources.Info(self)
        self.categories = resources.Categories(self)
        self.attributes = resources.Attributes(self)
        self.products = resources.Products(self)
        self.product_data = resources.ProductData(self)
        self.units = resources.Units(self)
        self.orders = resources.Orders(self)
        self.order_units = resources.OrderUnits(self)
        self.shipments = resources.Shipments(self)
        self.order_invoices = resources.OrderInvoices(self)
        self.returns = resources.Returns(self)
        self.return_units = resources.ReturnUnits(self)
        self.shipping_groups = resources.ShippingGroups(self)
        self.warehouses = resources.Warehouses(self)
        self.carriers = resources.Carriers(self)
        self.reports = resources.Reports(self)
        self.tickets = resources.Tickets(self)
        self.subscriptions = resources.Subscriptions(self)
        self.import_files = resources.ImportFiles(self)
        self.playground = resources.Playground(self)

    def __repr__(self) -> str:
        return f"KauflandClient(base_url={self.base_url!r}, storefront={self.storefront})"

    @property
    def clock_offset(self) -> float:
        """Seconds added to the local clock when signing (learned from a skewed 401)."""
        return self._skew.offset

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> KauflandClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (only if this client created it)."""
        if self._owns_http:
            await self._http.aclose()

    # -- Requester -----------------------------------------------------------------------------

    def storefront_param(
        self, storefront: Storefront | str | None, *, required: bool
    ) -> str | None:
        """The ``storefront`` value to send: the argument, else the client default.

        Raises ``ValueError`` when ``required`` and neither is set, or for an unknown code.
        """
        if storefront is not None:
            return Storefront.parse(storefront).value
        if self.storefront is not None:
            return self.storefront.value
        if required:
            raise ValueError(
                "storefront is required for this call: pass storefront=... or create the client "
                "with a default storefront"
            )
        return None

    def url(self, path: str, params: Mapping[str, QueryValue] | None = None) -> str:
        """The absolute URL a request to ``path`` with ``params`` is sent to (and signed for).

        ``path`` starts with ``/`` and may already carry a query string; ``params`` are appended.
        """
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        url = self.base_url + path
        query = encode_query(params)
        if query:
            url += ("&" if "?" in path else "?") + query
        return url

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        replay_safe: bool | None = None,
    ) -> ApiResponse:
        """Send one request and return the parsed answer (see ``Requester.request``).

        ``json`` None means no body. Raises ``ApiError`` leaves, ``TransportError``,
        ``OutcomeUnknownError``; retries per the policy first.
        """
        method = method.upper()
        url = self.url(path, params)
        content = encode_json(json) if json is not None else b""
        safe = method in _REPLAY_SAFE_METHODS if replay_safe is None else replay_safe
        response = await self._send(method, url, content, replay_safe=safe, raw=False)
        return ApiResponse(
            status_code=response.status_code,
            headers=dict(response.headers.items()),
            body=_parse_body(response),
        )

    async def iterate(
        self,
        path: str,
        model: type[M],
        *,
        params: Mapping[str, QueryValue] | None = None,
        max_limit: int,
        page_size: int | None = None,
    ) -> AsyncIterator[M]:
        """Yield every item of a list endpoint as ``model`` (see ``Requester.iterate``).

        ``limit``/``offset`` in ``params`` are replaced by the walk's own values.
        """
        base = {k: v for k, v in (params or {}).items() if k not in ("limit", "offset")}

        async def fetch(offset: int, limit: int) -> ApiResponse:
            return await self.request(
                "GET", path, params={**base, "limit": limit, "offset": offset}
            )

        async for item in paginate(fetch, path=path, max_limit=max_limit, page_size=page_size):
            yield model.model_validate(item)

    # -- debugging -----------------------------------------------------------------------------

    async def raw(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        body: bytes | str | None = None,
    ) -> httpx.Response:
        """Send one signed, paced request and return the ``httpx.Response`` whatever its status.

        For debugging (``kaufland-sync api``). Never raises ``ApiError``; resends only after a
        429 or a connect error (the request never reached Kaufland) and once after a clock-skew
        401. ``body`` is sent as given (str is UTF-8 encoded) with ``Content-Type:
        application/json``. Network failures raise ``TransportError``.
        """
        method = method.upper()
        url = self.url(path, params)
        content = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        return await self._send(method, url, content, replay_safe=False, raw=True)

    # -- the send loop -------------------------------------------------------------------------

    def _build(self, method: str, url: str, content: bytes) -> httpx.Request:
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        if content:
            headers["Content-Type"] = "application/json"
        return self._http.build_request(method, url, content=content or None, headers=headers)

    async def _send(
        self, method: str, url: str, content: bytes, *, replay_safe: bool, raw: bool
    ) -> httpx.Response:
        """Send until success or a final answer. In ``raw`` mode, return error responses instead
        of raising, and only resend what Kaufland provably did not process."""
        path = url[len(self.base_url) :] if url.startswith(self.base_url) else url
        attempt = 0
        skew_corrected = False
        while True:
            attempt += 1
            await self.pacer.acquire()
            request = self._build(method, url, content)
            started = time.perf_counter()
            try:
                response = await self._http.send(request, auth=self._auth)
            except httpx.RequestError as exc:
                decision = self.retry.decide(exc, attempt, replay_safe)
                logger.debug(
                    "%s %s -> %s after %.1f ms (attempt %d)",
                    method,
                    path,
                    type(exc).__name__,
                    (time.perf_counter() - started) * 1000,
                    attempt,
                )
                if decision.retry:
                    logger.warning("retrying %s %s: %s", method, path, decision.reason)
                    await self._sleep(decision.delay)
                    continue
                if decision.outcome_unknown and not raw:
                    raise OutcomeUnknownError(method, url, exc) from exc
                raise TransportError(method, url, exc) from exc

            status = response.status_code
            logger.debug(
                "%s %s -> %d in %.1f ms (attempt %d)",
                method,
                path,
                status,
                (time.perf_counter() - started) * 1000,
                attempt,
            )
            if status < 400:
                return response

            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            error = error_from_response(
                method, url, status, response.headers, response.content, retry_after=retry_after
            )
            if status == 401:
                try:
                    resend = self._skew.on_unauthorized(error, already_corrected=skew_corrected)
                except ClockSkewError:
                    if raw:
                        return response
                    raise
                if resend:
                    # Rejected unprocessed: a re-signed resend is safe and is not a retry.
                    skew_corrected = True
                    attempt -= 1
                    continue
            if raw and status != 429:
                return response

            decision = self.retry.decide(status, attempt, replay_safe, retry_after)
            if status == 429:
                # Hold every caller of this key, not just this one, so a burst stops hammering.
                pause = decision.delay if decision.retry else retry_after
                await self.pacer.back_off(
                    pause if pause is not None else self.retry.backoff(attempt)
                )
            if decision.retry:
                logger.warning("retrying %s %s: %s", method, path, decision.reason)
                await self._sleep(decision.delay)
                continue
            if raw:
                return response
            if decision.outcome_unknown:
                raise OutcomeUnknownError(method, url, error) from error
            raise error
