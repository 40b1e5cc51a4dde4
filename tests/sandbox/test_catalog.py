"""Catalogue routes: categories, attributes, products, product data and its review."""

from __future__ import annotations

import pytest

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox.seed import make_ean
from kaufland_sync.sandbox.world import World
from tests.sandbox.conftest import CLIENT_KEY, FakeClock, SignedClient


def _product(world: World) -> dict:  # type: ignore[type-arg]
    return next(p for p in world.catalog["products"].values() if not p.get("_pending"))


async def test_categories_need_a_storefront_and_cap_the_limit(client: SignedClient) -> None:
    missing = await client.get("/categories")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "storefront"
    too_many = await client.get("/categories?storefront=de&limit=101")
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["field"] == "limit"


async def test_category_list_filters_and_localizes(client: SignedClient) -> None:
    children = (await client.get("/categories?storefront=cz&id_parent=100")).json()
    assert children["pagination"]["total"] == 2
    assert all(c["id_parent_category"] == 100 for c in children["data"])
    found = (await client.get("/categories?storefront=pl&q=kosiark")).json()["data"]
    assert [c["name"] for c in found] == ["rasenmaeher"]
    assert found[0]["vat"] == 23
    assert found[0]["url"].startswith("https://www.kaufland.pl/")


async def test_category_tree_and_embeds(client: SignedClient) -> None:
    tree = (await client.get("/categories/tree?storefront=de")).json()["data"]
    assert tree["id_category"] == 1 and len(tree["children"]) == 7
    assert "is_leaf" not in tree
    leaf_id = tree["children"][0]["children"][0]["children"][0]["id_category"]
    one = await client.get(
        f"/categories/{leaf_id}?storefront=de&embedded=parent&embedded=required_attributes"
    )
    body = one.json()["data"]
    assert body["parent"]["id_category"] == tree["children"][0]["children"][0]["id_category"]
    assert "title" in {a["name"] for a in body["required_attributes"]}
    assert (await client.get("/categories/999?storefront=de")).json() == {
        "message": "Category 999 not found"
    }
    bad = await client.get(f"/categories/{leaf_id}?storefront=de&embedded=nope")
    assert bad.status_code == 400


async def test_decide_ranks_the_best_category_first(client: SignedClient) -> None:
    body = {
        "item": {"title": "Akku Rasenmäher 36V", "description": "Mähen", "manufacturer": "X"},
        "price": 299.0,
    }
    guesses = (await client.post("/categories/decide?storefront=de", json=body)).json()["data"]
    assert guesses[0]["name"] == "rasenmaeher"
    bad = await client.post("/categories/decide?storefront=de", json={"item": {}})
    assert {e["field"] for e in bad.json()["errors"]} == {"item.title", "price"}


async def test_attributes(client: SignedClient) -> None:
    listed = (await client.get("/attributes?storefront=de&limit=5")).json()
    assert len(listed["data"]) == 5 and listed["pagination"]["total"] == 20
    colour = (await client.get("/attributes/by-name/colour?storefront=de&locale=cs-CZ")).json()
    assert colour["data"]["title"] == "Barva"
    values = await client.get(f"/attributes/{colour['data']['id']}/shared-set?locale=de-DE&q=sch")
    assert values.json()["data"] == [{"label": "schwarz", "value": "schwarz"}]
    assert (await client.get("/attributes/search?storefront=de")).status_code == 400


async def test_products_by_ean_id_and_search(client: SignedClient, world: World) -> None:
    product = _product(world)
    ean = product["eans"][0]
    got = await client.get(f"/products/ean/{ean}?storefront=cz&embedded=category,units")
    data = got.json()["data"]
    assert data["id_product"] == product["id_product"]
    assert data["storefront"] == "cz" and data["category"]["vat"] == 21
    assert all(u["price"] > 0 for u in data["units"])
    assert (await client.get(f"/products/ean/{ean[:12]}?storefront=de")).status_code == 400
    assert (await client.get("/products/ean/4006381333931?storefront=de")).status_code == 404
    by_id = await client.get(f"/products/{product['id_product']}?storefront=de")
    assert by_id.json()["data"]["eans"] == product["eans"]
    search = (await client.get("/products/search?storefront=de&q=lego&limit=1")).json()
    assert search["pagination"]["total"] == 2 and len(search["data"]) == 1


async def test_product_data_review_creates_the_product_and_completes_units(
    client: SignedClient, world: World, clock: FakeClock
) -> None:
    world.config.review_delay = 60
    ean = make_ean(__import__("random").Random(1), prefix="43")
    created = await client.post(
        "/units?storefront=de",
        json={"ean": ean, "id_offer": "NEW-1", "listing_price": 1999, "handling_time": 1},
    )
    assert created.json()["data"]["status"] == "INCOMPLETE"
    attrs = {
        "title": ["Gardena Rasenmäher Testmodell"],
        "description": ["Leiser Akku-Rasenmäher."],
        "picture": ['{"url":"https://example.com/m.jpg","alt_text":"m"}'],
        "manufacturer": ["Gardena"],
    }
    put = await client.put("/product-data?locale=de-DE", json={"ean": [ean], "attributes": attrs})
    assert put.status_code == 200
    status = (await client.get(f"/product-data/status/{ean}?locale=de-DE")).json()["data"]
    assert status["update_status"] == "PENDING"
    assert status["product_not_ready_reason"] == "NOT_YET_PROCESSED"
    clock.advance(61)
    status = (await client.get(f"/product-data/status/{ean}?locale=de-DE")).json()["data"]
    # Rasenmäher needs a material: the review fails and names it.
    assert status["update_status"] == "FAIL"
    assert status["missing_attributes"] == ["material"]
    patch = await client.patch(
        "/product-data?locale=de-DE", json={"ean": [ean], "attributes": {"material": ["Metall"]}}
    )
    assert patch.json()["data"]["attributes"]["title"] == attrs["title"]
    clock.advance(61)
    status = (await client.get(f"/product-data/status/{ean}?locale=de-DE")).json()["data"]
    assert status["update_status"] == "SUCCESS" and status["product_ready"] is True
    unit = (await client.get("/units?storefront=de&id_offer=NEW-1")).json()["data"][0]
    assert unit["status"] == "AVAILABLE"
    assert unit["id_product"] == status["id_product"]
    product = (await client.get(f"/products/ean/{ean}?storefront=de")).json()["data"]
    assert product["main_picture"] == "https://example.com/m.jpg"
    assert any(e["event_name"] == "item_unit_changed" for e in world.events)


async def test_product_data_validation_get_and_delete(client: SignedClient) -> None:
    no_locale = await client.put("/product-data", json={"ean": ["x"], "attributes": {}})
    assert no_locale.json()["errors"][0]["field"] == "locale"
    bad = await client.put(
        "/product-data?locale=de-DE", json={"ean": ["4006381333932"], "attributes": {"title": "x"}}
    )
    assert {e["field"] for e in bad.json()["errors"]} == {"ean[0]", "attributes.title"}
    ean = "4006381333931"
    await client.put("/product-data?locale=de-DE", json={"ean": [ean], "attributes": {}})
    assert (await client.get(f"/product-data/{ean}?locale=de-DE")).status_code == 200
    assert (await client.get(f"/product-data/{ean}?locale=cs-CZ")).status_code == 404
    assert (await client.delete(f"/product-data/{ean}?locale=de-DE")).status_code == 200
    assert (await client.get(f"/product-data/{ean}?locale=de-DE")).json() == {
        "message": f"Product data for EAN {ean} not found"
    }


async def test_product_data_import_files(client: SignedClient) -> None:
    created = await client.post(
        "/product-data/import-files", json={"url": "https://example.com/feed.csv"}
    )
    assert created.status_code == 200
    id_ = created.json()["data"]["id_import_file"]
    assert (
        (await client.get(f"/product-data/import-files/{id_}"))
        .json()["data"]["uri"]
        .endswith("feed.csv")
    )
    listed = (await client.get("/product-data/import-files")).json()
    assert listed["pagination"]["total"] == 1
    for _ in range(29):
        await client.post("/product-data/import-files", json={"url": "https://example.com/f"})
    locked = await client.post("/product-data/import-files", json={"url": "https://example.com/f"})
    assert locked.status_code == 423


@pytest.mark.parametrize(
    ("path", "key"),
    [("/info/storefront", None), ("/info/locale", None), ("/carriers", "carriers")],
)
async def test_info_and_carriers(client: SignedClient, path: str, key: str | None) -> None:
    body = (await client.get(path)).json()["data"]
    assert body[key] if key else body


async def test_vat_indicators(client: SignedClient) -> None:
    body = (await client.get("/info/vat-indicators?storefront=pl")).json()["data"]
    assert body[0]["storefront"] == "pl"
    assert {"vat_indicator": "standard_rate", "value": 23} in body[0]["vat_rates"]


async def test_shipping_groups_and_warehouses(client: SignedClient, world: World) -> None:
    groups = (await client.get("/shipping-groups?storefront=cz")).json()["data"]
    assert {g["currency"] for g in groups} == {"CZK"}
    assert (
        await client.get(f"/shipping-groups/{groups[0]['id_shipping_group']}?storefront=de")
    ).status_code == 404
    body = {
        "name": "Lager Nord",
        "address": {
            "street": "Hafenstr.",
            "house_number": "1",
            "postcode": "20457",
            "city": "Hamburg",
            "country": "de",
        },
        "is_default": True,
    }
    created = await client.post("/warehouses", json=body)
    assert created.status_code == 201
    new = created.json()["data"]
    assert new["is_default"] and new["address"]["country"] == "DE"
    listed = (await client.get("/warehouses")).json()["data"]
    assert sum(w["is_default"] for w in listed) == 1
    assert (await client.delete(f"/warehouses/{new['id_warehouse']}")).json()["type"] == (
        "/problems/default-required"
    )
    old_default = next(
        w for w in listed if w["id_warehouse"] != new["id_warehouse"] and w["type"] == "normal"
    )
    in_use = await client.delete(f"/warehouses/{old_default['id_warehouse']}")
    assert in_use.json()["type"] == "/problems/has-units"
    body["is_default"] = False
    body["name"] = "x"
    assert (await client.put(f"/warehouses/{new['id_warehouse']}", json=body)).status_code == 400
    invalid = await client.post("/warehouses", json={"name": "", "address": {}})
    fields = {e["field"] for e in invalid.json()["errors"]}
    assert {"name", "is_default", "address.street", "address.country"} <= fields
    default = catalog.default_warehouse(world.sellers[CLIENT_KEY])
    assert default is not None and default["id_warehouse"] == new["id_warehouse"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/products/abc?storefront=de", "id_product"),
        ("/products/1.5?storefront=de", "id_product"),
        ("/categories/null?storefront=de", "id_category"),
        ("/attributes/x1?storefront=de", "id_attribute"),
        ("/attributes/-3/shared-set?locale=de-DE", "id_attribute"),
        ("/attributes/abc/shared-set-values?locale=de-DE", "id_attribute"),
        ("/product-data/import-files/1e3", "id_import_file"),
    ],
)
async def test_catalogue_ids_that_are_not_integers_are_400s(
    client: SignedClient, path: str, field: str
) -> None:
    # Found by fuzzing: these used to fall through to the router's generic ErrorResponse 404,
    # which these operations do not document (their 404 is the bare NotFoundResponse).
    r = await client.get(path)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == field


async def test_unknown_catalogue_ids_are_bare_404s(client: SignedClient) -> None:
    for path in ("/products/999999999?storefront=de", "/categories/999999?storefront=de"):
        r = await client.get(path)
        assert r.status_code == 404, r.text
        assert set(r.json()) == {"message"}
