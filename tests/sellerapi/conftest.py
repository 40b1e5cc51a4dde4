"""Shared fixtures for the Seller API client tests: a client wired to ``httpx.MockTransport``
with a frozen clock and a sleep that records instead of waiting."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from kaufland_sync.sellerapi._pacing import RateLimiter
from kaufland_sync.sellerapi.client import KauflandClient

CLIENT_KEY = "7bffc16ba2cc5ac1cbf527d6fa39263"
SECRET_KEY = "b3575f222f7b768c25160b879699118b331c6883dd6010864b7ead130be77cd5"
NOW = 1_700_000_000.0
BASE_URL = "https://sellerapi.kaufland.com/v2"

Handler = Callable[[httpx.Request], httpx.Response]


def verifies(request: httpx.Request, secret: str = SECRET_KEY) -> bool:
    """Check a sent request's signature the way a server does: rebuild the URL from the raw
    request target, take the raw body bytes, recompute with plain ``hmac``."""
    url = request.url
    signed_url = f"{url.scheme}://{url.netloc.decode()}{url.raw_path.decode()}"
    message = "\n".join(
        [
            request.method,
            signed_url,
            request.content.decode("utf-8"),
            request.headers["Shop-Timestamp"],
        ]
    )
    expected = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers["Shop-Signature"])


@dataclass
class FakeTime:
    """A frozen wall clock plus a sleep that records and advances it."""

    now: float = NOW
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


MakeClient = Callable[..., KauflandClient]


@pytest.fixture
async def make_client(fake_time: FakeTime) -> AsyncIterator[MakeClient]:
    """``make_client(handler, **kwargs)``: a ``KauflandClient`` whose requests go to
    ``handler``; pacing off and time faked unless overridden."""
    opened: list[httpx.AsyncClient] = []

    def factory(handler: Handler, **kwargs: Any) -> KauflandClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        opened.append(http)
        options: dict[str, Any] = {
            "base_url": BASE_URL,
            "rate_limit": None,
            "clock": fake_time.clock,
            "sleep": fake_time.sleep,
            "http_client": http,
        }
        options.update(kwargs)
        return KauflandClient(CLIENT_KEY, SECRET_KEY, **options)

    yield factory
    for http in opened:
        await http.aclose()


@pytest.fixture(autouse=True)
def _fresh_limiter_registry() -> None:
    RateLimiter.clear_registry()
