"""A small synchronous facade over ``KauflandClient`` for the CLI and scripts.

``SyncKauflandClient`` owns a private event loop and runs each call to completion on it, in the
calling thread. It must not be used from inside a running event loop (use ``KauflandClient``
there). Not thread-safe: use one facade per thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from kaufland_sync.sellerapi._requester import ApiResponse, QueryValue
from kaufland_sync.sellerapi.client import KauflandClient

__all__ = ["SyncKauflandClient"]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class SyncKauflandClient:
    """Blocking wrapper: ``SyncKauflandClient(key, secret, **kwargs)`` takes the same arguments
    as ``KauflandClient`` (which is created lazily on the private loop, so its connection pool
    belongs to that loop).

    ``call(lambda c: c.units.get(1))`` runs any coroutine built from the async client.
    """

    def __init__(self, client_key: str, secret_key: str, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._args = (client_key, secret_key)
        self._kwargs = kwargs
        self._client: KauflandClient | None = None
        self._closed = False

    @property
    def client(self) -> KauflandClient:
        """The wrapped async client (created on first use)."""
        if self._client is None:
            self._client = KauflandClient(*self._args, **self._kwargs)
        return self._client

    def _run(self, make: Callable[[], Awaitable[T]]) -> T:
        if self._closed:
            raise RuntimeError("SyncKauflandClient is closed")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "SyncKauflandClient cannot run inside an event loop; use KauflandClient"
            )

        async def run() -> T:
            return await make()

        return self._loop.run_until_complete(run())

    def call(self, fn: Callable[[KauflandClient], Awaitable[T]]) -> T:
        """Run ``fn(async_client)`` and return its result, e.g.
        ``sync.call(lambda c: c.status.ping())``."""
        return self._run(lambda: fn(self.client))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        replay_safe: bool | None = None,
    ) -> ApiResponse:
        """Blocking ``KauflandClient.request``."""
        return self.call(
            lambda c: c.request(method, path, params=params, json=json, replay_safe=replay_safe)
        )

    def raw(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        body: bytes | str | None = None,
    ) -> httpx.Response:
        """Blocking ``KauflandClient.raw``: the response whatever its status."""
        return self.call(lambda c: c.raw(method, path, params=params, body=body))

    def collect(
        self,
        path: str,
        model: type[M],
        *,
        params: Mapping[str, QueryValue] | None = None,
        max_limit: int,
        page_size: int | None = None,
    ) -> list[M]:
        """Every item of a list endpoint, as a list (``KauflandClient.iterate``)."""

        async def gather(c: KauflandClient) -> list[M]:
            it = c.iterate(path, model, params=params, max_limit=max_limit, page_size=page_size)
            return [item async for item in it]

        return self.call(gather)

    def close(self) -> None:
        """Close the connection pool and the private loop. Safe to call twice."""
        if self._closed:
            return
        try:
            if self._client is not None:
                self._loop.run_until_complete(self._client.aclose())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._closed = True
            self._loop.close()

    def __enter__(self) -> SyncKauflandClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
