"""client_for_account: the account's base URL, the deployment's pacer, measured requests, and
nothing left open, with the in-process limiter and with Redis pacing across threads and loops.

Redis tests run against a real redis-server (tests/redis_server.py) and count the server's
client connections to prove that every pacing connection is closed with the loop that opened it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from kaufland_sync import clients
from kaufland_sync.clients import client_for_account, close_pacers, uses_redis_pacing
from kaufland_sync.config import Settings
from kaufland_sync.metrics import REGISTRY, MeteredPacer
from kaufland_sync.sandbox.app import create_app
from kaufland_sync.sandbox.world import SandboxConfig, SellerCredentials
from kaufland_sync.sellerapi._pacing import NoPacer, RateLimiter
from kaufland_sync.sellerapi._redis_pacing import pace_key
from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.store.models.accounts import Account, Environment
from tests.redis_server import RedisNotFoundError, RedisServer

SANDBOX_ROOT = "http://sandbox.test"
CLIENT_KEY = "clients_test_client_key_00000001"
SECRET = "clients_test_secret_" + "c" * 44
PROBE = "test-probe"  # client name of the tests' own Redis connections


def account(client_key: str = CLIENT_KEY, base_url: str = f"{SANDBOX_ROOT}/v2") -> Account:
    """A transient custom-environment account (nothing here needs it stored)."""
    return Account(
        name="shop", client_key=client_key, environment=Environment.CUSTOM, base_url=base_url
    )


def value(name: str, **labels: str) -> float:
    found = REGISTRY.get_sample_value(name, labels)
    return 0.0 if found is None else found


def pong(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"data": {"message": "pong"}})


class ClosingTransport(httpx.MockTransport):
    """A mock transport that remembers being closed."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        super().__init__(handler)
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture(autouse=True)
def _fresh_pacers() -> Iterator[None]:
    RateLimiter.clear_registry()
    yield
    close_pacers()
    RateLimiter.clear_registry()


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, queue_url=None, rate_limit=50.0)


# -- in-process pacing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://localhost:6379/0", True),
        ("rediss://cache.example:6380/1", True),
        ("sqlite:////var/lib/kaufland-sync/queue.db", False),
        (None, False),
        ("", False),
    ],
)
def test_redis_pacing_only_for_redis_queue_urls(url: str | None, expected: bool) -> None:
    assert uses_redis_pacing(url) is expected


async def test_without_redis_clients_of_one_key_share_the_process_limiter(
    local_settings: Settings,
) -> None:
    async with (
        client_for_account(
            local_settings, account(), SECRET, transport=ClosingTransport(pong)
        ) as first,
        client_for_account(
            local_settings, account(), SECRET, transport=ClosingTransport(pong)
        ) as second,
    ):
        assert isinstance(first.pacer, MeteredPacer)
        assert isinstance(second.pacer, MeteredPacer)
        limiter = RateLimiter.for_key(CLIENT_KEY, 50.0)
        assert first.pacer.inner is limiter
        assert second.pacer.inner is limiter
        assert first.base_url == f"{SANDBOX_ROOT}/v2"


async def test_rate_limit_none_turns_pacing_off_and_a_given_pacer_is_metered(
    local_settings: Settings,
) -> None:
    own = RateLimiter(10)
    async with (
        client_for_account(
            local_settings, account(), SECRET, transport=ClosingTransport(pong), rate_limit=None
        ) as unpaced,
        client_for_account(
            local_settings, account(), SECRET, transport=ClosingTransport(pong), pacer=own
        ) as given,
    ):
        assert isinstance(unpaced.pacer, MeteredPacer)
        assert isinstance(unpaced.pacer.inner, NoPacer)
        assert isinstance(given.pacer, MeteredPacer)
        assert given.pacer.inner is own


async def test_the_client_closes_the_http_client_it_built(local_settings: Settings) -> None:
    transport = ClosingTransport(pong)
    async with client_for_account(local_settings, account(), SECRET, transport=transport) as c:
        await c.status.ping()
        assert not transport.closed
    assert transport.closed
    await c.aclose()  # twice is fine


async def test_a_given_http_client_stays_the_callers(local_settings: Settings) -> None:
    transport = ClosingTransport(pong)
    async with httpx.AsyncClient(transport=transport) as http:
        async with client_for_account(local_settings, account(), SECRET, http_client=http) as c:
            await c.status.ping()
        assert not transport.closed
        assert not http.is_closed
    assert transport.closed


async def test_requests_to_the_sandbox_are_measured_by_endpoint(
    local_settings: Settings,
) -> None:
    app = create_app(
        SandboxConfig(
            sellers=[SellerCredentials(CLIENT_KEY, SECRET, ("de",))],
            public_base_url=SANDBOX_ROOT,
            seed="empty",
        )
    )
    pings = {"method": "GET", "endpoint": "/status/ping", "status": "200"}
    missing = {"method": "GET", "endpoint": "/units/{id}", "status": "404"}
    before = (
        value("kaufland_sync_api_requests_total", **pings),
        value("kaufland_sync_api_requests_total", **missing),
        value("kaufland_sync_api_errors_total", endpoint="/units/{id}", reason="4xx"),
        value("kaufland_sync_rate_limit_wait_seconds_count"),
    )

    async with client_for_account(
        local_settings, account(), SECRET, storefront="de", transport=httpx.ASGITransport(app)
    ) as client:
        await client.status.ping()
        await client.status.ping()
        response = await client.raw("GET", "/units/999999999", params={"storefront": "de"})
        assert response.status_code == 404

    after = (
        value("kaufland_sync_api_requests_total", **pings),
        value("kaufland_sync_api_requests_total", **missing),
        value("kaufland_sync_api_errors_total", endpoint="/units/{id}", reason="4xx"),
        value("kaufland_sync_rate_limit_wait_seconds_count"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 1, 3]


# -- Redis pacing --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A redis-server for this module (a missing binary fails, never skips)."""
    try:
        server = RedisServer()
    except RedisNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    try:
        yield server.url()
    finally:
        server.stop()


@pytest.fixture
def probe(redis_url: str) -> Iterator[redis.Redis]:
    """A plain synchronous connection to look at the server from outside."""
    connection = redis.Redis.from_url(redis_url, client_name=PROBE)
    try:
        yield connection
    finally:
        connection.close()


def settled_connections(probe: redis.Redis, deadline: float = 5.0) -> int:
    """``other_connections`` once the server has processed the disconnects a client just made
    (closing a socket is seen by Redis a moment later): polled until 0 or the deadline."""
    import time

    end = time.monotonic() + deadline
    count = other_connections(probe)
    while count and time.monotonic() < end:
        time.sleep(0.01)  # polling interval, not a timing assumption
        count = other_connections(probe)
    return count


def other_connections(probe: redis.Redis) -> int:
    """Client connections open on the server, not counting the probe's own (its pool opens one
    per thread that uses it at the same time)."""
    clients_now: list[dict[str, Any]] = probe.client_list()
    return sum(1 for client in clients_now if client.get("name") != PROBE)


@pytest.fixture
def redis_settings(tmp_path: Path, redis_url: str) -> Settings:
    return Settings(data_dir=tmp_path, queue_url=redis_url)


def run_threads(*targets: Callable[[], None]) -> None:
    """Run each target in its own thread at once; re-raise the first failure here."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # handed to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]


def test_redis_pacing_works_from_loops_in_several_threads_and_closes_with_each(
    redis_settings: Settings, probe: redis.Redis
) -> None:
    """Each worker thread runs its job in ``asyncio.run``: clients built there pace through
    one cached RedisPacer, each loop gets its own connection, and closing the client closes it
    before the loop ends (an unclosed one would fail the test with a ResourceWarning)."""
    key = f"client-key-{uuid.uuid4().hex}"
    start = threading.Barrier(2)
    used: list[str] = []

    async def job() -> None:
        transport = httpx.MockTransport(pong)
        async with client_for_account(
            redis_settings, account(key), SECRET, transport=transport
        ) as client:
            for _ in range(5):
                await client.status.ping()
            # The probe's pool is thread-safe; this loop's pacing connection is open now.
            assert other_connections(probe) >= 1
            used.append(repr(client.pacer))

    def worker() -> None:
        start.wait()
        asyncio.run(job())
        asyncio.run(job())  # the next job of this thread runs on a fresh loop

    run_threads(worker, worker)

    assert used == ["MeteredPacer(RedisPacer(rate=111, burst=3))"] * 4
    assert len(clients._redis_pacers) == 1  # one pacer per (url, key, rate) in the process
    assert probe.exists(pace_key(key))  # the shared GCRA state lives in Redis
    assert settled_connections(probe) == 0  # every loop's connection was closed with it


async def test_redis_connection_of_a_loop_stays_until_its_last_client_closes(
    redis_settings: Settings, probe: redis.Redis
) -> None:
    key = f"client-key-{uuid.uuid4().hex}"

    def make() -> KauflandClient:
        return client_for_account(
            redis_settings, account(key), SECRET, transport=httpx.MockTransport(pong)
        )

    first, second = make(), make()
    assert other_connections(probe) == 0  # nothing is opened before the first request
    await first.status.ping()
    await second.status.ping()
    assert other_connections(probe) >= 1

    await first.aclose()
    assert other_connections(probe) >= 1  # still used by the second client on this loop
    await second.status.ping()  # and still works

    await second.aclose()
    assert settled_connections(probe) == 0

    third = make()  # a client after that opens a fresh connection
    async with third:
        await third.status.ping()
    assert settled_connections(probe) == 0


async def test_close_pacers_reports_clients_left_open(
    redis_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for_account(
        redis_settings,
        account(f"k-{uuid.uuid4().hex}"),
        SECRET,
        transport=httpx.MockTransport(pong),
    )
    try:
        await client.status.ping()
        with caplog.at_level(logging.WARNING, logger="kaufland_sync.clients"):
            close_pacers()
        assert clients._redis_pacers == {}
        assert "1 Kaufland client(s) were not closed" in caplog.text
    finally:
        await client.aclose()
