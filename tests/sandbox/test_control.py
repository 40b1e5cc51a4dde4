"""The control API's marketplace levers (autopaid, return arrived/closed, buyer tickets) and the
downloads behind the URLs that reports, order invoices and ticket files hand out."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from kaufland_sync.sandbox import marketplace as m
from kaufland_sync.sandbox.routes.reports import render_report
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import World
from kaufland_sync.sellerapi._signing import sign_request
from tests.sandbox._market import available_units
from tests.sandbox.conftest import (
    CLIENT_KEY,
    OTHER_KEY,
    PUBLIC_BASE,
    SECRET,
    FakeClock,
    SignedClient,
    make_config,
)

PDF = b"%PDF-1.4\n% sandbox invoice\n"


def _sent_unit(world: World, client_key: str = CLIENT_KEY) -> int:
    """A fresh order unit of ``client_key`` in status ``sent``."""
    unit = available_units(world, client_key=client_key)[0]
    order = m.place_order(world, client_key, "de", [(int(unit["id_unit"]), 1)])
    id_ou = int(order["_order_unit_ids"][0])
    m.fulfil_order_unit(world, client_key, id_ou)
    m.send_order_unit(world, client_key, id_ou, "0034", "DHL")
    return id_ou


def _return_unit(world: World, client_key: str = CLIENT_KEY) -> tuple[int, int]:
    """(id_return, id_return_unit) of a buyer's new return of a sent unit."""
    ret = m.open_return(world, client_key, _sent_unit(world, client_key), "defect")
    return int(ret["id_return"]), int(ret["_return_unit_ids"][0])


def _field(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"] == "/problems/validation-error"
    field: str = body["errors"][0]["field"]
    return field


# Marketplace levers -----------------------------------------------------------------------
async def test_autopaid_moves_a_sent_unit_on(http: httpx.AsyncClient, world: World) -> None:
    id_ou = _sent_unit(world)
    r = await http.post("/_sandbox/autopaid", json={"id_order_unit": id_ou})
    assert r.status_code == 200, r.text
    assert r.json() == {"data": {"id_order_unit": id_ou, "status": "sent_and_autopaid"}}
    assert world.seller(CLIENT_KEY).table("order_units")[str(id_ou)]["status"] == (
        "sent_and_autopaid"
    )
    # The marketplace's own refusal comes through unchanged.
    again = await http.post("/_sandbox/autopaid", json={"id_order_unit": id_ou})
    assert again.status_code == 400
    assert again.json()["type"] == "/problems/action-not-allowed"


async def test_return_arrived_then_closed(
    http: httpx.AsyncClient, client: SignedClient, world: World
) -> None:
    id_return, id_ru = _return_unit(world)
    r = await http.post("/_sandbox/return-arrived", json={"id_return_unit": id_ru})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {
        "id_return_unit": id_ru,
        "id_return": id_return,
        "status": "return_arrived",
        "return_status": "package_received",
    }
    seen = await client.get(f"/return-units/{id_ru}")
    assert seen.json()["data"]["status"] == "return_arrived"

    # Closing needs a decision first; the marketplace's problem is passed through.
    early = await http.post("/_sandbox/return-closed", json={"id_return_unit": id_ru})
    assert early.status_code == 400
    assert early.json()["type"] == m.RETURN_UNIT_WRONG_STATUS
    assert (await client.patch(f"/return-units/{id_ru}/accept")).status_code == 204
    closed = await http.post("/_sandbox/return-closed", json={"id_return_unit": id_ru})
    assert closed.status_code == 200, closed.text
    assert closed.json()["data"]["status"] == "return_closed"

    twice = await http.post("/_sandbox/return-arrived", json={"id_return_unit": id_ru})
    assert twice.status_code == 400
    assert twice.json()["type"] == m.RETURN_UNIT_WRONG_STATUS


async def test_a_buyer_opens_a_ticket(
    http: httpx.AsyncClient, client: SignedClient, world: World
) -> None:
    id_ou = _sent_unit(world)
    r = await http.post(
        "/_sandbox/tickets",
        json={"id_order_unit": id_ou, "reason": "product_defect", "message": "It hums."},
    )
    assert r.status_code == 201, r.text
    ticket = r.json()["data"]
    assert ticket["client_key"] == CLIENT_KEY and ticket["ids_order_units"] == [id_ou]
    assert ticket["open_reason"] == "product_defect" and ticket["storefront"] == "de"
    assert not any(key.startswith("_") for key in ticket)

    seen = await client.get(f"/tickets/{ticket['id_ticket']}", params={"embedded": "messages"})
    details = seen.json()["data"]
    assert details["is_seller_responsible"] is True and details["status"] == "opened"
    assert [(msg["author"]["role"], msg["text"]) for msg in details["messages"]] == [
        ("buyer", "It hums.")
    ]


async def test_a_buyer_ticket_defaults_and_lists_of_units(
    http: httpx.AsyncClient, world: World
) -> None:
    unit = next(u for u in available_units(world) if int(u["amount"]) >= 2)
    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 2)])
    ids = [int(i) for i in order["_order_unit_ids"]]
    r = await http.post("/_sandbox/tickets", json={"id_order_unit": ids})
    assert r.status_code == 201, r.text
    ticket = r.json()["data"]
    assert ticket["ids_order_units"] == ids
    assert ticket["open_reason"] == "contact_other" and ticket["topic"] == "other_question"
    messages = world.seller(CLIENT_KEY).table("ticket_messages").values()
    assert [msg["text"] for msg in messages if msg["id_ticket"] == ticket["id_ticket"]] == [
        "Where is my parcel?"
    ]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/_sandbox/autopaid", {}, "id_order_unit"),
        ("/_sandbox/autopaid", {"id_order_unit": "12"}, "id_order_unit"),
        ("/_sandbox/return-arrived", {"id_return_unit": True}, "id_return_unit"),
        ("/_sandbox/return-closed", {"id_return_unit": None}, "id_return_unit"),
        ("/_sandbox/tickets", {}, "id_order_unit"),
        ("/_sandbox/tickets", {"id_order_unit": ["x"]}, "id_order_unit"),
        ("/_sandbox/tickets", {"id_order_unit": 1, "reason": "weather"}, "reason"),
        ("/_sandbox/tickets", {"id_order_unit": 1, "message": " "}, "message"),
        ("/_sandbox/tickets", {"id_order_unit": 1, "message": 5}, "message"),
        ("/_sandbox/autopaid", {"id_order_unit": 1, "client_key": "nobody"}, "client_key"),
    ],
)
async def test_bad_bodies_are_400_naming_the_field(
    http: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    assert _field(await http.post(path, json=body)) == field


@pytest.mark.parametrize(
    "path", ["/_sandbox/autopaid", "/_sandbox/tickets", "/_sandbox/return-arrived"]
)
async def test_non_object_bodies_are_400(http: httpx.AsyncClient, path: str) -> None:
    assert _field(await http.post(path, content=b"[1]")) == "body"
    assert _field(await http.post(path, content=b"{nope")) == "body"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_sandbox/autopaid", {"id_order_unit": 1}),
        ("/_sandbox/return-arrived", {"id_return_unit": 1}),
        ("/_sandbox/return-closed", {"id_return_unit": 1}),
        ("/_sandbox/tickets", {"id_order_unit": 1}),
    ],
)
async def test_unknown_ids_are_404(
    http: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    r = await http.post(path, json=body)
    assert r.status_code == 404
    assert r.json()["type"] == "/problems/not-found"


async def test_the_owner_is_found_and_client_key_overrides(
    http: httpx.AsyncClient, world: World
) -> None:
    _, id_ru = _return_unit(world, OTHER_KEY)
    # Named for the wrong seller: that seller has no such return unit.
    wrong = await http.post(
        "/_sandbox/return-arrived", json={"id_return_unit": id_ru, "client_key": CLIENT_KEY}
    )
    assert wrong.status_code == 404
    found = await http.post("/_sandbox/return-arrived", json={"id_return_unit": id_ru})
    assert found.status_code == 200, found.text
    assert world.seller(OTHER_KEY).table("return_units")[str(id_ru)]["status"] == ("return_arrived")
    id_ou = _sent_unit(world, OTHER_KEY)
    r = await http.post("/_sandbox/tickets", json={"id_order_unit": id_ou, "client_key": OTHER_KEY})
    assert r.status_code == 201 and r.json()["data"]["client_key"] == OTHER_KEY


async def test_control_calls_apply_due_transitions_first(
    http: httpx.AsyncClient, world: World, clock: FakeClock
) -> None:
    world.config.open_delay = 60.0
    created = await http.post("/_sandbox/orders", json={"count": 1, "storefront": "de"})
    assert created.status_code == 201
    id_ou = max(int(k) for k in world.seller(CLIENT_KEY).table("order_units"))
    assert world.seller(CLIENT_KEY).table("order_units")[str(id_ou)]["status"] == "open"
    clock.advance(61)
    # The ticket call ticks the marketplace, so the unit has left `open` by then.
    r = await http.post("/_sandbox/tickets", json={"id_order_unit": id_ou})
    assert r.status_code == 201
    assert world.seller(CLIENT_KEY).table("order_units")[str(id_ou)]["status"] == (
        "need_to_be_sent"
    )


# Downloads ----------------------------------------------------------------------------
async def test_a_done_report_downloads_as_csv(
    http: httpx.AsyncClient, client: SignedClient, world: World, clock: FakeClock
) -> None:
    requested = await client.post("/reports/account-listing", params={"storefront": "de"})
    id_report = requested.json()["data"]["id_report"]
    file_url = f"{PUBLIC_BASE}/_sandbox/files/reports/{id_report}.csv"
    early = await http.get(file_url)
    assert early.status_code == 404 and early.json()["type"] == "/problems/not-found"

    clock.advance(1)
    report = (await client.get(f"/reports/{id_report}")).json()["data"]
    assert report["url"] == file_url  # absolute, at the address the client reached
    r = await http.get(report["url"])
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    seller = world.seller(CLIENT_KEY)
    assert r.content == render_report(seller, seller.table("reports")[str(id_report)])
    header, *rows = r.text.splitlines()
    assert header.startswith("id_unit;") and rows

    missing = await http.get("/_sandbox/files/reports/1.csv")
    assert missing.status_code == 404 and missing.json()["type"] == "/problems/not-found"


async def test_an_uploaded_invoice_downloads_with_its_mime_type(
    http: httpx.AsyncClient, client: SignedClient, world: World
) -> None:
    unit = available_units(world)[0]
    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 1)])
    body = {
        "original_name": "invoice.pdf",
        "mime_type": "application/pdf",
        "data": base64.b64encode(PDF).decode(),
    }
    uploaded = await client.post(f"/order-invoices/{order['id_order']}", json=body)
    assert uploaded.status_code == 201, uploaded.text
    invoice = uploaded.json()["data"]
    assert invoice["url"].startswith(
        f"{PUBLIC_BASE}/_sandbox/files/order-invoices/{invoice['id_invoice']}?access_token="
    )
    r = await http.get(invoice["url"])
    assert r.status_code == 200
    assert r.content == PDF and r.headers["content-type"] == "application/pdf"

    bare = f"/_sandbox/files/order-invoices/{invoice['id_invoice']}"
    assert (await http.get(bare)).status_code == 404
    assert (await http.get(bare, params={"access_token": "0" * 32})).status_code == 404
    unknown = await http.get("/_sandbox/files/order-invoices/1", params={"access_token": "x"})
    assert unknown.status_code == 404 and unknown.json()["type"] == "/problems/not-found"


async def test_ticket_files_download_one_by_one(
    http: httpx.AsyncClient, client: SignedClient, world: World
) -> None:
    ticket = m.open_buyer_ticket(world, CLIENT_KEY, [_sent_unit(world)])
    id_ticket = ticket["id_ticket"]
    name = "label 1/2 ü.png"  # needs quoting in a URL
    files = [
        {"filename": name, "mime_type": "image/png", "data": base64.b64encode(b"first").decode()},
        {
            "filename": name,
            "mime_type": "image/jpeg",
            "data": "data:image/jpeg;base64," + base64.b64encode(b"second").decode(),
        },
    ]
    posted = await client.post(
        f"/tickets/{id_ticket}/messages", json={"text": "See both", "ticket_message_files": files}
    )
    assert posted.status_code == 201, posted.text
    seen = await client.get(f"/tickets/{id_ticket}", params={"embedded": "files"})
    listed = seen.json()["data"]["files"]
    assert [set(f) for f in listed] == [{"filename", "ts_created_iso", "uri"}] * 2
    uris = [f["uri"] for f in listed]
    assert uris[0] != uris[1]
    assert all(u.startswith(f"{PUBLIC_BASE}/_sandbox/files/tickets/{id_ticket}/") for u in uris)

    first, second = [await http.get(u) for u in uris]
    assert (first.status_code, first.content) == (200, b"first")
    assert first.headers["content-type"] == "image/png"
    assert (second.content, second.headers["content-type"]) == (b"second", "image/jpeg")

    base = f"/_sandbox/files/tickets/{id_ticket}"
    assert (await http.get(f"{base}/0/other.png")).status_code == 404
    assert (await http.get(f"{base}/2/x.png")).status_code == 404
    gone = await http.get("/_sandbox/files/tickets/0019/0/x.png")
    assert gone.status_code == 404 and gone.json()["type"] == "/problems/not-found"


async def test_downloads_are_for_loopback_clients_only(app: Starlette) -> None:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE) as remote:
        for path in (
            "/_sandbox/files/reports/1.csv",
            "/_sandbox/files/order-invoices/1",
            "/_sandbox/tickets",
        ):
            response = await (remote.get(path) if "files" in path else remote.post(path))
            assert response.status_code == 403, path


def test_file_urls_name_the_address_reached_over_real_http() -> None:
    config = make_config(public_base_url=None)
    with RunningSandbox(config) as sandbox:
        world = sandbox.world
        unit = available_units(world)[0]
        order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 1)])
        content = (
            '{"original_name":"a.pdf","mime_type":"application/pdf","data":"'
            + base64.b64encode(PDF).decode()
            + '"}'
        ).encode()
        url = f"{sandbox.base_url}/order-invoices/{order['id_order']}"
        ts = str(int(world.now()))
        headers = {
            "Shop-Client-Key": CLIENT_KEY,
            "Shop-Timestamp": ts,
            "Shop-Signature": sign_request("POST", url, content, ts, SECRET),
            "User-Agent": "kaufland-sync-tests",
            "Content-Type": "application/json",
        }
        uploaded = httpx.post(url, content=content, headers=headers)
        assert uploaded.status_code == 201, uploaded.text
        file_url = uploaded.json()["data"]["url"]
        assert file_url.startswith(f"{sandbox.root_url}/_sandbox/files/order-invoices/")
        downloaded = httpx.get(file_url)
        assert downloaded.status_code == 200 and downloaded.content == PDF
