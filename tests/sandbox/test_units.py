"""``/units``: create, read, list, patch, delete and bulk, with Kaufland's rules."""

from __future__ import annotations

from typing import Any

import pytest

from kaufland_sync.sandbox.world import World
from tests.sandbox.conftest import CLIENT_KEY, FakeClock, SignedClient


def _product_ean(world: World, index: int = 0) -> str:
    products = [p for p in world.catalog["products"].values() if not p.get("_pending")]
    return str(products[index]["eans"][0])


def _unit(world: World, storefront: str = "de", **match: Any) -> dict[str, Any]:
    return next(
        u
        for u in world.sellers[CLIENT_KEY].table("units").values()
        if u["storefront"] == storefront and all(u[k] == v for k, v in match.items())
    )


def _new(ean: str, sku: str = "NEW-SKU", **extra: Any) -> dict[str, Any]:
    return {"ean": ean, "id_offer": sku, "listing_price": 1999, "handling_time": 2, **extra}


async def test_create_is_200_with_derived_fields(client: SignedClient, world: World) -> None:
    ean = _product_ean(world)
    response = await client.post("/units?storefront=pl", json=_new(ean, amount=5))
    assert response.status_code == 200
    unit = response.json()["data"]
    assert unit["status"] == "AVAILABLE"
    assert unit["currency"] == "PLN"
    assert unit["price"] == unit["listing_price"] == 1999
    assert unit["shipping_rate"] > 0
    assert unit["condition"] == "NEW" and unit["amount"] == 5
    assert "eco_participation" not in unit
    assert unit["date_inserted_iso"].endswith("Z")
    assert world.events[-1]["event_name"] == "item_unit_new"


async def test_create_validation_names_every_bad_field(client: SignedClient) -> None:
    response = await client.post(
        "/units?storefront=de",
        json={"listing_price": 0, "amount": 100000, "condition": "MINT", "colour": "red"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/validation-error"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "listing_price",
        "amount",
        "condition",
        "colour",
        "handling_time",
        "id_offer",
        "ean",
    }


async def test_max_listing_price_depends_on_the_currency(
    client: SignedClient, world: World
) -> None:
    ean = _product_ean(world)
    too_much = await client.post("/units?storefront=de", json=_new(ean, listing_price=100_000_001))
    assert too_much.json()["errors"][0]["field"] == "listing_price"
    fine_in_czk = await client.post(
        "/units?storefront=cz", json=_new(ean, listing_price=100_000_001)
    )
    assert fine_in_czk.status_code == 200


async def test_id_offer_is_unique_per_storefront_and_bound_to_one_ean(
    client: SignedClient, world: World
) -> None:
    ean, other_ean = _product_ean(world, 0), _product_ean(world, 1)
    assert (await client.post("/units?storefront=de", json=_new(ean))).status_code == 200
    again = await client.post("/units?storefront=de", json=_new(ean))
    assert again.status_code == 400
    assert again.json()["type"] == "/problems/already-exists"
    assert again.json()["errors"][0]["field"] == "id_offer"
    assert (await client.post("/units?storefront=cz", json=_new(ean))).status_code == 200
    conflict = await client.post("/units?storefront=pl", json=_new(other_ean))
    assert conflict.status_code == 400
    assert {e["field"] for e in conflict.json()["errors"]} == {"id_offer", "ean"}


async def test_unknown_ean_makes_an_incomplete_unit(client: SignedClient) -> None:
    response = await client.post("/units?storefront=de", json=_new("4006381333931"))
    unit = response.json()["data"]
    assert unit["status"] == "INCOMPLETE"
    assert unit["id_product"] > 0
    patch = await client.patch(
        f"/units/{unit['id_unit']}?storefront=de", json={"status": "AVAILABLE"}
    )
    assert patch.status_code == 400


async def test_references_must_exist(client: SignedClient, world: World) -> None:
    ean = _product_ean(world)
    de_group = next(
        g
        for g in world.sellers[CLIENT_KEY].table("shipping_groups").values()
        if g["storefront"] == "de"
    )
    response = await client.post(
        "/units?storefront=cz",
        json=_new(ean, id_shipping_group=de_group["id_shipping_group"], id_warehouse=1),
    )
    assert {e["field"] for e in response.json()["errors"]} == {"id_shipping_group", "id_warehouse"}


async def test_get_and_list_filters(client: SignedClient, world: World) -> None:
    unit = _unit(world)
    got = await client.get(f"/units/{unit['id_unit']}?storefront=de&embedded=products")
    assert got.json()["data"]["product"]["id_product"] == unit["id_product"]
    assert (await client.get(f"/units/{unit['id_unit']}?storefront=cz")).status_code == 404
    by_offer = (await client.get(f"/units?storefront=de&id_offer={unit['id_offer']}")).json()
    assert [u["id_unit"] for u in by_offer["data"]] == [unit["id_unit"]]
    ean = world.catalog["products"][str(unit["id_product"])]["eans"][0]
    by_ean = (await client.get(f"/units?storefront=de&ean={ean}")).json()["data"]
    assert [u["id_unit"] for u in by_ean] == [unit["id_unit"]]
    page = (await client.get("/units?storefront=de&limit=3&offset=2")).json()
    assert len(page["data"]) == 3
    assert page["pagination"]["offset"] == 2 and page["pagination"]["total"] > 3
    assert (await client.get("/units?storefront=de&limit=101")).status_code == 400
    assert (await client.get("/units")).status_code == 400


async def test_patch_changes_fields_and_emits_events(
    client: SignedClient, world: World, clock: FakeClock
) -> None:
    unit = _unit(world, status="AVAILABLE")
    unit["amount"] = 3
    clock.advance(3600)
    response = await client.patch(
        f"/units/{unit['id_unit']}?storefront=de",
        json={"amount": 0, "listing_price": 2500, "status": "ONHOLD", "note": None},
    )
    assert response.status_code == 200
    body = response.json()["data"]
    assert body["amount"] == 0 and body["price"] == 2500 and body["status"] == "ONHOLD"
    assert body["date_lastchange_iso"] == world.now_iso()
    names = [e["event_name"] for e in world.events[-2:]]
    assert names == ["item_unit_changed", "item_unit_out_of_stock"]
    bad = await client.patch(
        f"/units/{unit['id_unit']}?storefront=de", json={"status": "INCOMPLETE"}
    )
    assert bad.json()["errors"][0]["field"] == "status"
    unknown = await client.patch(f"/units/{unit['id_unit']}?storefront=de", json={"id_offer": "x"})
    assert unknown.json()["errors"][0]["field"] == "id_offer"


async def test_delete_is_204_and_emits(client: SignedClient, world: World) -> None:
    unit = _unit(world)
    response = await client.delete(f"/units/{unit['id_unit']}?storefront=de")
    assert response.status_code == 204
    assert str(unit["id_unit"]) not in world.sellers[CLIENT_KEY].table("units")
    assert world.events[-1]["event_name"] == "item_unit_deleted"
    assert (await client.delete(f"/units/{unit['id_unit']}?storefront=de")).status_code == 404


async def test_bulk_reports_each_unit(client: SignedClient, world: World) -> None:
    first, second = [
        u for u in world.sellers[CLIENT_KEY].table("units").values() if u["storefront"] == "de"
    ][:2]
    response = await client.post(
        "/units/bulk?storefront=de",
        json=[
            {"id_unit": first["id_unit"], "unit_data": {"amount": 11}},
            {"id_unit": second["id_unit"], "unit_data": {"amount": -1}},
            {"id_unit": 1, "unit_data": {"amount": 1}},
        ],
    )
    assert response.status_code == 207
    results = response.json()["data"]
    assert [r["status_code"] for r in results] == [200, 400, 404]
    assert results[0]["unit"]["amount"] == 11 and first["amount"] == 11
    assert results[1]["errors"][0]["field"] == "amount"


@pytest.mark.parametrize(
    ("items", "problem"),
    [
        (151, "/problems/units/bulk-too-many-units"),
        (2, "/problems/units/bulk-duplicate-units"),
    ],
)
async def test_bulk_refuses_oversized_or_duplicate_requests(
    client: SignedClient, world: World, items: int, problem: str
) -> None:
    unit = _unit(world)
    body = [{"id_unit": unit["id_unit"], "unit_data": {"amount": 1}}] * items
    response = await client.post("/units/bulk?storefront=de", json=body)
    assert response.status_code == 400
    assert response.json()["type"] == problem
