"""The gate in front of every /v2 call (auth, rate limit, faults), routing, and the control API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from email.utils import parsedate_to_datetime

import httpx
import pytest
from starlette.applications import Starlette

from kaufland_sync.sandbox.app import SimulatedReset, create_app
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import World
from kaufland_sync.sellerapi._signing import sign_request
from tests.sandbox.conftest import (
    CLIENT_KEY,
    PUBLIC_BASE,
    SECRET,
    FakeClock,
    SignedClient,
    make_config,
)


async def test_signed_ping_works_and_has_a_date_header(client: SignedClient) -> None:
    response = await client.get("/status/ping")
    assert response.status_code == 200
    assert response.json() == {"data": {"message": "Never tell me the odds"}}
    assert parsedate_to_datetime(response.headers["date"]).timestamp() == client.clock()


@pytest.mark.parametrize(
    "header", ["Shop-Client-Key", "Shop-Timestamp", "Shop-Signature", "User-Agent"]
)
async def test_a_missing_header_is_401_missing_header(client: SignedClient, header: str) -> None:
    response = await client.get("/status/ping", headers={header: None})
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "/problems/missing-or-invalid-request-header"
    assert header in body["message"]
    assert body["errors"] == []
    assert "date" in response.headers


async def test_a_non_numeric_timestamp_is_401_missing_header(client: SignedClient) -> None:
    response = await client.get("/status/ping", headers={"Shop-Timestamp": "yesterday"})
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/missing-or-invalid-request-header"


async def test_an_unknown_key_is_401_invalid_credentials(client: SignedClient) -> None:
    response = await client.get("/status/ping", headers={"Shop-Client-Key": "x" * 32})
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/invalid-credentials"


@pytest.mark.parametrize("skew", [-301, 301])
async def test_a_timestamp_outside_the_window_is_401(client: SignedClient, skew: int) -> None:
    response = await client.get("/status/ping", timestamp=int(client.clock()) + skew)
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "/problems/missing-or-invalid-request-header"
    assert "window" in body["message"]


@pytest.mark.parametrize("skew", [-300, 300])
async def test_a_timestamp_at_the_edge_of_the_window_passes(
    client: SignedClient, skew: int
) -> None:
    response = await client.get("/status/ping", timestamp=int(client.clock()) + skew)
    assert response.status_code == 200


async def test_a_wrong_signature_is_401_corrupted_signature(client: SignedClient) -> None:
    response = await client.get("/status/ping", headers={"Shop-Signature": "0" * 64})
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/corrupted-signature"


async def test_upper_case_hex_is_accepted(client: SignedClient) -> None:
    ts = str(int(client.clock()))
    url = f"{PUBLIC_BASE}/v2/status/ping"
    signature = sign_request("GET", url, "", ts, SECRET).upper()
    response = await client.get("/status/ping", headers={"Shop-Signature": signature})
    assert response.status_code == 200


def _b64_signature(method: str, url: str, body: str, ts: str) -> str:
    message = "\n".join([method, url, body, ts]).encode()
    return base64.b64encode(hmac.new(SECRET.encode(), message, hashlib.sha256).digest()).decode()


async def test_base64_signatures_only_when_switched_on(clock: FakeClock, world: World) -> None:
    ts = str(int(clock()))
    signature = _b64_signature("GET", f"{PUBLIC_BASE}/v2/status/ping", "", ts)
    for accept, expected in ((False, 401), (True, 200)):
        config = make_config(accept_base64_signatures=accept)
        app = create_app(config, world=world)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=PUBLIC_BASE
        ) as http:
            response = await http.get(
                "/v2/status/ping",
                headers={
                    "Shop-Client-Key": CLIENT_KEY,
                    "Shop-Timestamp": ts,
                    "Shop-Signature": signature,
                    "User-Agent": "t",
                },
            )
        assert response.status_code == expected


async def test_the_signature_covers_the_raw_percent_encoded_query(
    client: SignedClient, world: World
) -> None:
    # httpx sends embedded=category%2Cunits as is; a server that decoded and re-encoded the
    # query (or re-ordered it) would compute another string and refuse the request.
    ean = next(iter(world.catalog["products"].values()))["eans"][0]
    path = f"/products/ean/{ean}?embedded=category%2Cunits&storefront=de"
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert "category" in response.json()["data"]
    decoded = f"{PUBLIC_BASE}/v2/products/ean/{ean}?embedded=category,units&storefront=de"
    response = await client.get(path, sign_url=decoded)
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/corrupted-signature"


async def test_the_signature_covers_the_body(client: SignedClient) -> None:
    ts = str(int(client.clock()))
    url = f"{PUBLIC_BASE}/v2/units/1?storefront=de"
    signature = sign_request("PATCH", url, '{"amount":1}', ts, SECRET)
    response = await client.patch(
        "/units/1?storefront=de",
        content=b'{"amount":2}',
        headers={"Shop-Signature": signature},
    )
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/corrupted-signature"


async def test_trailing_slash_and_unknown_paths(client: SignedClient) -> None:
    assert (await client.get("/status/ping/")).status_code == 200
    missing = await client.get("/no/such/thing")
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/not-found"
    wrong_method = await client.delete("/status/ping")
    assert wrong_method.status_code == 405


async def test_paths_outside_v2_are_json_404s(http: httpx.AsyncClient) -> None:
    response = await http.get("/v3/units")
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"


async def test_rate_limit_is_per_key_and_refills(
    clock: FakeClock, world: World, http: httpx.AsyncClient
) -> None:
    app = create_app(make_config(rate_limit=5), world=world)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=PUBLIC_BASE
    ) as limited:
        client = SignedClient(limited, clock, CLIENT_KEY, SECRET)
        statuses = [(await client.get("/status/ping")).status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        refused = await client.get("/status/ping")
        assert refused.json() == {
            "type": "about:blank",
            "message": "Too many requests",
            "errors": [],
        }
        clock.advance(0.2)  # one token back at 5 per second
        assert (await client.get("/status/ping")).status_code == 200
        assert (await client.get("/status/ping")).status_code == 429
        # Unauthenticated requests are refused before they can spend a token.
        clock.advance(1)
        bad = await client.get("/status/ping", headers={"Shop-Signature": "0" * 64})
        assert bad.status_code == 401
        assert [(await client.get("/status/ping")).status_code for _ in range(5)] == [200] * 5


async def test_forced_429_burst(client: SignedClient, http: httpx.AsyncClient) -> None:
    assert (await http.put("/_sandbox/faults", json={"rate_limit_burst": 2})).status_code == 200
    statuses = [(await client.get("/status/ping")).status_code for _ in range(3)]
    assert statuses == [429, 429, 200]


async def test_error_fault_before_or_after_processing(
    client: SignedClient, http: httpx.AsyncClient, world: World
) -> None:
    """With error_rate 1 every write fails with a 5xx; some were applied anyway."""
    await http.put("/_sandbox/faults", json={"error_rate": 1.0})
    unit = next(
        u for u in world.sellers[CLIENT_KEY].table("units").values() if u["storefront"] == "de"
    )
    applied = 0
    for amount in range(1, 21):
        response = await client.patch(
            f"/units/{unit['id_unit']}?storefront=de", json={"amount": amount}
        )
        assert response.status_code in (500, 502, 503, 504)
        if response.status_code == 502:
            assert "502 Bad Gateway" in response.text
        if unit["amount"] == amount:
            applied += 1
    assert 0 < applied < 20  # both phases happen


async def test_timeout_fault_hangs_then_answers(
    client: SignedClient, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("kaufland_sync.sandbox.app.asyncio.sleep", fake_sleep)
    await http.put("/_sandbox/faults", json={"timeout_rate": 1.0, "timeout_seconds": 7})
    response = await client.get("/status/ping")
    assert response.status_code == 504
    assert slept == [7.0]


async def test_reset_fault_drops_the_response(
    client: SignedClient, http: httpx.AsyncClient
) -> None:
    await http.put("/_sandbox/faults", json={"reset_rate": 1.0})
    with pytest.raises(SimulatedReset):
        await client.get("/status/ping")


async def test_fault_settings_validate_and_merge(http: httpx.AsyncClient) -> None:
    bad = await http.put("/_sandbox/faults", json={"error_rate": 2, "nope": 1})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"error_rate", "nope"}
    await http.put("/_sandbox/faults", json={"latency_ms": 5})
    await http.put("/_sandbox/faults", json={"error_rate": 0.5})
    current = (await http.get("/_sandbox/faults")).json()["data"]
    assert current["latency_ms"] == 5 and current["error_rate"] == 0.5


async def test_state_counts_requests_per_template(
    client: SignedClient, http: httpx.AsyncClient
) -> None:
    units = (await client.get("/units?storefront=de&limit=2")).json()["data"]
    await client.get(f"/units/{units[0]['id_unit']}?storefront=de")
    await client.get("/units/1?storefront=de")
    state = (await http.get("/_sandbox/state")).json()["data"]
    assert state["requests"]["GET /v2/units/{id_unit}"] == {"200": 1, "404": 1}
    assert state["requests"]["GET /v2/units"] == {"200": 1}
    seller = state["sellers"][CLIENT_KEY]
    assert seller["units"] == sum(seller["units_by_status"].values()) > 0


async def test_reset_gives_a_fresh_world(client: SignedClient, http: httpx.AsyncClient) -> None:
    await client.get("/status/ping")
    response = await http.post("/_sandbox/reset", json={"seed": "empty"})
    assert response.status_code == 200
    state = response.json()["data"]["state"]
    assert state["sellers"][CLIENT_KEY]["units"] == 0
    assert state["catalog"]["products"] == 0
    assert state["requests"] == {}
    assert (await http.post("/_sandbox/reset", json={"seed": "nope"})).status_code == 400


async def test_clock_skew_is_visible_and_enforced(
    client: SignedClient, http: httpx.AsyncClient
) -> None:
    response = await http.put("/_sandbox/clock", json={"offset_seconds": 600})
    assert response.json()["data"]["offset_seconds"] == 600
    refused = await client.get("/status/ping")
    assert refused.status_code == 401
    server_time = parsedate_to_datetime(refused.headers["date"]).timestamp()
    assert server_time == client.clock() + 600
    ok = await client.get("/status/ping", timestamp=int(server_time))
    assert ok.status_code == 200


async def test_control_orders_returns_and_delivery(
    client: SignedClient, http: httpx.AsyncClient, world: World
) -> None:
    created = await http.post("/_sandbox/orders", json={"count": 2, "storefront": "de"})
    assert created.status_code == 201, created.text
    ids = created.json()["data"]["ids_order"]
    assert len(ids) == 2
    seller = world.sellers[CLIENT_KEY]
    ou = next(iter(seller.table("order_units").values()))
    id_ou = ou["id_order_unit"]
    assert (await client.patch(f"/order-units/{id_ou}/fulfil")).status_code == 204
    sent = await client.patch(
        f"/order-units/{id_ou}/send", json={"tracking_numbers": "0034", "carrier_code": "DHL"}
    )
    assert sent.status_code == 204, sent.text
    delivered = await http.post("/_sandbox/delivered", json={"id_order_unit": id_ou})
    assert delivered.json()["data"]["status"] == "received"
    opened = await http.post("/_sandbox/returns", json={"id_order_unit": id_ou, "reason": "defect"})
    assert opened.status_code == 201, opened.text
    (returned,) = opened.json()["data"]["return_units"]
    assert (returned["id_order_unit"], returned["reason"]) == (id_ou, "defect")
    arrived = await http.post(
        "/_sandbox/return-arrived", json={"id_return_unit": returned["id_return_unit"]}
    )
    assert arrived.status_code == 200, arrived.text
    assert (await http.post("/_sandbox/returns", json={})).status_code == 400


async def test_control_api_refuses_remote_clients(app: Starlette) -> None:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE) as remote:
        response = await remote.get("/_sandbox/state")
    assert response.status_code == 403


def test_running_sandbox_over_real_loopback_http() -> None:
    config = make_config(public_base_url=None, rate_limit=111.0)
    with RunningSandbox(config) as sandbox:
        ts = str(int(sandbox.world.now()))
        url = f"{sandbox.base_url}/units?storefront=de&limit=1&embedded=products"
        headers = {
            "Shop-Client-Key": CLIENT_KEY,
            "Shop-Timestamp": ts,
            "Shop-Signature": sign_request("GET", url, "", ts, SECRET),
            "User-Agent": "kaufland-sync-tests",
        }
        response = httpx.get(url, headers=headers)
        assert response.status_code == 200, response.text
        assert len(response.json()["data"]) == 1
        assert len(response.headers.get_list("date")) == 1
        state = httpx.get(f"{sandbox.root_url}/_sandbox/state").json()["data"]
        assert state["requests"]["GET /v2/units"] == {"200": 1}
        # A reset fault drops the connection mid-response on a real socket.
        httpx.put(f"{sandbox.root_url}/_sandbox/faults", json={"reset_rate": 1.0})
        with pytest.raises(httpx.TransportError):
            httpx.get(url, headers=headers)
    assert json.dumps(state)  # the state is plain JSON


async def test_wrong_method_answers_405_with_allow(client: SignedClient) -> None:
    response = await client.request("DELETE", "/status/ping")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"


async def test_a_non_utf8_body_is_checked_as_bytes_and_refused_as_json(
    client: SignedClient, world: World
) -> None:
    """The signature covers raw bytes; a body that is not JSON is a 400, not a 401."""
    unit = next(
        u for u in world.seller(client.key).table("units").values() if u["storefront"] == "de"
    )
    path = f"/units/{unit['id_unit']}?storefront=de"
    response = await client.request("PATCH", path, content=b"\x80\xff")
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/bad-request"
