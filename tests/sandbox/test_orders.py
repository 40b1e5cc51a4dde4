"""Orders, order units, shipments, order invoices and playground orders over HTTP."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kaufland_sync.sandbox import marketplace as m
from kaufland_sync.sandbox.world import SandboxConfig, World
from tests.sandbox._market import available_units
from tests.sandbox.conftest import CLIENT_KEY, FakeClock, SignedClient, make_config


@pytest.fixture
def config() -> SandboxConfig:
    return make_config(open_delay=900.0)


@pytest.fixture
def api(client: SignedClient) -> SignedClient:
    return client


def _order(world: World, amount: int = 1, storefront: str = "de") -> dict[str, Any]:
    unit = next(u for u in available_units(world, storefront) if int(u["amount"]) >= amount)
    return m.place_order(world, CLIENT_KEY, storefront, [(int(unit["id_unit"]), amount)])


def _ids(order: dict[str, Any]) -> list[int]:
    return list(order["_order_unit_ids"])


async def test_list_orders_pages_newest_first(
    api: SignedClient, world: World, clock: FakeClock
) -> None:
    first = _order(world)
    clock.advance(10)
    second = _order(world, storefront="cz")
    r = await api.get("/orders")
    assert r.status_code == 200
    body = r.json()
    assert [o["id_order"] for o in body["data"]] == [second["id_order"], first["id_order"]]
    assert body["pagination"] == {"offset": 0, "limit": 30, "total": 2}
    assert set(body["data"][0]) == {
        "id_order", "ts_created_iso", "is_marketplace_deemed_supplier", "order_units_count",
        "ts_units_updated_iso", "storefront", "fulfillment_type",
    }  # fmt: skip

    r = await api.get("/orders", params={"storefront": "de"})
    assert [o["id_order"] for o in r.json()["data"]] == [first["id_order"]]
    r = await api.get("/orders", params={"ts_created_from_iso": body["data"][0]["ts_created_iso"]})
    assert r.json()["pagination"]["total"] == 1
    r = await api.get("/orders", params={"limit": 1, "offset": 1})
    assert [o["id_order"] for o in r.json()["data"]] == [first["id_order"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"storefront": "xx"}, "storefront"),
        ({"ts_created_from_iso": "yesterday"}, "ts_created_from_iso"),
        ({"fulfillment_type": "by_me"}, "fulfillment_type"),
    ],
)
async def test_list_orders_validates_parameters(
    api: SignedClient, params: dict[str, Any], field: str
) -> None:
    r = await api.get("/orders", params=params)
    assert r.status_code == 400
    assert r.json()["type"] == "/problems/validation-error"
    assert r.json()["errors"][0]["field"] == field


async def test_get_order_hides_addresses_until_released(
    api: SignedClient, world: World, clock: FakeClock
) -> None:
    order = _order(world, amount=2)
    r = await api.get(f"/orders/{order['id_order']}")
    assert r.status_code == 200
    details = r.json()["data"]
    assert details["billing_address"] is None and details["shipping_address"] is None
    assert details["buyer"]["email"] is None
    assert [u["id_order_unit"] for u in details["order_units"]] == _ids(order)
    assert "order_invoices" not in details

    clock.advance(900)
    r = await api.get(f"/orders/{order['id_order']}", params={"embedded": "order_invoices"})
    details = r.json()["data"]
    assert details["shipping_address"]["city"]
    assert details["buyer"]["email"].endswith("@buyer.example")
    assert {u["status"] for u in details["order_units"]} == {"need_to_be_sent"}
    assert details["order_invoices"] == []

    r = await api.get(f"/orders/{order['id_order']}", params={"embedded": "units"})
    assert r.status_code == 400


async def test_unknown_order_is_404(api: SignedClient) -> None:
    r = await api.get("/orders/NOPE123")
    assert r.status_code == 404
    assert r.json()["type"] == "/problems/not-found"


async def test_orders_are_per_seller(world: World, other_client: SignedClient) -> None:
    order = _order(world)
    assert (await other_client.get(f"/orders/{order['id_order']}")).status_code == 404
    assert (await other_client.get("/orders")).json()["pagination"]["total"] == 0


async def test_order_units_filters_by_status_in_both_array_forms(
    api: SignedClient, world: World
) -> None:
    a, b, c = (_ids(_order(world))[0] for _ in range(3))
    await api.patch(f"/order-units/{b}/fulfil")
    await api.patch(f"/order-units/{c}/cancel", json={"reason": "NoInventory"})
    r = await api.get("/order-units?status=open&status=cancelled")
    assert {u["id_order_unit"] for u in r.json()["data"]} == {a, c}
    r = await api.get("/order-units?status=need_to_be_sent,cancelled")
    assert {u["id_order_unit"] for u in r.json()["data"]} == {b, c}
    r = await api.get("/order-units?status[]=need_to_be_sent")
    assert [u["id_order_unit"] for u in r.json()["data"]] == [b]
    r = await api.get("/order-units?status=shipped")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "status"
    r = await api.get("/order-units", params={"sort": "ts_updated:desc"})
    assert r.status_code == 200 and r.json()["pagination"]["total"] == 3
    r = await api.get("/order-units", params={"sort": "price"})
    assert r.status_code == 400


async def test_order_unit_details_and_embeds(api: SignedClient, world: World) -> None:
    id_ou = _ids(_order(world))[0]
    r = await api.get(f"/order-units/{id_ou}", params={"embedded": "return_unit,tickets"})
    data = r.json()["data"]
    assert data["id_order_unit"] == id_ou and data["status"] == "open"
    assert "return_unit" not in data and data["tickets"] == []
    assert not any(k.startswith("_") for k in data)
    assert (await api.get("/order-units/999")).status_code == 404
    assert (await api.get("/order-units/abc")).status_code == 400


async def test_fulfil_send_and_extra_shipment(api: SignedClient, world: World) -> None:
    id_ou = _ids(_order(world))[0]
    r = await api.patch(
        f"/order-units/{id_ou}/send", json={"tracking_numbers": "1", "carrier_code": "DHL"}
    )
    assert r.status_code == 400  # still open
    r = await api.post(
        "/shipments",
        json={
            "id_order_unit": id_ou,
            "shipment_information": {"carrier_code": "DHL", "tracking_number": "9"},
        },
    )
    assert r.status_code == 400  # not sent yet
    assert (await api.patch(f"/order-units/{id_ou}/fulfil")).status_code == 204
    assert (await api.patch(f"/order-units/{id_ou}/fulfil")).status_code == 204  # idempotent
    r = await api.patch(
        f"/order-units/{id_ou}/send", json={"tracking_numbers": ["1"], "carrier_code": "DHL"}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "tracking_numbers"
    r = await api.patch(
        f"/order-units/{id_ou}/send", json={"tracking_numbers": "1", "carrier_code": "Acme"}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "carrier_code"
    r = await api.patch(
        f"/order-units/{id_ou}/send", json={"tracking_numbers": "0034,0035", "carrier_code": "DHL"}
    )
    assert r.status_code == 204 and r.content == b""
    assert (await api.get(f"/order-units/{id_ou}")).json()["data"]["status"] == "sent"
    r = await api.post(
        "/shipments",
        json={
            "id_order_unit": id_ou,
            "shipment_information": {"carrier_code": "DPD", "tracking_number": "9"},
        },
    )
    assert r.status_code == 204
    assert len(world.seller(CLIENT_KEY).table("shipments")) == 3
    r = await api.post("/shipments", json={"id_order_unit": id_ou})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "shipment_information"
    r = await api.patch(f"/order-units/{id_ou}/fulfil")
    assert r.status_code == 400


async def test_cancel_and_refund_validation(api: SignedClient, world: World) -> None:
    id_ou = _ids(_order(world))[0]
    r = await api.patch(f"/order-units/{id_ou}/cancel", json={"reason": "Bored"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "reason"
    r = await api.patch(f"/order-units/{id_ou}/cancel")
    assert r.status_code == 400
    r = await api.patch(f"/order-units/{id_ou}/refund", json={"amount": 100, "reason": "defect"})
    assert r.status_code == 400  # nothing shipped yet
    await api.patch(f"/order-units/{id_ou}/fulfil")
    await api.patch(
        f"/order-units/{id_ou}/send", json={"tracking_numbers": "1", "carrier_code": "GLS"}
    )
    r = await api.patch(f"/order-units/{id_ou}/cancel", json={"reason": "BuyerCancelled"})
    assert r.status_code == 400
    assert r.json()["type"] == "/problems/order-units/cancel-not-possible"
    for body, field in [
        ({"amount": 0, "reason": "defect"}, "amount"),
        ({"amount": "5", "reason": "defect"}, "amount"),
        ({"amount": 10**9, "reason": "defect"}, "amount"),
        ({"amount": 5, "reason": "sorry"}, "reason"),
        ({"amount": 5, "reason": "defect", "note": "x"}, "note"),
    ]:
        r = await api.patch(f"/order-units/{id_ou}/refund", json=body)
        assert r.status_code == 400, body
        assert r.json()["errors"][0]["field"] == field
    r = await api.patch(
        f"/order-units/{id_ou}/refund", json={"amount": 500, "reason": "delivery_delay"}
    )
    assert r.status_code == 204
    assert world.seller(CLIENT_KEY).table("order_units")[str(id_ou)]["_refunds"][0]["amount"] == 500


async def test_order_invoices_roundtrip(api: SignedClient, world: World) -> None:
    order = _order(world)
    pdf = base64.b64encode(b"%PDF-1.4 test invoice").decode()
    body = {"original_name": "invoice.pdf", "mime_type": "application/pdf", "data": pdf}
    r = await api.post(f"/order-invoices/{order['id_order']}", json=body)
    assert r.status_code == 201
    invoice = r.json()["data"]
    assert invoice["id_order"] == order["id_order"] and invoice["storefront"] == "de"
    assert invoice["is_marketplace_deemed_supplier"] is False
    assert "_data" not in invoice
    path = f"/order-invoices/{order['id_order']}/{invoice['id_invoice']}"
    assert (await api.get(path)).json()["data"] == invoice
    listing = (await api.get("/order-invoices", params={"storefront": "de"})).json()
    assert listing["data"] == [invoice]
    assert (await api.get("/order-invoices", params={"storefront": "cz"})).json()["data"] == []
    details = (await api.get(f"/orders/{order['id_order']}?embedded=order_invoices")).json()["data"]
    assert details["order_invoices"] == [invoice]
    assert (await api.delete(path)).status_code == 204
    assert (await api.get(path)).status_code == 404

    bad = {**body, "data": "not base64!"}
    r = await api.post(f"/order-invoices/{order['id_order']}", json=bad)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "data"
    r = await api.post(
        f"/order-invoices/{order['id_order']}", json={**body, "mime_type": "text/plain"}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "mime_type"
    r = await api.post("/order-invoices/NOPE999", json=body)
    assert r.status_code == 404
    assert (await api.get("/order-invoices?limit=101")).status_code == 400


async def test_playground_order(api: SignedClient, world: World) -> None:
    unit = available_units(world, "de")[0]
    body = {"data": [{"id_item_unit": str(unit["id_unit"]), "amount": 2}]}
    r = await api.post("/playground/orders", params={"storefront": "de"}, json=body)
    assert r.status_code == 201
    payload = r.json()
    assert payload["total"] == 1
    id_order = payload["data"][0]["id_order"]
    r = await api.get(f"/orders/{id_order}")
    assert len(r.json()["data"]["order_units"]) == 2

    r = await api.post("/playground/orders", json=body)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "storefront"
    too_many = {"data": [{"id_item_unit": str(unit["id_unit"]), "amount": 10_000}]}
    r = await api.post("/playground/orders", params={"storefront": "de"}, json=too_many)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "amount"


async def test_an_empty_property_name_is_reported_against_the_body(api: SignedClient) -> None:
    # Found by fuzzing: ``{"": ...}`` came back as an error with an empty ``field``.
    r = await api.post("/shipments", json={"": 1})
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == [{"field": "body", "message": "This field was not expected."}]
    # The same through the field-by-field reader (``Fields``), nested: the object is named.
    r = await api.post("/warehouses", json={"name": "W", "address": {"": 1}})
    assert r.status_code == 400, r.text
    assert {"field": "address", "message": "This field was not expected."} in r.json()["errors"]
