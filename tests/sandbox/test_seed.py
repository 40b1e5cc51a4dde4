"""The seeded worlds: valid EANs, a three-level category tree, deterministic content."""

from __future__ import annotations

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox.seed import carriers, seed_world
from kaufland_sync.sandbox.world import World
from tests.sandbox.conftest import CLIENT_KEY, OTHER_KEY, FakeClock, make_config


def _world(kind: str) -> World:
    world = World(make_config(), clock=FakeClock())
    seed_world(world, kind)
    return world


def test_every_ean_is_a_valid_gtin() -> None:
    world = _world("demo")
    eans = [e for p in world.catalog["products"].values() for e in p["eans"]]
    assert len(eans) >= 60
    assert all(len(e) == 13 and catalog.is_valid_gtin(e) for e in eans)
    assert len(set(eans)) == len(eans)
    assert catalog.gtin_check_digit("400638133393") == 1  # a known real EAN: 4006381333931


def test_the_category_tree_has_three_levels_with_fees_and_required_attributes() -> None:
    world = _world("empty")
    cats = world.catalog["categories"].values()
    assert {c["level"] for c in cats} == {0, 1, 2, 3}
    leaves = [c for c in cats if c["is_leaf"]]
    assert leaves and all(c["level"] == 3 for c in leaves)
    names = {a["name"] for a in world.catalog["attributes"].values()}
    for leaf in leaves:
        assert leaf["variable_fee"] > 0
        assert set(leaf["_required"]) <= names
        assert {"title", "description", "picture", "manufacturer"} <= set(leaf["_required"])


def test_empty_has_reference_data_and_defaults_but_no_offers() -> None:
    world = _world("empty")
    assert world.catalog["products"] == {}
    for seller in world.sellers.values():
        assert seller.table("units") == {}
        assert len(seller.table("warehouses")) == 1
        groups = seller.table("shipping_groups").values()
        assert {g["storefront"] for g in groups} == set(seller.storefronts)
        assert all(g["is_default"] for g in groups)


def test_demo_units_cover_storefronts_statuses_and_currencies() -> None:
    world = _world("demo")
    units = list(world.sellers[CLIENT_KEY].table("units").values())
    assert {u["storefront"] for u in units} == {"de", "cz", "pl"}
    assert {u["status"] for u in units} == {"AVAILABLE", "ONHOLD", "INCOMPLETE"}
    assert {u["currency"] for u in units if u["storefront"] == "cz"} == {"CZK"}
    assert any(u["amount"] == 0 for u in units)
    # One SKU, one product, whatever the storefront.
    by_sku: dict[str, set[int]] = {}
    for unit in units:
        by_sku.setdefault(unit["id_offer"], set()).add(unit["id_product"])
    assert all(len(ids) == 1 for ids in by_sku.values())
    # The second seller only has de and cz configured.
    assert {u["storefront"] for u in world.sellers[OTHER_KEY].table("units").values()} <= {
        "de",
        "cz",
    }


def test_seeding_is_deterministic() -> None:
    assert _world("demo").to_json() == _world("demo").to_json()


def test_carriers_flag_haulers() -> None:
    listed = {c["name"]: c["isHauler"] for c in carriers()}
    assert listed["DHL"] is False
    assert listed["Cargo International"] is True
    assert listed["Post Italiane"] is False
