"""Subscriptions (CRUD + callback verification) and push delivery (signing, retries)."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from kaufland_sync.sandbox import marketplace as m
from kaufland_sync.sandbox import notify
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import World
from kaufland_sync.sellerapi._signing import sign_request
from tests.sandbox._market import available_units
from tests.sandbox.conftest import CLIENT_KEY, SECRET, FakeClock, SignedClient, make_config

HOOK = "http://receiver.test/hook"


@dataclass
class Receiver:
    """A push receiver app: echoes challenges, records deliveries, fails on demand."""

    echo_challenge: bool = True
    status: int = 200
    verifications: list[dict[str, str]] = field(default_factory=list)
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    delivered: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            if request.method == "GET":
                params = dict(request.query_params)
                self.verifications.append(params)
                answer = params.get("challenge", "") if self.echo_challenge else "nope"
                return PlainTextResponse(answer)
            self.deliveries.append((dict(request.headers), await request.body()))
            self.delivered.set()
            return Response(status_code=self.status)

        return Starlette(routes=[Route("/hook", hook, methods=["GET", "POST"])])


@pytest.fixture
def receiver(world: World) -> Receiver:
    receiver = Receiver()
    notify.notifier_for(world, httpx.ASGITransport(app=receiver.app()))
    return receiver


@pytest.fixture
def api(client: SignedClient, receiver: Receiver) -> SignedClient:
    return client


async def _subscribe(
    api: SignedClient, event_name: str = "order_new", storefront: str = "de"
) -> dict[str, Any]:
    body = {"callback_url": HOOK, "fallback_email": "ops@shop.example", "event_name": event_name}
    r = await api.post("/subscriptions", params={"storefront": storefront}, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def _order(world: World) -> str:
    unit = available_units(world)[0]
    return str(m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 1)])["id_order"])


async def test_creating_a_subscription_verifies_the_callback(
    api: SignedClient, receiver: Receiver
) -> None:
    sub = await _subscribe(api)
    assert (
        sub["is_active"] is True and sub["storefront"] == "de" and sub["event_name"] == "order_new"
    )
    assert receiver.verifications[0]["mode"] == "subscribe"
    assert len(receiver.verifications[0]["challenge"]) >= 16
    r = await api.get(f"/subscriptions/{sub['id_subscription']}")
    assert r.json()["data"] == sub


async def test_unverified_callback_is_refused(
    api: SignedClient, receiver: Receiver, world: World
) -> None:
    receiver.echo_challenge = False
    body = {"callback_url": HOOK, "fallback_email": "ops@shop.example", "event_name": "order_new"}
    r = await api.post("/subscriptions", params={"storefront": "de"}, json=body)
    assert r.status_code == 400
    assert r.json()["type"] == "/problems/subscriptions/unverified-callback-url"
    assert world.seller(CLIENT_KEY).table("subscriptions") == {}


async def test_unreachable_callback_is_refused(world: World, client: SignedClient) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    notify.notifier_for(world, httpx.MockTransport(refuse))
    body = {"callback_url": HOOK, "fallback_email": "ops@shop.example", "event_name": "order_new"}
    r = await client.post("/subscriptions", params={"storefront": "de"}, json=body)
    assert r.status_code == 400
    assert r.json()["type"] == "/problems/subscriptions/unverified-callback-url"


@pytest.mark.parametrize(
    ("params", "body", "field"),
    [
        ({}, {}, "storefront"),
        ({"storefront": "de"}, {"callback_url": "http://x.test/" + "a" * 250}, "callback_url"),
        ({"storefront": "de"}, {"callback_url": "ftp://x.test/"}, "callback_url"),
        ({"storefront": "de"}, {"fallback_email": "nobody"}, "fallback_email"),
        ({"storefront": "de"}, {"event_name": "order_paid"}, "event_name"),
        ({"storefront": "de"}, {"secret": "x"}, "secret"),
    ],
)
async def test_subscription_validation(
    api: SignedClient, params: dict[str, str], body: dict[str, str], field: str
) -> None:
    full = {
        "callback_url": HOOK,
        "fallback_email": "ops@shop.example",
        "event_name": "order_new",
        **body,
    }
    r = await api.post("/subscriptions", params=params, json=full)
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == field


async def test_list_update_and_delete(api: SignedClient, receiver: Receiver) -> None:
    a = await _subscribe(api, "order_new", "de")
    b = await _subscribe(api, "return_new", "cz")
    r = await api.get("/subscriptions")
    assert [s["id_subscription"] for s in r.json()["data"]] == [
        a["id_subscription"],
        b["id_subscription"],
    ]
    r = await api.get("/subscriptions", params={"event_name": "return_new"})
    assert [s["id_subscription"] for s in r.json()["data"]] == [b["id_subscription"]]
    r = await api.get("/subscriptions", params={"storefront": "de"})
    assert [s["id_subscription"] for s in r.json()["data"]] == [a["id_subscription"]]
    assert (await api.get("/subscriptions", params={"limit": 31})).status_code == 400
    r = await api.post(
        "/subscriptions",
        params={"storefront": "de"},
        json={
            "callback_url": HOOK,
            "fallback_email": "ops@shop.example",
            "event_name": "order_new",
        },
    )
    assert r.status_code == 400 and r.json()["type"] == "/problems/already-exists"

    r = await api.patch(
        f"/subscriptions/{a['id_subscription']}", json={"is_active": False, "storefront": None}
    )
    assert r.status_code == 200
    assert r.json()["data"]["is_active"] is False and r.json()["data"]["storefront"] is None
    receiver.echo_challenge = False
    r = await api.patch(
        f"/subscriptions/{a['id_subscription']}",
        json={"callback_url": "http://receiver.test/hook?v=2"},
    )
    assert r.status_code == 400
    assert (await api.get(f"/subscriptions/{a['id_subscription']}")).json()["data"][
        "callback_url"
    ] == HOOK
    r = await api.patch(f"/subscriptions/{a['id_subscription']}", json={"is_active": "yes"})
    assert r.status_code == 400

    assert (await api.delete(f"/subscriptions/{a['id_subscription']}")).status_code == 204
    assert (await api.get(f"/subscriptions/{a['id_subscription']}")).status_code == 404
    assert (await api.delete(f"/subscriptions/{a['id_subscription']}")).status_code == 404


async def test_events_are_delivered_signed(
    api: SignedClient, receiver: Receiver, world: World
) -> None:
    await _subscribe(api, "order_new", "de")
    await _subscribe(api, "item_unit_changed", "de")
    await _subscribe(api, "return_new", "de")
    await _subscribe(api, "order_unit_new", "cz")  # other storefront: nothing to deliver
    id_order = _order(world)

    assert await notify.deliver_due(world) == 2
    assert world.events == []
    bodies = {}
    for headers, raw in receiver.deliveries:
        expected = sign_request("POST", HOOK, raw, headers["shop-timestamp"], SECRET)
        assert headers["shop-signature"] == expected
        assert headers["content-type"] == "application/json"
        message = json.loads(raw)
        bodies[message["event_name"]] = message
    assert bodies["order_new"]["resource"] == f"/v2/orders/{id_order}"
    assert bodies["order_new"]["storefront"] == "de"
    assert "payload" not in bodies["order_new"]
    assert bodies["item_unit_changed"]["payload"]["id_unit"] > 0
    assert len({b["id_message"] for b in bodies.values()}) == 2
    assert await notify.deliver_due(world) == 0  # delivered once only


async def test_failed_deliveries_are_retried_then_the_subscription_is_switched_off(
    api: SignedClient, receiver: Receiver, world: World, clock: FakeClock
) -> None:
    sub = await _subscribe(api, "order_new", "de")
    receiver.status = 500
    _order(world)
    notifier = notify.notifier_for(world)

    assert await notify.deliver_due(world) == 1
    clock.advance(59)
    assert await notify.deliver_due(world) == 0
    clock.advance(1)
    assert await notify.deliver_due(world) == 1  # after 1 minute
    clock.advance(899)
    assert await notify.deliver_due(world) == 0
    clock.advance(1)
    assert await notify.deliver_due(world) == 1  # after 15 more minutes
    attempts = 3
    while notifier.pending:
        clock.advance(3600)
        attempts += await notify.deliver_due(world)
    stored = world.seller(CLIENT_KEY).table("subscriptions")[str(sub["id_subscription"])]
    assert stored["is_active"] is False
    assert 10 <= attempts <= 16  # about 12 hours of retries
    assert [a["status"] for a in notifier.attempts_log] == [500] * attempts

    _order(world)  # a switched-off subscription gets nothing
    assert await notify.deliver_due(world) == 0


async def test_a_retry_that_succeeds_ends_the_retries(
    api: SignedClient, receiver: Receiver, world: World, clock: FakeClock
) -> None:
    await _subscribe(api, "order_new", "de")
    receiver.status = 503
    _order(world)
    await notify.deliver_due(world)
    receiver.status = 204
    clock.advance(60)
    assert await notify.deliver_due(world) == 1
    clock.advance(3600)
    assert await notify.deliver_due(world) == 0
    assert len(receiver.deliveries) == 2


async def test_run_loop_delivers_in_the_background(
    api: SignedClient, receiver: Receiver, world: World
) -> None:
    await _subscribe(api, "order_new", "de")
    notify.notifier_for(world).poll_interval = 0.01
    stop = asyncio.Event()
    task = asyncio.create_task(notify.run(world, stop))
    _order(world)
    await asyncio.wait_for(receiver.delivered.wait(), timeout=5)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert len(receiver.deliveries) == 1


class _LoopbackReceiver(BaseHTTPRequestHandler):
    """A push receiver on a real socket: echoes challenges, records signed POSTs."""

    posts: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    got_post: ClassVar[threading.Event] = threading.Event()

    def do_GET(self) -> None:
        challenge = parse_qs(urlsplit(self.path).query).get("challenge", [""])[0].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(challenge)))
        self.end_headers()
        self.wfile.write(challenge)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()
        type(self).got_post.set()

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


def test_push_over_real_loopback_http() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LoopbackReceiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        with RunningSandbox(make_config(public_base_url=None)) as sandbox:
            body = json.dumps(
                {
                    "callback_url": hook,
                    "fallback_email": "ops@shop.example",
                    "event_name": "order_new",
                },
                separators=(",", ":"),
            )
            url = f"{sandbox.base_url}/subscriptions?storefront=de"
            ts = str(int(sandbox.world.now()))
            headers = {
                "Shop-Client-Key": CLIENT_KEY,
                "Shop-Timestamp": ts,
                "Shop-Signature": sign_request("POST", url, body, ts, SECRET),
                "User-Agent": "kaufland-sync-tests",
                "Content-Type": "application/json",
            }
            created = httpx.post(url, content=body, headers=headers, timeout=20)
            assert created.status_code == 201, created.text
            ordered = httpx.post(
                f"{sandbox.root_url}/_sandbox/orders",
                json={"client_key": CLIENT_KEY, "count": 1, "storefront": "de"},
            )
            assert ordered.status_code == 201, ordered.text
            assert _LoopbackReceiver.got_post.wait(timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    headers_seen, raw = _LoopbackReceiver.posts[0]
    assert headers_seen["shop-signature"] == sign_request(
        "POST", hook, raw, headers_seen["shop-timestamp"], SECRET
    )
    assert json.loads(raw)["event_name"] == "order_new"
