"""Returns and return units over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from kaufland_sync.sandbox import marketplace as m
from kaufland_sync.sandbox.world import World
from tests.sandbox._market import available_units
from tests.sandbox.conftest import CLIENT_KEY, FakeClock, SignedClient


@pytest.fixture
def api(client: SignedClient) -> SignedClient:
    return client


def _sent_units(world: World, amount: int = 2) -> list[int]:
    unit = next(u for u in available_units(world) if int(u["amount"]) >= amount)
    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), amount)])
    ids = [int(i) for i in order["_order_unit_ids"]]
    for id_ou in ids:
        m.fulfil_order_unit(world, CLIENT_KEY, id_ou)
        m.send_order_unit(world, CLIENT_KEY, id_ou, "0034", "DHL")
    return ids


async def test_initiate_return_and_add_units(api: SignedClient, world: World) -> None:
    first, second = _sent_units(world)
    r = await api.post(
        "/returns", json=[{"id_order_unit": first, "reason": "wrong_size", "note": "Too small"}]
    )
    assert r.status_code == 201
    ret = r.json()["data"]
    assert ret["status"] == "return_requested" and ret["storefront"] == "de"
    assert [u["id_order_unit"] for u in ret["return_units"]] == [first]
    assert ret["return_units"][0]["status"] == "need_to_be_returned"

    r = await api.put(
        f"/returns/{ret['id_return']}",
        json=[{"id_order_unit": second, "reason": "dislike", "note": "Meh meh"}],
    )
    assert r.status_code == 201
    assert len(r.json()["data"]["return_units"]) == 2

    r = await api.get(
        f"/returns/{ret['id_return']}", params={"embedded": ["buyer", "return_units"]}
    )
    details = r.json()["data"]
    assert details["buyer"]["id_buyer"] > 0 and len(details["return_units"]) == 2
    r = await api.get(f"/returns/{ret['id_return']}")
    assert "return_units" not in r.json()["data"]
    assert (await api.get("/returns/1")).status_code == 404


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"reason": "defect", "note": "Broken item"}, "[0].id_order_unit"),
        ({"id_order_unit": 0, "reason": "nope", "note": "Broken item"}, "[0].reason"),
        ({"id_order_unit": 0, "reason": "defect", "note": "abc"}, "[0].note"),
    ],
)
async def test_initiate_return_validates_items(
    api: SignedClient, world: World, item: dict[str, Any], field: str
) -> None:
    if item.get("id_order_unit") == 0:
        item = {**item, "id_order_unit": _sent_units(world, 1)[0]}
    r = await api.post("/returns", json=[item])
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == field


async def test_initiate_return_refuses_unsent_units(api: SignedClient, world: World) -> None:
    unit = available_units(world)[0]
    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 1)])
    id_ou = int(order["_order_unit_ids"][0])
    r = await api.post(
        "/returns", json=[{"id_order_unit": id_ou, "reason": "defect", "note": "Broken item"}]
    )
    assert r.status_code == 400
    r = await api.post("/returns", json={"id_order_unit": id_ou})
    assert r.status_code == 400


async def test_list_returns_and_return_units(
    api: SignedClient, world: World, clock: FakeClock
) -> None:
    a, b = _sent_units(world)
    first = m.open_return(world, CLIENT_KEY, a, "defect")
    clock.advance(5)
    second = m.open_return(world, CLIENT_KEY, b, "dislike")
    r = await api.get("/returns")
    assert [x["id_return"] for x in r.json()["data"]] == [second["id_return"], first["id_return"]]
    clock.advance(5)
    m.mark_return_arrived(world, CLIENT_KEY, first["_return_unit_ids"][0])
    r = await api.get("/returns", params={"status": "package_received"})
    assert [x["id_return"] for x in r.json()["data"]] == [first["id_return"]]
    r = await api.get("/returns", params={"sort": "ts_updated:desc"})
    assert r.json()["data"][0]["id_return"] == first["id_return"]
    assert (await api.get("/returns", params={"status": "lost"})).status_code == 400
    assert (await api.get("/returns", params={"limit": 101})).status_code == 400

    r = await api.get("/return-units", params={"status": "return_arrived,need_to_be_returned"})
    assert r.json()["pagination"]["total"] == 2
    r = await api.get("/return-units", params={"status": ["return_arrived"]})
    assert [x["id_order_unit"] for x in r.json()["data"]] == [a]
    assert (await api.get("/return-units", params={"status": "arrived"})).status_code == 400
    r = await api.get("/return-units", params={"fulfillment_type": "fulfilled_by_kaufland"})
    assert r.json()["data"] == []


async def test_return_unit_actions_follow_the_state_machine(
    api: SignedClient, world: World
) -> None:
    (id_ou,) = _sent_units(world, 1)
    ret = m.open_return(world, CLIENT_KEY, id_ou, "defect")
    id_ru = ret["_return_unit_ids"][0]
    r = await api.patch(f"/return-units/{id_ru}/repair")  # the item is not back yet
    assert r.status_code == 400
    assert r.json()["type"] == "/problems/returns/unit-wrong-status"

    m.mark_return_arrived(world, CLIENT_KEY, id_ru)
    r = await api.patch(f"/return-units/{id_ru}/clarify", json={})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "message"
    assert (
        await api.patch(f"/return-units/{id_ru}/clarify", json={"message": "Photo please?"})
    ).status_code == 204
    assert (await api.patch(f"/return-units/{id_ru}/repair")).status_code == 204
    r = await api.get(f"/return-units/{id_ru}", params={"embedded": "order_unit,tickets"})
    details = r.json()["data"]
    assert details["status"] == "return_in_repair"
    assert details["return"]["id_return"] == ret["id_return"]
    assert details["order_unit"]["id_order_unit"] == id_ou
    assert len(details["tickets"]) == 1  # clarify asked the buyer through a ticket
    assert (await api.patch(f"/return-units/{id_ru}/accept")).status_code == 204
    assert (
        await api.patch(f"/return-units/{id_ru}/reject", json={"message": "No"})
    ).status_code == 400
    assert (await api.get(f"/order-units/{id_ou}")).json()["data"]["status"] == "returned"
    r = await api.patch(f"/order-units/{id_ou}/refund", json={"amount": 100, "reason": "defect"})
    assert r.status_code == 204
    assert (await api.get(f"/order-units/{id_ou}")).json()["data"]["status"] == "returned_paid"
    assert (await api.patch("/return-units/12/accept")).status_code == 404
