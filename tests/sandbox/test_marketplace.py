"""The marketplace's functions, driven directly on a seeded World with a fake clock."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kaufland_sync.sandbox import marketplace as m
from kaufland_sync.sandbox._http import Problem
from kaufland_sync.sandbox.seed import seed_world
from kaufland_sync.sandbox.world import SandboxConfig, World
from tests.sandbox._market import available_units
from tests.sandbox.conftest import CLIENT_KEY, FakeClock, make_config


@pytest.fixture
def config() -> SandboxConfig:
    return make_config(open_delay=900.0)


def _units(world: World, id_order: str) -> list[dict[str, Any]]:
    order = world.seller(CLIENT_KEY).table("orders")[id_order]
    return [world.seller(CLIENT_KEY).table("order_units")[str(i)] for i in order["_order_unit_ids"]]


def _sent_unit(world: World) -> dict[str, Any]:
    unit = available_units(world)[0]
    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 1)])
    ou = _units(world, order["id_order"])[0]
    m.fulfil_order_unit(world, CLIENT_KEY, ou["id_order_unit"])
    m.send_order_unit(world, CLIENT_KEY, ou["id_order_unit"], "00340434161094042557", "DHL")
    return ou


def test_place_order_creates_one_order_unit_per_piece_and_takes_stock(world: World) -> None:
    unit = next(u for u in available_units(world) if int(u["amount"]) >= 3)
    before = int(unit["amount"])
    world.events.clear()

    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 3)])

    assert re.fullmatch(r"[A-Z][A-Z0-9]{6}", order["id_order"])
    assert order["order_units_count"] == 3
    units = _units(world, order["id_order"])
    assert len(units) == 3
    assert {u["status"] for u in units} == {"open"}
    assert unit["amount"] == before - 3
    first = units[0]
    assert first["currency"] == "EUR" and first["storefront"] == "de"
    assert first["price"] == unit["price"]
    assert first["billing_address"] is None and first["shipping_address"] is None
    assert first["buyer"]["email"] is None  # hidden while open
    assert first["product"]["id_product"] == unit["id_product"]
    assert first["vat"] == 19
    assert first["unit_condition"] == "new"
    # shipping is charged once per line; revenue is price + shipping minus commission
    assert [u["shipping_rate"] for u in units] == [unit["shipping_rate"], 0, 0]
    assert all(0 < int(u["revenue_net"]) < int(u["revenue_gross"]) for u in units)
    assert int(first["revenue_gross"]) < int(first["price"]) + int(first["shipping_rate"])
    names = [e["event_name"] for e in world.events]
    assert names == [
        "order_new",
        "order_unit_new",
        "order_unit_new",
        "order_unit_new",
        "item_unit_changed",
    ]
    assert world.events[0]["resource"] == f"/v2/orders/{order['id_order']}"
    assert world.events[-1]["payload"]["amount"] == before - 3


def test_order_ids_are_unique(world: World) -> None:
    ids = m.random_orders(world, CLIENT_KEY, 30, storefront="de")
    assert len(ids) == len(set(ids)) == 30


def test_ordering_more_than_stock_is_refused_and_changes_nothing(world: World) -> None:
    unit = available_units(world)[0]
    amount = int(unit["amount"])
    with pytest.raises(Problem) as caught:
        m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), amount + 1)])
    assert caught.value.status == 400
    assert caught.value.errors[0][0] == "amount"
    assert unit["amount"] == amount
    assert world.seller(CLIENT_KEY).table("orders") == {}


@pytest.mark.parametrize("case", ["unknown", "other_storefront", "on_hold"])
def test_ordering_a_unit_that_cannot_be_bought_is_refused(world: World, case: str) -> None:
    units = world.seller(CLIENT_KEY).table("units")
    if case == "unknown":
        id_unit = 1
    elif case == "other_storefront":
        id_unit = int(available_units(world, "cz")[0]["id_unit"])
    else:
        id_unit = int(next(u for u in units.values() if u["status"] == "ONHOLD")["id_unit"])
    with pytest.raises(Problem) as caught:
        m.place_order(world, CLIENT_KEY, "de", [(id_unit, 1)])
    assert caught.value.errors[0][0] == "data[0].id_item_unit"


def test_selling_the_last_piece_emits_out_of_stock(world: World) -> None:
    unit = available_units(world)[0]
    world.events.clear()
    m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), int(unit["amount"]))])
    assert unit["amount"] == 0
    assert world.events[-1]["event_name"] == "item_unit_out_of_stock"


def test_open_units_move_to_need_to_be_sent_after_the_delay(world: World, clock: FakeClock) -> None:
    unit = available_units(world)[0]
    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 1)])
    ou = _units(world, order["id_order"])[0]
    world.events.clear()

    clock.advance(899)
    m.tick(world)
    assert ou["status"] == "open"

    clock.advance(1)
    m.tick(world)
    assert ou["status"] == "need_to_be_sent"
    assert ou["shipping_address"]["country"] == "DE"
    assert ou["billing_address"] == ou["shipping_address"]
    assert "@" in ou["buyer"]["email"]
    assert ou["ts_updated_iso"] != ou["ts_created_iso"]
    assert [e["event_name"] for e in world.events] == ["order_unit_status_changed"]
    view = m.order_view(
        world, world.seller(CLIENT_KEY), world.seller(CLIENT_KEY).table("orders")[order["id_order"]]
    )
    assert view["shipping_address"] == ou["shipping_address"]


def test_pending_transitions_survive_a_reload(world: World, clock: FakeClock) -> None:
    unit = available_units(world)[0]
    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 1)])
    saved = world.to_json()
    reloaded = World(make_config(open_delay=900.0), clock=clock)
    reloaded.load_json(saved)
    clock.advance(1000)
    m.tick(reloaded)
    ou = _units(reloaded, order["id_order"])[0]
    assert ou["status"] == "need_to_be_sent"


def test_fulfil_releases_at_once_and_send_needs_tracking(world: World) -> None:
    unit = available_units(world)[0]
    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 1)])
    ou = _units(world, order["id_order"])[0]
    with pytest.raises(Problem):  # still open: addresses unknown, cannot ship
        m.send_order_unit(world, CLIENT_KEY, ou["id_order_unit"], "123", "DHL")
    m.fulfil_order_unit(world, CLIENT_KEY, ou["id_order_unit"])
    assert ou["status"] == "need_to_be_sent"
    with pytest.raises(Problem) as caught:
        m.send_order_unit(world, CLIENT_KEY, ou["id_order_unit"], "", "DHL")
    assert caught.value.errors == [("tracking_numbers", "This value should not be blank.")]
    with pytest.raises(Problem) as caught:
        m.send_order_unit(world, CLIENT_KEY, ou["id_order_unit"], "123", "dhl")
    assert caught.value.errors[0][0] == "carrier_code"
    m.send_order_unit(world, CLIENT_KEY, ou["id_order_unit"], "111, 222", "DHL")
    assert ou["status"] == "sent"
    shipments = world.seller(CLIENT_KEY).table("shipments")
    assert sorted(s["tracking_number"] for s in shipments.values()) == ["111", "222"]
    with pytest.raises(Problem) as caught:
        m.send_order_unit(world, CLIENT_KEY, ou["id_order_unit"], "333", "DHL")
    assert caught.value.type == "/problems/duplicate-action"


def test_other_carrier_needs_no_tracking(world: World) -> None:
    unit = available_units(world)[0]
    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 1)])
    ou = _units(world, order["id_order"])[0]
    m.fulfil_order_unit(world, CLIENT_KEY, ou["id_order_unit"])
    m.send_order_unit(world, CLIENT_KEY, ou["id_order_unit"], "", "Other")
    assert ou["status"] == "sent"


def test_cancel_restores_stock_and_is_refused_once_sent(world: World) -> None:
    unit = available_units(world)[0]
    amount = int(unit["amount"])
    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 1)])
    ou = _units(world, order["id_order"])[0]
    m.cancel_order_unit(world, CLIENT_KEY, ou["id_order_unit"], "NoInventory")
    assert ou["status"] == "cancelled" and ou["cancel_reason"] == "NoInventory"
    assert unit["amount"] == amount
    m.tick(world)  # a cancelled unit is not released later
    assert ou["status"] == "cancelled"

    sent = _sent_unit(world)
    with pytest.raises(Problem) as caught:
        m.cancel_order_unit(world, CLIENT_KEY, sent["id_order_unit"], "BuyerCancelled")
    assert caught.value.type == m.CANCEL_NOT_POSSIBLE


def test_refunds_are_capped_by_what_was_paid(world: World) -> None:
    ou = _sent_unit(world)
    paid = int(ou["price"]) + int(ou["shipping_rate"])
    m.refund_order_unit(world, CLIENT_KEY, ou["id_order_unit"], 100, "delivery_delay")
    with pytest.raises(Problem) as caught:
        m.refund_order_unit(world, CLIENT_KEY, ou["id_order_unit"], paid, "defect")
    assert caught.value.errors[0][0] == "amount"
    assert m.refundable(ou) == paid - 100
    assert ou["status"] == "sent"


def test_delivery_return_and_refund_path(world: World) -> None:
    ou = _sent_unit(world)
    m.mark_delivered(world, CLIENT_KEY, ou["id_order_unit"])
    assert ou["status"] == "received" and ou["order_received_timestamp_iso"]

    world.events.clear()
    ret = m.open_return(world, CLIENT_KEY, ou["id_order_unit"], "defect")
    assert ret["status"] == "return_requested"
    assert [e["event_name"] for e in world.events] == ["return_new"]
    ru = world.seller(CLIENT_KEY).table("return_units")[str(ret["_return_unit_ids"][0])]
    assert ru["status"] == "need_to_be_returned" and ru["reason"] == "defect"

    with pytest.raises(Problem) as caught:  # cannot repair what is not back yet
        m.repair_return_unit(world, CLIENT_KEY, ru["id_return_unit"])
    assert caught.value.type == m.RETURN_UNIT_WRONG_STATUS
    with pytest.raises(Problem):  # one return per unit
        m.open_return(world, CLIENT_KEY, ou["id_order_unit"])

    m.mark_return_arrived(world, CLIENT_KEY, ru["id_return_unit"])
    assert ret["status"] == "package_received"
    m.repair_return_unit(world, CLIENT_KEY, ru["id_return_unit"])
    m.accept_return_unit(world, CLIENT_KEY, ru["id_return_unit"])
    assert ru["status"] == "return_accepted"
    assert ou["status"] == "returned"
    m.refund_order_unit(world, CLIENT_KEY, ou["id_order_unit"], int(ou["price"]), "other_refund")
    assert ou["status"] == "returned_paid"
    m.close_return_unit(world, CLIENT_KEY, ru["id_return_unit"])
    assert ru["status"] == "return_closed"
    with pytest.raises(Problem) as caught:  # decided and closed: nothing more to decide
        m.reject_return_unit(world, CLIENT_KEY, ru["id_return_unit"], "Too late")
    assert caught.value.type == m.RETURN_UNIT_WRONG_STATUS


def test_reject_opens_a_ticket_to_the_buyer(world: World) -> None:
    ou = _sent_unit(world)
    ret = m.open_return(world, CLIENT_KEY, ou["id_order_unit"])
    id_ru = ret["_return_unit_ids"][0]
    m.mark_return_arrived(world, CLIENT_KEY, id_ru)
    m.reject_return_unit(world, CLIENT_KEY, id_ru, "The seal is broken.")
    tickets = list(world.seller(CLIENT_KEY).table("tickets").values())
    assert len(tickets) == 1
    assert tickets[0]["ids_order_units"] == [ou["id_order_unit"]]
    assert re.fullmatch(r"001\d+", tickets[0]["id_ticket"])


def test_returns_need_a_sent_unit(world: World) -> None:
    unit = available_units(world)[0]
    order = m.place_order(world, CLIENT_KEY, "de", [(int(unit["id_unit"]), 1)])
    ou = _units(world, order["id_order"])[0]
    with pytest.raises(Problem):
        m.open_return(world, CLIENT_KEY, ou["id_order_unit"])


def test_random_orders_buy_only_available_stock(world: World) -> None:
    units = world.seller(CLIENT_KEY).table("units")
    frozen = {k: (u["status"], u["amount"]) for k, u in units.items() if u["status"] != "AVAILABLE"}
    ids = m.random_orders(world, CLIENT_KEY, 10)
    assert len(ids) == 10
    assert {k: (u["status"], u["amount"]) for k, u in units.items() if k in frozen} == frozen
    assert all(int(u["amount"]) >= 0 for u in units.values())
    orders = world.seller(CLIENT_KEY).table("orders")
    assert all(orders[i]["storefront"] in ("de", "cz", "pl") for i in ids)


def test_random_orders_stop_when_everything_is_sold(clock: FakeClock) -> None:
    world = World(make_config(), clock=clock)
    seed_world(world, "empty")
    assert m.random_orders(world, CLIENT_KEY, 5) == []
