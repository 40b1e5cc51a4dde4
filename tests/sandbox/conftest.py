"""Fixtures for the sandbox tests: a demo world on a fake clock, the app around it, and a tiny
signing client over ``httpx.ASGITransport`` (independent of the real KauflandClient).

The app checks signatures against ``PUBLIC_BASE`` (like a client that signs production URLs
while talking to the sandbox in-process)."""

from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from kaufland_sync.sandbox.app import create_app
from kaufland_sync.sandbox.seed import seed_world
from kaufland_sync.sandbox.world import SandboxConfig, SellerCredentials, World
from kaufland_sync.sellerapi._signing import sign_request

CLIENT_KEY = "c" * 32
SECRET = "a7d0cb1da1ddbc86c96ee5fedd341b7d8ebfbb2f5c83cfe0909f4e57f05dd403"
OTHER_KEY = "d" * 32
OTHER_SECRET = "b" * 64
PUBLIC_BASE = "https://sellerapi.kaufland.com"
START = 1_790_000_000.0


class FakeClock:
    """A clock the test moves by hand (never sleeps)."""

    def __init__(self, start: float = START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_config(**overrides: Any) -> SandboxConfig:
    values: dict[str, Any] = {
        "sellers": [
            SellerCredentials(CLIENT_KEY, SECRET),
            SellerCredentials(OTHER_KEY, OTHER_SECRET, ("de", "cz")),
        ],
        "public_base_url": PUBLIC_BASE,
        "rate_limit": 0.0,
        "random_seed": 7,
    }
    values.update(overrides)
    return SandboxConfig(**values)


class SignedClient:
    """Sends Kaufland-signed requests to an in-process app.

    ``request`` signs exactly what httpx sends (final URL and body bytes); ``headers``
    override or, with value None, remove a header after signing, to build bad requests."""

    def __init__(self, http: httpx.AsyncClient, clock: FakeClock, key: str, secret: str) -> None:
        self.http = http
        self.clock = clock
        self.key = key
        self.secret = secret

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        content: bytes | None = None,
        headers: dict[str, str | None] | None = None,
        timestamp: int | None = None,
        sign_url: str | None = None,
    ) -> httpx.Response:
        if json is not None:
            content = jsonlib.dumps(json, separators=(",", ":")).encode()
        request = self.http.build_request(
            method,
            f"{PUBLIC_BASE}/v2{path}",
            params=params,
            content=content,
            headers={"Content-Type": "application/json"} if content else None,
        )
        ts = str(int(self.clock()) if timestamp is None else timestamp)
        url = sign_url if sign_url is not None else str(request.url)
        request.headers["Shop-Client-Key"] = self.key
        request.headers["Shop-Timestamp"] = ts
        request.headers["Shop-Signature"] = sign_request(
            method, url, request.content, ts, self.secret
        )
        request.headers["User-Agent"] = "kaufland-sync-tests"
        for name, value in (headers or {}).items():
            if value is None:
                request.headers.pop(name, None)
            else:
                request.headers[name] = value
        return await self.http.send(request)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("POST", path, **kw)

    async def patch(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kw)

    async def put(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("PUT", path, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config() -> SandboxConfig:
    return make_config()


@pytest.fixture
def world(config: SandboxConfig, clock: FakeClock) -> World:
    w = World(config, clock=clock)
    seed_world(w, "demo")
    return w


@pytest.fixture
def app(config: SandboxConfig, world: World) -> Starlette:
    return create_app(config, world=world)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Plain (unsigned) client; also reaches the control API at ``/_sandbox``."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE) as client:
        yield client


@pytest.fixture
def client(http: httpx.AsyncClient, clock: FakeClock) -> SignedClient:
    return SignedClient(http, clock, CLIENT_KEY, SECRET)


@pytest.fixture
def other_client(http: httpx.AsyncClient, clock: FakeClock) -> SignedClient:
    return SignedClient(http, clock, OTHER_KEY, OTHER_SECRET)
