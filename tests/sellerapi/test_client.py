"""KauflandClient over httpx.MockTransport: headers, encoding, errors, retries, raw, facade."""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

import kaufland_sync.sellerapi as sellerapi
from kaufland_sync.sellerapi import resources
from kaufland_sync.sellerapi._pacing import NoPacer, RateLimiter
from kaufland_sync.sellerapi._retry import RetryPolicy
from kaufland_sync.sellerapi.client import (
    PLAYGROUND_BASE_URL,
    PRODUCTION_BASE_URL,
    KauflandClient,
    encode_json,
    encode_query,
)
from kaufland_sync.sellerapi.errors import (
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.sellerapi.sync import SyncKauflandClient
from tests.sellerapi.conftest import (
    CLIENT_KEY,
    NOW,
    SECRET_KEY,
    FakeTime,
    MakeClient,
    verifies,
)

Handler = Callable[[httpx.Request], httpx.Response]


def ok(body: Any = None, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"data": body}) if status != 204 else httpx.Response(204)


class Script:
    """Answers requests from a list of responses or exceptions, recording each request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


# -- constants and construction -------------------------------------------------------------


def test_base_urls() -> None:
    assert PRODUCTION_BASE_URL == "https://sellerapi.kaufland.com/v2"
    assert PLAYGROUND_BASE_URL == "https://sellerapi-playground.kaufland.com/v2"


def test_relative_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match="absolute"):
        KauflandClient(CLIENT_KEY, SECRET_KEY, base_url="/v2")


async def test_every_resource_is_attached(make_client: MakeClient) -> None:
    client = make_client(Script(ok()))
    expected = {
        "status": resources.Status,
        "info": resources.Info,
        "categories": resources.Categories,
        "attributes": resources.Attributes,
        "products": resources.Products,
        "product_data": resources.ProductData,
        "units": resources.Units,
        "orders": resources.Orders,
        "order_units": resources.OrderUnits,
        "shipments": resources.Shipments,
        "order_invoices": resources.OrderInvoices,
        "returns": resources.Returns,
        "return_units": resources.ReturnUnits,
        "shipping_groups": resources.ShippingGroups,
        "warehouses": resources.Warehouses,
        "carriers": resources.Carriers,
        "reports": resources.Reports,
        "tickets": resources.Tickets,
        "subscriptions": resources.Subscriptions,
        "import_files": resources.ImportFiles,
        "playground": resources.Playground,
    }
    for attribute, cls in expected.items():
        assert isinstance(getattr(client, attribute), cls), attribute


async def test_default_pacer_is_shared_per_key() -> None:
    a = KauflandClient(CLIENT_KEY, SECRET_KEY)
    b = KauflandClient(CLIENT_KEY, SECRET_KEY)
    c = KauflandClient(CLIENT_KEY, SECRET_KEY, rate_limit=None)
    try:
        assert isinstance(a.pacer, RateLimiter)
        assert a.pacer is b.pacer
        assert a.pacer.rate == 111
        assert isinstance(c.pacer, NoPacer)
        assert SECRET_KEY not in repr(a)
    finally:
        for client in (a, b, c):
            await client.aclose()


async def test_context_manager_closes_only_its_own_pool() -> None:
    async with KauflandClient(CLIENT_KEY, SECRET_KEY) as own:
        pool = own._http
    assert pool.is_closed
    given = httpx.AsyncClient(transport=httpx.MockTransport(Script(ok())))
    async with KauflandClient(CLIENT_KEY, SECRET_KEY, http_client=given):
        pass
    assert not given.is_closed
    await given.aclose()


# -- request building -----------------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("params", "query"),
    [
        ({"storefront": Storefront.DE, "limit": 10}, "storefront=de&limit=10"),
        ({"flag": True, "other": False}, "flag=true&other=false"),
        ({"a": None, "b": "x"}, "b=x"),
        ({"status": ["open", "sent"], "n": (1, 2)}, "status=open&status=sent&n=1&n=2"),
        ({"status": ["open", None]}, "status=open"),
        ({"c": Colour.RED, "d": date(2024, 5, 1)}, "c=red&d=2024-05-01"),
        ({"embedded": "category,units"}, "embedded=category%2Cunits"),
        ({"q": "a b:c/ü"}, "q=a+b%3Ac%2F%C3%BC"),
        ({}, ""),
        (None, ""),
    ],
)
def test_encode_query(params: Any, query: str) -> None:
    assert encode_query(params) == query


class UnitPatch(BaseModel):
    amount: int | None = None
    note: str | None = None


def test_encode_json_is_compact_utf8_and_dumps_models() -> None:
    assert encode_json({"a": [1, 2], "t": "Grüße"}) == '{"a":[1,2],"t":"Grüße"}'.encode()
    assert encode_json(UnitPatch(amount=3)) == b'{"amount":3}'
    assert encode_json(UnitPatch(note=None)) == b'{"note":null}'
    assert encode_json({"d": date(2024, 1, 2), "c": Colour.RED}) == b'{"d":"2024-01-02","c":"red"}'
    with pytest.raises(TypeError, match="object"):
        encode_json({"x": object()})


async def test_headers_and_url(make_client: MakeClient) -> None:
    script = Script(ok({"message": "pong"}), ok({}))
    client = make_client(script)
    await client.request("GET", "/status/ping")
    await client.request("POST", "/units", params={"storefront": "de"}, json={"amount": 1})

    get, post = script.requests
    assert str(get.url) == "https://sellerapi.kaufland.com/v2/status/ping"
    assert get.headers["Accept"] == "application/json"
    assert get.headers["User-Agent"].startswith("kaufland-sync/")
    assert get.headers["Shop-Client-Key"] == CLIENT_KEY
    assert get.headers["Shop-Timestamp"] == str(int(NOW))
    assert len(get.headers["Shop-Signature"]) == 64
    assert "Content-Type" not in get.headers
    assert get.content == b""
    assert post.headers["Content-Type"] == "application/json"
    assert post.content == b'{"amount":1}'
    assert str(post.url) == "https://sellerapi.kaufland.com/v2/units?storefront=de"


async def test_custom_user_agent_and_base_url(make_client: MakeClient) -> None:
    script = Script(ok())
    client = make_client(
        script, user_agent="AcmeShop-Connector/2.1", base_url="http://127.0.0.1:8765/v2/"
    )
    await client.request("get", "/units/1", params={"embedded": ["products"]})
    request = script.requests[0]
    assert request.headers["User-Agent"] == "AcmeShop-Connector/2.1"
    assert str(request.url) == "http://127.0.0.1:8765/v2/units/1?embedded=products"
    assert request.method == "GET"
    assert verifies(request)


async def test_path_must_be_absolute(make_client: MakeClient) -> None:
    client = make_client(Script(ok()))
    with pytest.raises(ValueError, match="start with '/'"):
        await client.request("GET", "units")
    assert client.url("/units?storefront=de", {"limit": 5}) == (
        "https://sellerapi.kaufland.com/v2/units?storefront=de&limit=5"
    )


def test_storefront_param() -> None:
    plain = KauflandClient(CLIENT_KEY, SECRET_KEY, rate_limit=None)
    defaulted = KauflandClient(CLIENT_KEY, SECRET_KEY, storefront="CZ", rate_limit=None)
    assert plain.storefront_param(None, required=False) is None
    assert plain.storefront_param("DE", required=True) == "de"
    assert plain.storefront_param(Storefront.PL, required=True) == "pl"
    assert defaulted.storefront_param(None, required=True) == "cz"
    assert defaulted.storefront_param("at", required=True) == "at"
    with pytest.raises(ValueError, match="storefront is required"):
        plain.storefront_param(None, required=True)
    with pytest.raises(ValueError, match="unknown storefront"):
        plain.storefront_param("xx", required=False)


# -- responses ------------------------------------------------------------------------------


async def test_response_parsing(make_client: MakeClient) -> None:
    listing = httpx.Response(
        200,
        json={"data": [{"id": 1}], "pagination": {"offset": 0, "limit": 30, "total": 1}},
    )
    client = make_client(Script(listing, httpx.Response(204), httpx.Response(200, text="hello")))
    first = await client.request("GET", "/units")
    assert first.data == [{"id": 1}]
    assert first.pagination is not None and first.pagination.total == 1
    assert first.headers["content-type"] == "application/json"
    empty = await client.request("DELETE", "/units/1")
    assert empty.status_code == 204 and empty.body is None and empty.data is None
    text = await client.request("GET", "/odd")
    assert text.body == "hello"


async def test_error_answers_become_typed_errors(make_client: MakeClient) -> None:
    client = make_client(
        Script(
            httpx.Response(404, json={"message": "Unit not found"}),
            httpx.Response(
                400,
                json={
                    "type": "/problems/validation-error",
                    "message": "invalid",
                    "errors": [{"field": "amount", "message": "must be positive"}],
                },
            ),
        )
    )
    with pytest.raises(NotFoundError, match=r"GET /v2/units/9: HTTP 404: Unit not found"):
        await client.request("GET", "/units/9")
    with pytest.raises(ValidationError, match="amount: must be positive") as caught:
        await client.request("PATCH", "/units/9", json={"amount": -1})
    assert caught.value.method == "PATCH"
    assert caught.value.url == "https://sellerapi.kaufland.com/v2/units/9"


# -- retries --------------------------------------------------------------------------------


async def test_post_is_not_replayed_after_read_timeout(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    script = Script(httpx.ReadTimeout("slow"), ok({}))
    client = make_client(script)
    with pytest.raises(OutcomeUnknownError) as caught:
        await client.request("POST", "/units", params={"storefront": "de"}, json={"id_offer": "A"})
    assert len(script.requests) == 1
    assert isinstance(caught.value.cause, httpx.ReadTimeout)
    assert caught.value.method == "POST"
    assert fake_time.sleeps == []


async def test_post_5xx_is_outcome_unknown(make_client: MakeClient) -> None:
    script = Script(httpx.Response(502, text="<title>Bad Gateway</title>"), ok({}))
    client = make_client(script)
    with pytest.raises(OutcomeUnknownError) as caught:
        await client.request("PATCH", "/order-units/1/refund", json={"amount": 100})
    assert isinstance(caught.value.cause, ServerError)
    assert len(script.requests) == 1


async def test_post_is_retried_after_429_with_retry_after(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    script = Script(
        httpx.Response(429, json={"message": "Too Many Requests"}, headers={"Retry-After": "2"}),
        ok({"id_unit": 1}),
    )
    client = make_client(script)
    response = await client.request("POST", "/units", json={"id_offer": "A"})
    assert response.data == {"id_unit": 1}
    assert len(script.requests) == 2
    assert fake_time.sleeps == [2.0]
    first, second = script.requests
    assert first.content == second.content
    assert int(second.headers["Shop-Timestamp"]) == int(NOW) + 2  # re-signed with fresh time
    assert verifies(second)


async def test_429_pauses_the_pacer(make_client: MakeClient) -> None:
    paused: list[float] = []

    class Recorder(NoPacer):
        async def back_off(self, seconds: float) -> None:
            paused.append(seconds)

    script = Script(httpx.Response(429, headers={"Retry-After": "1.5"}), ok())
    client = make_client(script, pacer=Recorder())
    await client.request("GET", "/units")
    assert paused == [1.5]


async def test_connect_error_is_retried_even_for_post(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    script = Script(httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), ok({}))
    client = make_client(script, retry=RetryPolicy(jitter="none"))
    await client.request("POST", "/units", json={"id_offer": "A"})
    assert len(script.requests) == 3
    assert fake_time.sleeps == [0.5, 1.0]


async def test_get_is_retried_on_5xx_and_timeouts_then_gives_up(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    script = Script(httpx.ReadTimeout("slow"), httpx.Response(503))
    client = make_client(script, retry=RetryPolicy(max_attempts=4, jitter="none", max_delay=1.0))
    with pytest.raises(ServerError):
        await client.request("GET", "/units")
    assert len(script.requests) == 4
    assert fake_time.sleeps == [0.5, 1.0, 1.0]


async def test_get_retries_exhausted_on_network_error_raise_transport_error(
    make_client: MakeClient,
) -> None:
    client = make_client(Script(httpx.ReadError("reset")), retry=RetryPolicy(max_attempts=2))
    with pytest.raises(TransportError, match=r"GET /v2/units: network error \(ReadError"):
        await client.request("GET", "/units")


async def test_replay_safe_override(make_client: MakeClient) -> None:
    script = Script(httpx.ReadTimeout("slow"), ok({}))
    client = make_client(script)
    await client.request("POST", "/units/bulk-lookup", json={}, replay_safe=True)
    assert len(script.requests) == 2
    script = Script(httpx.ReadTimeout("slow"), ok({}))
    client = make_client(script)
    with pytest.raises(OutcomeUnknownError):
        await client.request("PUT", "/thing", json={}, replay_safe=False)


async def test_long_retry_after_is_not_shortened(make_client: MakeClient) -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "600"}), ok())
    client = make_client(script)
    with pytest.raises(RateLimitedError) as caught:
        await client.request("GET", "/units")
    assert caught.value.retry_after == 600
    assert len(script.requests) == 1


# -- raw ------------------------------------------------------------------------------------


async def test_raw_returns_errors_and_retries_only_unprocessed(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    script = Script(httpx.Response(429), httpx.Response(500, text="boom"))
    client = make_client(script, retry=RetryPolicy(jitter="none"))
    response = await client.raw("POST", "/units?storefront=de", body='{"a":"ä"}')
    assert response.status_code == 500
    assert response.text == "boom"
    assert len(script.requests) == 2  # 429 retried, 500 returned as is
    assert script.requests[0].content == '{"a":"ä"}'.encode()
    assert script.requests[0].headers["Content-Type"] == "application/json"
    assert verifies(script.requests[1])

    read_timeout = make_client(Script(httpx.ReadTimeout("slow")))
    with pytest.raises(TransportError):
        await read_timeout.raw("GET", "/units")


# -- logging --------------------------------------------------------------------------------


async def test_debug_log_has_no_secrets(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    script = Script(httpx.Response(503), ok())
    client = make_client(script)
    with caplog.at_level(logging.DEBUG, logger="kaufland_sync.sellerapi"):
        await client.request("GET", "/units", params={"storefront": "de"})
    text = caplog.text
    assert "GET /units?storefront=de -> 503" in text
    assert "GET /units?storefront=de -> 200" in text
    assert "retrying GET /units?storefront=de: HTTP 503" in text
    for request in script.requests:
        assert request.headers["Shop-Signature"] not in text
    assert SECRET_KEY not in text
    assert CLIENT_KEY not in text


# -- package surface and sync facade ---------------------------------------------------------


def test_public_surface() -> None:
    for name in sellerapi.__all__:
        assert getattr(sellerapi, name) is not None
    assert sellerapi.KauflandClient is KauflandClient
    assert sellerapi.errors.NotFoundError is NotFoundError
    with pytest.raises(AttributeError):
        _ = sellerapi.NoSuchThing


class Ping(BaseModel):
    id: int


def test_sync_facade() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/things":
            return httpx.Response(
                200,
                json={
                    "data": [{"id": 1}, {"id": 2}],
                    "pagination": {"offset": 0, "limit": 30, "total": 2},
                },
            )
        if request.url.path == "/v2/missing":
            return httpx.Response(404, json={"message": "nope"})
        return ok({"message": "pong"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    with SyncKauflandClient(CLIENT_KEY, SECRET_KEY, http_client=http, rate_limit=None) as sync:
        assert sync.request("GET", "/status/ping").data == {"message": "pong"}
        assert sync.raw("GET", "/missing").status_code == 404
        with pytest.raises(NotFoundError):
            sync.request("GET", "/missing")
        assert sync.collect("/things", Ping, max_limit=30) == [Ping(id=1), Ping(id=2)]
        assert sync.call(lambda c: c.request("GET", "/status/ping")).status_code == 200
        sync.call(lambda c: http.aclose())
    with pytest.raises(RuntimeError, match="closed"):
        sync.request("GET", "/status/ping")
    sync.close()  # idempotent


async def test_sync_facade_refuses_running_loop() -> None:
    sync = SyncKauflandClient(CLIENT_KEY, SECRET_KEY, rate_limit=None)
    try:
        with pytest.raises(RuntimeError, match="inside an event loop"):
            sync.request("GET", "/status/ping")
    finally:
        sync._loop.close()
        sync._closed = True


def test_request_body_json_dump_matches_signature_input() -> None:
    body = {"note": "é", "nested": {"x": [1, 2.5, None, True]}}
    assert json.loads(encode_json(body)) == body
