"""Tickets and ticket messages over HTTP."""

from __future__ import annotations

import base64
import re

import pytest

from kaufland_sync.sandbox import marketplace as m
from kaufland_sync.sandbox.world import World
from tests.sandbox._market import available_units
from tests.sandbox.conftest import CLIENT_KEY, FakeClock, SignedClient


@pytest.fixture
def api(client: SignedClient) -> SignedClient:
    return client


def _order_unit(world: World, storefront: str = "de") -> int:
    unit = available_units(world, storefront)[0]
    order = m.place_order(world, CLIENT_KEY, storefront, [(int(unit["id_unit"]), 1)])
    return int(order["_order_unit_ids"][0])


async def test_open_read_and_close_a_ticket(api: SignedClient, world: World) -> None:
    id_ou = _order_unit(world)
    r = await api.post(
        "/tickets",
        json={"id_order_unit": [id_ou], "reason": "product_not_delivered", "message": "Sent today"},
    )
    assert r.status_code == 201
    id_ticket = r.json()["data"]["id_ticket"]
    assert re.fullmatch(r"001\d+", id_ticket)

    r = await api.get(
        f"/tickets/{id_ticket}", params={"embedded": "messages,order_units,buyer,product"}
    )
    ticket = r.json()["data"]
    assert ticket["status"] == "opened" and ticket["ids_order_units"] == [id_ou]
    assert ticket["is_seller_responsible"] is False and ticket["storefront"] == "de"
    assert [msg["text"] for msg in ticket["messages"]] == ["Sent today"]
    assert ticket["messages"][0]["author"]["role"] == "seller"
    assert ticket["order_units"][0]["id_order_unit"] == id_ou
    assert ticket["buyer"]["id_buyer"] == ticket["id_buyer"]
    assert ticket["product"]["id_product"] > 0

    assert (await api.patch(f"/tickets/{id_ticket}/close")).status_code == 204
    assert (await api.get(f"/tickets/{id_ticket}")).json()["data"]["status"] == "seller_closed"
    r = await api.patch(f"/tickets/{id_ticket}/close")
    assert r.status_code == 400 and r.json()["type"] == "/problems/tickets/non-closable-by-seller"


async def test_ticket_validation(api: SignedClient, world: World) -> None:
    id_ou = _order_unit(world)
    cases = [
        ({"id_order_unit": id_ou, "reason": "contact_other", "message": "x"}, "id_order_unit"),
        ({"id_order_unit": [], "reason": "contact_other", "message": "x"}, "id_order_unit"),
        ({"id_order_unit": [id_ou], "reason": "angry", "message": "x"}, "reason"),
        ({"id_order_unit": [id_ou], "reason": "contact_other", "message": ""}, "message"),
    ]
    for body, field in cases:
        r = await api.post("/tickets", json=body)
        assert r.status_code == 400, body
        assert r.json()["errors"][0]["field"] == field
    r = await api.post(
        "/tickets", json={"id_order_unit": [5], "reason": "contact_other", "message": "x"}
    )
    assert r.status_code == 404
    assert (await api.get("/tickets/123")).status_code == 400
    assert (await api.get("/tickets/0019999")).status_code == 404


async def test_buyer_ticket_messages_and_listing(
    api: SignedClient, world: World, clock: FakeClock
) -> None:
    first = m.open_buyer_ticket(
        world,
        CLIENT_KEY,
        [_order_unit(world)],
        "product_defect",
        "It is broken",
        topic="order_product_defect",
    )
    clock.advance(60)
    second = m.open_buyer_ticket(
        world, CLIENT_KEY, [_order_unit(world, "cz")], "contact_other", "Hello?"
    )
    assert first["is_seller_responsible"] is True

    r = await api.get("/tickets")
    assert [t["id_ticket"] for t in r.json()["data"]] == [second["id_ticket"], first["id_ticket"]]
    r = await api.get("/tickets", params={"open_reason": "product_defect"})
    assert [t["id_ticket"] for t in r.json()["data"]] == [first["id_ticket"]]
    r = await api.get("/tickets", params={"storefront": "cz"})
    assert [t["id_ticket"] for t in r.json()["data"]] == [second["id_ticket"]]
    r = await api.get("/tickets", params={"topic": "order_product_defect", "status": "opened"})
    assert r.json()["pagination"]["total"] == 1
    assert (await api.get("/tickets", params={"limit": 31})).status_code == 400
    assert (await api.get("/tickets", params={"topic": "weather"})).status_code == 400

    clock.advance(60)
    image = base64.b64encode(b"\x89PNG...").decode()
    body = {
        "text": "Sorry, replacement is on its way",
        "ticket_message_files": [
            {"filename": "label.png", "mime_type": "image/png", "data": image}
        ],
    }
    r = await api.post(f"/tickets/{first['id_ticket']}/messages", json=body)
    assert r.status_code == 201 and r.content == b""
    r = await api.get("/tickets", params={"sort": "ts_updated_iso:desc"})
    assert r.json()["data"][0]["id_ticket"] == first["id_ticket"]
    assert r.json()["data"][0]["is_seller_responsible"] is False
    r = await api.get(f"/tickets/{first['id_ticket']}", params={"embedded": "files"})
    assert r.json()["data"]["files"][0]["filename"] == "label.png"

    r = await api.get("/tickets/messages")
    texts = [msg["text"] for msg in r.json()["data"]]
    assert texts == ["Sorry, replacement is on its way", "Hello?", "It is broken"]
    r = await api.get("/tickets/messages", params={"sort": "ts_created_iso:asc", "limit": 1})
    assert [msg["text"] for msg in r.json()["data"]] == ["It is broken"]
    assert r.json()["pagination"]["total"] == 3
    r = await api.post(f"/tickets/{first['id_ticket']}/messages", json={"text": ""})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "text"


async def test_ticket_details_carry_every_field_the_spec_requires(
    api: SignedClient, world: World
) -> None:
    # Found by fuzzing: without ``embedded`` the answer lacked the fields TicketWithEmbedded
    # requires (messages, order_units, buyer, product, files).
    ticket = m.open_buyer_ticket(world, CLIENT_KEY, [_order_unit(world)])
    r = await api.get(f"/tickets/{ticket['id_ticket']}")
    assert r.status_code == 200, r.text
    view = r.json()["data"]
    for name in ("messages", "order_units", "buyer", "product", "files", "storefront"):
        assert name in view, name
    assert [msg["text"] for msg in view["messages"]] == ["Where is my parcel?"]
    bad = await api.get(f"/tickets/{ticket['id_ticket']}", params={"embedded": "nonsense"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "embedded"
