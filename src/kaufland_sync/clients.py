"""Kaufland clients for the accounts of this installation, set up the way jobs and the web app
need them: the account's base URL, the right rate limiter for the deployment, and metrics.

Pacing (Kaufland allows 111 requests per second per client key, across all endpoints):

* ``settings.queue_url`` is ``redis://`` or ``rediss://`` (workers on several machines): a
  ``RedisPacer`` on that server, so every process using a client key shares one limit;
* otherwise (one machine, SQLite queue): the process-wide ``RateLimiter.for_key``, shared by
  all worker threads of the process.

Either is wrapped in ``MeteredPacer`` (time spent waiting, 429 back-offs), and requests go
through a ``MeteredAsyncClient`` (requests, errors, latency per endpoint).

Redis connections and event loops: a ``redis.asyncio`` connection belongs to the event loop
that opened it, and every job runs in its own ``asyncio.run`` in a worker thread, so no
connection can outlive its loop or move to another. The process keeps one ``RedisPacer`` per
(Redis URL, client key, rate), and that pacer opens one connection pool per loop it is used on.
Each client counts, per loop, that it uses the pacer there; when the last client that used it on
a loop is closed, on that loop, the pool of that loop is closed too. So: close every client (use
``async with``) on the loop it ran on, and nothing is left open when the loop ends.
``close_pacers()`` forgets the cached pacers at shutdown.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from typing import TYPE_CHECKING, Any

import httpx

from kaufland_sync.accounts import base_url_for
from kaufland_sync.metrics import MeteredAsyncClient, MeteredPacer
from kaufland_sync.sellerapi._pacing import NoPacer, Pacer, RateLimiter
from kaufland_sync.sellerapi.client import KauflandClient, shared_ssl_context

if TYPE_CHECKING:
    from kaufland_sync.config import Settings
    from kaufland_sync.sellerapi._redis_pacing import RedisPacer
    from kaufland_sync.sellerapi.storefronts import Storefront
    from kaufland_sync.store.models.accounts import Account

__all__ = ["AccountClient", "client_for_account", "close_pacers", "uses_redis_pacing"]

log = logging.getLogger("kaufland_sync.clients")

_REDIS_SCHEMES = ("redis://", "rediss://")
# The same pool settings KauflandClient uses for a client it creates itself.
_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=30.0)


def uses_redis_pacing(queue_url: str | None) -> bool:
    """True when ``queue_url`` names a Redis server, whose pacing is then shared through it."""
    return bool(queue_url) and str(queue_url).startswith(_REDIS_SCHEMES)


class _SharedRedisPacer:
    """One ``RedisPacer`` of the process and, per event loop, how many open clients used it
    there (a client counts once per loop)."""

    def __init__(self, pacer: RedisPacer) -> None:
        self.pacer = pacer
        self._users: dict[asyncio.AbstractEventLoop, int] = {}
        self._lock = threading.Lock()

    def retain(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            self._users[loop] = self._users.get(loop, 0) + 1

    def release(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Drop one user on ``loop``; True when it was the last one there."""
        with self._lock:
            left = self._users.get(loop, 0) - 1
            if left > 0:
                self._users[loop] = left
                return False
            self._users.pop(loop, None)
            return True

    @property
    def open_users(self) -> int:
        with self._lock:
            return sum(self._users.values())


class _RedisLease:
    """The ``Pacer`` one client uses: the shared ``RedisPacer``, plus the bookkeeping that lets
    the client close that pacer's connection pool on a loop once nobody else there needs it."""

    def __init__(self, shared: _SharedRedisPacer) -> None:
        self._shared = shared
        self._loops: set[asyncio.AbstractEventLoop] = set()

    def __repr__(self) -> str:
        return repr(self._shared.pacer)

    def _enter(self) -> None:
        loop = asyncio.get_running_loop()
        if loop not in self._loops:
            self._loops.add(loop)
            self._shared.retain(loop)

    async def acquire(self) -> None:
        self._enter()
        await self._shared.pacer.acquire()

    async def back_off(self, seconds: float) -> None:
        self._enter()
        await self._shared.pacer.back_off(seconds)

    async def release(self) -> None:
        """The client is closing (on the running loop). Safe to call twice."""
        loops, self._loops = self._loops, set()
        running = asyncio.get_running_loop()
        for loop in loops:
            if not self._shared.release(loop):
                continue
            if loop is running:
                # Pops the loop's pool before awaiting, so a client starting on this loop
                # meanwhile opens a fresh one instead of using the closing one.
                await self._shared.pacer.aclose()
            else:
                log.warning(
                    "a Kaufland client was closed on another event loop than it ran on; the "
                    "Redis pacing connection of that loop is left to it"
                )


_cache_lock = threading.Lock()
_redis_pacers: dict[tuple[str, str, float], _SharedRedisPacer] = {}


def _shared_redis_pacer(url: str, client_key: str, rate: float) -> _SharedRedisPacer:
    from kaufland_sync.sellerapi._redis_pacing import RedisPacer

    # Hashed like the limiter registries, so no key material sits in a readable form here.
    digest = hashlib.sha256(client_key.encode("utf-8")).hexdigest()
    slot = (url, digest, float(rate))
    with _cache_lock:
        shared = _redis_pacers.get(slot)
        if shared is None:
            shared = _redis_pacers[slot] = _SharedRedisPacer(
                RedisPacer.from_url(url, client_key, rate=rate)
            )
        return shared


def close_pacers() -> None:
    """Forget the process's cached Redis pacers (at shutdown, after every client is closed).

    Their connections are closed by the clients themselves (see the module docstring); a pacer
    that still has open users is reported in the log, since its connections cannot be closed
    from outside their loops.
    """
    with _cache_lock:
        cached = list(_redis_pacers.values())
        _redis_pacers.clear()
    still_open = sum(shared.open_users for shared in cached)
    if still_open:
        log.warning("%d Kaufland client(s) were not closed before shutdown", still_open)


class AccountClient(KauflandClient):
    """A ``KauflandClient`` built by ``client_for_account``: it owns the instrumented HTTP
    client it was given (closes it in ``aclose``) and hands its Redis pacing back on close."""

    def __init__(
        self,
        client_key: str,
        secret_key: str,
        *,
        owned_http: httpx.AsyncClient | None,
        lease: _RedisLease | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(client_key, secret_key, **kwargs)
        self._owned_http = owned_http
        self._lease = lease

    async def aclose(self) -> None:
        """Close the connection pool and release the Redis pacing connection of this loop
        (when this was the last client using it here). Safe to call twice."""
        try:
            await super().aclose()
            if self._owned_http is not None:
                await self._owned_http.aclose()
        finally:
            if self._lease is not None:
                await self._lease.release()


def client_for_account(
    settings: Settings,
    account: Account,
    secret: str,
    *,
    storefront: Storefront | str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
    **kwargs: Any,
) -> KauflandClient:
    """A client for ``account`` (its environment's base URL) with the deployment's pacing and
    metrics; use it as ``async with`` on the event loop that runs it.

    ``secret`` is the account's decrypted secret key. ``transport`` replaces the network (tests:
    ``httpx.MockTransport``, ``httpx.ASGITransport``); requests are still measured. ``kwargs``
    go to ``KauflandClient`` (``retry``, ``correct_clock_skew``, ``clock``, ``sleep``...):

    * ``rate_limit`` overrides ``settings.rate_limit``; None turns pacing off;
    * ``pacer`` replaces the deployment's pacer (it is still metered);
    * ``http_client`` sends with that client instead; it stays the caller's to close and its
      requests are not measured.
    """
    rate: float | None = kwargs.pop("rate_limit", settings.rate_limit)
    given: Pacer | None = kwargs.pop("pacer", None)
    lease: _RedisLease | None = None
    inner: Pacer
    if given is not None:
        inner = given
    elif rate is None:
        inner = NoPacer()
    elif settings.queue_url and uses_redis_pacing(settings.queue_url):
        lease = _RedisLease(_shared_redis_pacer(settings.queue_url, account.client_key, rate))
        inner = lease
    else:
        inner = RateLimiter.for_key(account.client_key, rate)
    pacer = inner if isinstance(inner, MeteredPacer) else MeteredPacer(inner)

    owned: httpx.AsyncClient | None = None
    if "http_client" not in kwargs:
        owned = MeteredAsyncClient(
            transport=transport
            or httpx.AsyncHTTPTransport(verify=shared_ssl_context(), limits=_LIMITS),
            timeout=timeout,
            verify=shared_ssl_context(),  # the proxy transports httpx mounts from the environment
            limits=_LIMITS,
            follow_redirects=False,
        )
        kwargs["http_client"] = owned
    return AccountClient(
        account.client_key,
        secret,
        owned_http=owned,
        lease=lease,
        base_url=base_url_for(account),
        storefront=storefront,
        pacer=pacer,
        **kwargs,
    )
