"""The living marketplace: buyers order, order units move through their states, returns open.

Plain functions over a ``World``; the ``/v2`` routes and the control API call them. Errors are
raised as ``Problem`` so a route can let them through unchanged.

Order-unit life cycle (REFERENCE §5; the timing is ours, Kaufland documents only the names):

* ``open`` — just bought; buyer e-mail and addresses are hidden (null) like Kaufland does for
  about 15 minutes. After ``config.open_delay`` seconds ``tick`` moves it on.
* ``need_to_be_sent`` — addresses visible; also reached at once through ``fulfil``.
* ``sent`` — the seller called ``send``; then ``received`` (``mark_delivered``) or
  ``sent_and_autopaid`` (``mark_autopaid``).
* ``cancelled`` — from ``open`` or ``need_to_be_sent`` only; the stock comes back.
* ``returned`` — its return unit was accepted; ``returned_paid`` after a refund.

Return units: ``need_to_be_returned`` → ``return_arrived`` → ``return_accepted`` /
``return_rejected`` / ``return_in_clarification`` / ``return_in_repair`` → ``return_closed``.

Internal fields (``_``-prefixed, never sent) keep what Kaufland hides or does not expose: the
real addresses, the unit an order unit came from, refunds, shipments.
"""

from __future__ import annotations

import functools
import heapq
import json
import random
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox._http import (
    ACTION_NOT_ALLOWED,
    CURRENCY,
    DUPLICATE_ACTION,
    Problem,
    not_found,
    validation,
)
from kaufland_sync.sandbox.world import Record, Seller, World, iso, public

__all__ = [
    "CANCEL_NOT_POSSIBLE",
    "CANCEL_REASONS",
    "NO_TRACKING_CARRIERS",
    "ORDER_UNIT_STATUSES",
    "REFUNDABLE_STATUSES",
    "REFUND_REASONS",
    "RETURN_REASONS",
    "RETURN_STATUSES",
    "RETURN_UNIT_STATUSES",
    "RETURN_UNIT_WRONG_STATUS",
    "SENT_STATUSES",
    "TICKET_ID_START",
    "TOPIC_FOR_REASON",
    "accept_return_unit",
    "add_return_units",
    "add_shipment",
    "add_ticket_message",
    "cancel_order_unit",
    "carrier_names",
    "clarify_return_unit",
    "close_return_unit",
    "fulfil_order_unit",
    "initiate_return",
    "mark_autopaid",
    "mark_delivered",
    "mark_return_arrived",
    "open_buyer_ticket",
    "open_return",
    "open_ticket",
    "order_unit_view",
    "order_view",
    "place_order",
    "random_orders",
    "refund_order_unit",
    "refundable",
    "reject_return_unit",
    "repair_return_unit",
    "return_view",
    "rng_for",
    "send_order_unit",
    "tick",
]

CANCEL_NOT_POSSIBLE = "/problems/order-units/cancel-not-possible"
RETURN_UNIT_WRONG_STATUS = "/problems/returns/unit-wrong-status"

ORDER_UNIT_STATUSES = (
    "cancelled",
    "need_to_be_sent",
    "open",
    "received",
    "returned",
    "returned_paid",
    "sent",
    "sent_and_autopaid",
)
SENT_STATUSES = ("sent", "received", "sent_and_autopaid")
CANCEL_REASONS = (
    "BuyerCancelled",
    "ShippingAddressUndeliverable",
    "WrongCatalogData",
    "GeneralAdjustment",
    "MerchandiseNotReceived",
    "NoInventory",
    "DelayedInventory",
    "WrongPrice",
    "NoReactionBuyer",
    "UndeliverableRegion",
)
REFUND_REASONS = (
    "delivery_damage",
    "delivery_delay",
    "incomplete_delivery",
    "incorrect_delivery",
    "refund_postage_fee",
    "defect",
    "other_refund",
    "refund_return_postage_fee",
)
RETURN_REASONS = (
    "accidentally_ordered",
    "bad_quality",
    "better_price",
    "defect",
    "delivered_damaged",
    "dislike",
    "misleading_description",
    "missing_parts",
    "no_reason",
    "too_late",
    "wrong_article",
    "wrong_size",
)
RETURN_STATUSES = (
    "return_requested",
    "label_generated",
    "package_sent",
    "package_received",
    "label_deleted",
)
RETURN_UNIT_STATUSES = (
    "need_to_be_returned",
    "return_arrived",
    "return_accepted",
    "return_rejected",
    "return_closed",
    "return_in_repair",
    "return_in_clarification",
)
# Order-unit statuses a refund may be given in (before shipping, the seller cancels instead).
REFUNDABLE_STATUSES = ("sent", "received", "sent_and_autopaid", "returned", "returned_paid")

# Used when the packaged carrier list (data/carriers.json, shared with GET /carriers) is missing.
_FALLBACK_CARRIERS = (
    "Other",
    "Other Hauler",
    "DHL",
    "DPD",
    "GLS",
    "Hermes",
    "UPS",
    "PPL",
    "InPost",
)
NO_TRACKING_CARRIERS = ("Other", "Other Hauler")

TICKET_ID_START = 1_000_000
TOPIC_FOR_REASON = {
    "product_not_as_described": "product_properties",
    "product_defect": "order_product_defect",
    "product_not_delivered": "delivery_not_received",
    "product_return": "return_check_status",
    "contact_other": "other_question",
}


# ---------------------------------------------------------------------------------------------
# per-world runtime state (not persisted: rebuilt from the records on first use)


@dataclass
class _State:
    rng: random.Random
    # (due epoch seconds, client_key, id_order_unit) of open units waiting for `need_to_be_sent`
    pending: list[tuple[float, str, str]] = field(default_factory=list)


_INDEX = "marketplace"


def _state(world: World) -> _State:
    """The marketplace's derived state, kept in ``world.indexes`` so that replacing the tables
    (state file load, reset) drops it; it is then rebuilt from the records."""
    state = world.indexes.get(_INDEX)
    if isinstance(state, _State):
        return state
    state = _State(rng=random.Random(world.config.random_seed))
    for key, seller in world.sellers.items():
        for ou in seller.table("order_units").values():
            if ou["status"] == "open":
                due = float(ou.get("_open_until", world.now()))
                state.pending.append((due, key, str(ou["id_order_unit"])))
    heapq.heapify(state.pending)
    world.indexes[_INDEX] = state
    return state


def rng_for(world: World) -> random.Random:
    """The marketplace's random source for a world (seeded by ``config.random_seed``)."""
    return _state(world).rng


def tick(world: World) -> None:
    """Apply every time-driven transition that is due. O(due items · log n): cheap enough to
    run before each request."""
    state = _state(world)
    now = world.now()
    while state.pending and state.pending[0][0] <= now:
        _, key, id_ou = heapq.heappop(state.pending)
        seller = world.sellers.get(key)
        ou = seller.table("order_units").get(id_ou) if seller else None
        if seller is None or ou is None or ou["status"] != "open":
            continue  # fulfilled or cancelled meanwhile
        _release(world, seller, ou, "need_to_be_sent")


# ---------------------------------------------------------------------------------------------
# helpers


def _seller(world: World, client_key: str) -> Seller:
    try:
        return world.seller(client_key)
    except KeyError:
        raise Problem(404, "/problems/not-found", f"Seller {client_key} not found") from None


def _order_unit(seller: Seller, id_order_unit: int | str) -> Record:
    ou = seller.table("order_units").get(str(id_order_unit))
    if ou is None:
        raise not_found("Order unit", id_order_unit)
    return ou


def _return_unit(seller: Seller, id_return_unit: int | str) -> Record:
    ru = seller.table("return_units").get(str(id_return_unit))
    if ru is None:
        raise not_found("Return unit", id_return_unit)
    return ru


@functools.cache
def _packaged_carriers() -> frozenset[str]:
    try:
        text = (
            resources.files("kaufland_sync.sandbox")
            .joinpath("data/carriers.json")
            .read_text("utf-8")
        )
        data = json.loads(text)
        names = {str(n) for n in data.get("carriers", [])} | {
            str(n) for n in data.get("haulers", [])
        }
    except (OSError, ValueError, AttributeError):
        names = set()
    return frozenset(names or _FALLBACK_CARRIERS)


def carrier_names(world: World) -> frozenset[str]:
    """Valid ``carrier_code`` values (case-sensitive carrier names, as ``GET /carriers`` lists)."""
    del world  # one list for everybody; the parameter keeps room for per-world lists
    return _packaged_carriers()


def _touch_order(world: World, seller: Seller, id_order: str) -> None:
    order = seller.table("orders").get(id_order)
    if order is not None:
        order["ts_units_updated_iso"] = world.now_iso()


def _set_status(world: World, seller: Seller, ou: Record, status: str) -> None:
    ou["status"] = status
    ou["ts_updated_iso"] = world.now_iso()
    ou["_ts_updated"] = world.now()
    _touch_order(world, seller, ou["id_order"])
    world.emit(
        seller.client_key,
        "order_unit_status_changed",
        f"/v2/order-units/{ou['id_order_unit']}",
        ou["storefront"],
    )


def _release(world: World, seller: Seller, ou: Record, status: str) -> None:
    """Leave ``open``: show buyer e-mail and addresses, then change status."""
    ou["billing_address"] = ou.get("_billing_address")
    ou["shipping_address"] = ou.get("_shipping_address")
    if ou.get("buyer") is not None:
        ou["buyer"]["email"] = ou.get("_buyer_email")
    _set_status(world, seller, ou, status)


def _unit_event(world: World, seller: Seller, unit: Record, event: str) -> None:
    world.emit(
        seller.client_key,
        event,
        f"/v2/units/{unit['id_unit']}",
        unit.get("storefront"),
        payload={
            "id_unit": unit["id_unit"],
            "id_offer": unit.get("id_offer"),
            "id_product": unit.get("id_product"),
            "amount": unit.get("amount"),
            "price": unit.get("price", unit.get("listing_price")),
            "status": unit.get("status"),
        },
    )


def _change_stock(world: World, seller: Seller, unit: Record, delta: int) -> None:
    before = int(unit.get("amount") or 0)
    after = max(0, before + delta)
    unit["amount"] = after
    unit["date_lastchange_iso"] = world.now_iso()
    if after == 0 and before > 0:
        _unit_event(world, seller, unit, "item_unit_out_of_stock")
    else:
        _unit_event(world, seller, unit, "item_unit_changed")


# ---------------------------------------------------------------------------------------------
# buyers and addresses (invented, realistic per country)

_PEOPLE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "de": (("Anna", "Lukas", "Marie", "Jonas", "Lea", "Felix"), ("Müller", "Schmidt", "Weber")),
    "at": (("Lena", "Tobias", "Sophie", "Florian"), ("Gruber", "Huber", "Wagner", "Pichler")),
    "cz": (("Jana", "Petr", "Tereza", "Jakub"), ("Novák", "Svoboda", "Dvořák", "Černý")),
    "sk": (("Zuzana", "Martin", "Katarína", "Peter"), ("Horváth", "Kováč", "Varga", "Tóth")),
    "pl": (("Agnieszka", "Piotr", "Katarzyna", "Tomasz"), ("Nowak", "Kowalski", "Wiśniewski")),
    "fr": (("Camille", "Louis", "Chloé", "Hugo"), ("Martin", "Bernard", "Dubois", "Moreau")),
    "it": (("Giulia", "Marco", "Francesca", "Luca"), ("Rossi", "Russo", "Ferrari", "Esposito")),
}
_PLACES: dict[str, tuple[tuple[str, str, str], ...]] = {
    # (street, postcode, city)
    "de": (("Hauptstraße", "10115", "Berlin"), ("Rheinallee", "50667", "Köln")),
    "at": (("Mariahilfer Straße", "1060", "Wien"), ("Herrengasse", "8010", "Graz")),
    "cz": (("Vinohradská", "12000", "Praha"), ("Masarykova", "60200", "Brno")),
    "sk": (("Obchodná", "81106", "Bratislava"), ("Hlavná", "04001", "Košice")),
    "pl": (("ul. Marszałkowska", "00-024", "Warszawa"), ("ul. Floriańska", "31-019", "Kraków")),
    "fr": (("Rue de Rivoli", "75001", "Paris"), ("Rue de la République", "69002", "Lyon")),
    "it": (("Via Roma", "00184", "Roma"), ("Corso Buenos Aires", "20124", "Milano")),
}
_COUNTRY = {"de": "DE", "at": "AT", "cz": "CZ", "sk": "SK", "pl": "PL", "fr": "FR", "it": "IT"}
_PHONE = {
    "de": "+49",
    "at": "+43",
    "cz": "+420",
    "sk": "+421",
    "pl": "+48",
    "fr": "+33",
    "it": "+39",
}


def _ascii(text: str) -> str:
    table = str.maketrans("äöüßáčďéěíňóřšťúůýžłśńąęźżçèà", "aousacdeeinorstuuyzlsnaezzcea")
    return text.lower().translate(table)


def _new_buyer(world: World, seller: Seller, storefront: str, rng: random.Random) -> Record:
    firsts, lasts = _PEOPLE.get(storefront, _PEOPLE["de"])
    first, last = rng.choice(firsts), rng.choice(lasts)
    street, postcode, city = rng.choice(_PLACES.get(storefront, _PLACES["de"]))
    id_buyer = world.next_id("buyer", 21_630_000)
    address: Record = {
        "first_name": first,
        "last_name": last,
        "company_name": None,
        "street": street,
        "house_number": str(rng.randint(1, 120)),
        "postcode": postcode,
        "additional_field": None,
        "city": city,
        "phone": f"{_PHONE.get(storefront, '+49')}{rng.randint(100_000_000, 999_999_999)}",
        "country": _COUNTRY.get(storefront, storefront.upper()),
    }
    buyer: Record = {
        "id_buyer": id_buyer,
        "email": f"{_ascii(first)}.{_ascii(last)}.{id_buyer}@buyer.example",
        "_address": address,
        "_storefront": storefront,
    }
    seller.table("buyers")[str(id_buyer)] = buyer
    return buyer


def _buyer_record(
    world: World, seller: Seller, storefront: str, buyer: Record | None, rng: random.Random
) -> Record:
    if buyer is None:
        return _new_buyer(world, seller, storefront, rng)
    existing = seller.table("buyers").get(str(buyer.get("id_buyer")))
    if existing is not None:
        return existing
    made = _new_buyer(world, seller, storefront, rng)
    # Honour what the caller chose (id and e-mail), keep generated addresses for the rest.
    if "id_buyer" in buyer:
        del seller.table("buyers")[str(made["id_buyer"])]
        made["id_buyer"] = int(buyer["id_buyer"])
        seller.table("buyers")[str(made["id_buyer"])] = made
    if buyer.get("email"):
        made["email"] = buyer["email"]
    if isinstance(buyer.get("address"), dict):
        made["_address"] = {**made["_address"], **buyer["address"]}
    return made


# ---------------------------------------------------------------------------------------------
# orders


def _new_order_id(world: World, rng: random.Random) -> str:
    """Seven characters like ``MB7UWLD``, unique across all sellers (a Kaufland order id is)."""
    alphabet = string.ascii_uppercase + string.digits
    while True:
        candidate = rng.choice(string.ascii_uppercase) + "".join(rng.choices(alphabet, k=6))
        if not any(candidate in s.table("orders") for s in world.sellers.values()):
            return candidate


def _product_for(world: World, unit: Record, storefront: str) -> Record | None:
    product = world.catalog["products"].get(str(unit.get("id_product")))
    return catalog.product_view(product, storefront) if product is not None else None


def _fees(world: World, product: Record | None) -> tuple[float, float]:
    """(variable fee in percent, fixed fee in major currency units) of the product's category.

    Kaufland publishes both per category (``variable_fee``, ``fixed_fee``); how it applies them
    is not in the spec, so the sandbox charges ``price·variable/100 + fixed·100`` minor units."""
    category = world.catalog["categories"].get(str(product.get("id_category"))) if product else None
    if category is None:
        return 10.0, 0.0
    return float(category.get("variable_fee") or 0), float(category.get("fixed_fee") or 0)


def _vat(unit: Record, storefront: str) -> float:
    rates = catalog.VAT_RATES.get(storefront, {"standard_rate": 19})
    return rates.get(str(unit.get("vat_indicator") or "standard_rate"), rates["standard_rate"])


def place_order(
    world: World,
    client_key: str,
    storefront: str,
    items: Sequence[tuple[int, int]],
    buyer: Record | None = None,
) -> Record:
    """A buyer orders ``items`` (``(id_unit, amount)`` pairs) of a seller's units on a storefront.

    Creates the order and one order unit per piece (Kaufland splits quantities), status ``open``
    with hidden addresses; takes the pieces off each unit's ``amount``. Raises a 400 ``Problem``
    naming the field when an item is unknown, on another storefront, not ``AVAILABLE`` or short
    of stock. Emits ``order_new``, ``order_unit_new`` per unit and ``item_unit_changed`` /
    ``item_unit_out_of_stock`` per unit touched. Returns the order record.
    """
    seller = _seller(world, client_key)
    rng = rng_for(world)
    if storefront not in seller.storefronts:
        raise validation([("storefront", f"Storefront '{storefront}' is not configured.")])
    if not items:
        raise validation([("data", "At least one item is required.")])
    units = seller.table("units")
    wanted: dict[str, int] = {}
    for index, (id_unit, amount) in enumerate(items):
        where = f"data[{index}]"
        unit = units.get(str(id_unit))
        if unit is None:
            raise validation([(f"{where}.id_item_unit", f"Unit {id_unit} does not exist.")])
        if unit.get("storefront") != storefront:
            raise validation(
                [
                    (
                        f"{where}.id_item_unit",
                        f"Unit {id_unit} is not sold on storefront {storefront}.",
                    )
                ]
            )
        if unit.get("status", "AVAILABLE") != "AVAILABLE":
            raise validation(
                [
                    (
                        f"{where}.id_item_unit",
                        f"Unit {id_unit} is {unit.get('status')}, not AVAILABLE.",
                    )
                ]
            )
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
            raise validation([(f"{where}.amount", "This value should be a positive integer.")])
        wanted[str(id_unit)] = wanted.get(str(id_unit), 0) + amount
    for key, amount in wanted.items():
        available = int(units[key].get("amount") or 0)
        if amount > available:
            raise validation(
                [("amount", f"Unit {key} has only {available} in stock, {amount} ordered.")],
                "Not enough stock",
            )

    now = world.now()
    now_iso = iso(now)
    who = _buyer_record(world, seller, storefront, buyer, rng)
    id_order = _new_order_id(world, rng)
    currency = CURRENCY.get(storefront, "EUR")
    address = who["_address"]
    ids: list[int] = []
    for key, amount in wanted.items():
        unit = units[key]
        product = _product_for(world, unit, storefront)
        vat = _vat(unit, storefront)
        variable_fee, fixed_fee = _fees(world, product)
        price = int(unit.get("price") or unit.get("listing_price") or 0)
        handling = int(unit.get("handling_time") or 1)
        transport_min = int(unit.get("transport_time_min") or 1)
        transport_max = int(unit.get("transport_time_max") or max(transport_min, 3))
        condition = str(unit.get("condition") or "NEW")
        for piece in range(amount):
            # Shipping is charged once per ordered line, on its first piece.
            shipping = int(unit.get("shipping_rate") or 0) if piece == 0 else 0
            commission = round((price + shipping) * variable_fee / 100) + round(fixed_fee * 100)
            gross = price + shipping - commission
            id_ou = world.next_id("order_unit", 314_567_896_580_000)
            record: Record = {
                "id_order_unit": id_ou,
                "id_order": id_order,
                "ts_created_iso": now_iso,
                "is_marketplace_deemed_supplier": False,
                "ts_updated_iso": now_iso,
                "status": "open",
                "price": price,
                "id_offer": unit.get("id_offer"),
                "revenue_gross": gross,
                "revenue_net": round(gross / (1 + vat / 100)),
                "note": None,
                "unit_condition": condition.lower().replace("___", " - ").replace("_", " "),
                "storefront": storefront,
                "currency": currency,
                "delivery_time_min": handling + transport_min,
                "delivery_time_max": handling + transport_max,
                "delivery_time_expires_iso": iso(now + max(handling, 1) * 86_400),
                "order_received_timestamp_iso": None,
                "shipping_rate": shipping,
                "cancel_reason": None,
                "fulfillment_type": unit.get("fulfillment_type", "fulfilled_by_merchant"),
                "buyer": {"id_buyer": who["id_buyer"], "email": None},
                "billing_address": None,
                "shipping_address": None,
                "product": product,
                "vat": vat,
                "eco_fee": None,
                "packaging_fee": None,
                "_id_unit": unit["id_unit"],
                "_buyer_email": who["email"],
                "_billing_address": dict(address),
                "_shipping_address": dict(address),
                "_open_until": now + world.config.open_delay,
                "_refunds": [],
                "_shipments": [],
                "_ts_created": now,
                "_ts_updated": now,
            }
            seller.table("order_units")[str(id_ou)] = record
            ids.append(id_ou)
    order: Record = {
        "id_order": id_order,
        "ts_created_iso": now_iso,
        "is_marketplace_deemed_supplier": False,
        "order_units_count": len(ids),
        "ts_units_updated_iso": now_iso,
        "storefront": storefront,
        "fulfillment_type": "fulfilled_by_merchant",
        "_id_buyer": who["id_buyer"],
        "_order_unit_ids": ids,
        "_ts_created": now,
    }
    seller.table("orders")[id_order] = order

    world.emit(client_key, "order_new", f"/v2/orders/{id_order}", storefront)
    state = _state(world)
    for id_ou in ids:
        world.emit(client_key, "order_unit_new", f"/v2/order-units/{id_ou}", storefront)
        heapq.heappush(state.pending, (now + world.config.open_delay, client_key, str(id_ou)))
    for key, amount in wanted.items():
        _change_stock(world, seller, units[key], -amount)
    return order


def random_orders(
    world: World,
    client_key: str,
    count: int,
    rng: random.Random | None = None,
    storefront: str | None = None,
) -> list[str]:
    """Let ``count`` invented buyers each order 1-3 pieces of one or two random AVAILABLE units
    with stock (optionally only on ``storefront``). Stops early when nothing is left to buy.
    Returns the new order ids."""
    seller = _seller(world, client_key)
    rng = rng or rng_for(world)
    made: list[str] = []
    for _ in range(count):
        candidates = [
            u
            for u in seller.table("units").values()
            if u.get("status", "AVAILABLE") == "AVAILABLE"
            and int(u.get("amount") or 0) > 0
            and u.get("storefront") in seller.storefronts
            and (storefront is None or u.get("storefront") == storefront)
        ]
        if not candidates:
            break
        first = rng.choice(candidates)
        others = [
            u
            for u in rng.sample(candidates, k=min(len(candidates), 2))
            if u is not first and u.get("storefront") == first.get("storefront")
        ]
        chosen = [first, *others[: rng.randint(0, 1)]]
        items = [
            (int(u["id_unit"]), rng.randint(1, min(3, int(u.get("amount") or 1)))) for u in chosen
        ]
        order = place_order(world, client_key, str(first["storefront"]), items)
        made.append(order["id_order"])
    return made


def order_unit_view(
    world: World, seller: Seller, ou: Record, embedded: Iterable[str] = ()
) -> Record:
    """An order unit as ``GET /order-units/{id}`` shows it, with the requested embeds."""
    view = public(ou)
    wanted = set(embedded)
    if "delivery_attempt_timestamp_iso" in wanted:
        view["delivery_attempt_timestamp_iso"] = ou.get("_delivery_attempt_iso")
    if "return_unit" in wanted:
        ru = next(
            (
                r
                for r in seller.table("return_units").values()
                if r["id_order_unit"] == ou["id_order_unit"]
            ),
            None,
        )
        if ru is not None:  # absent rather than null: spec validators refuse null there
            view["return_unit"] = public(ru)
    if "tickets" in wanted:
        view["tickets"] = [
            public(t)
            for t in seller.table("tickets").values()
            if ou["id_order_unit"] in t["ids_order_units"]
        ]
    # `delivery` (pickup location) is left out: sandbox buyers always ship to their address.
    if "kss_delivery" in wanted:
        view["kss_eligible"] = False
    return view


def order_view(world: World, seller: Seller, order: Record, embedded: Iterable[str] = ()) -> Record:
    """An order as ``GET /orders/{id}`` shows it (``OrderDetails``)."""
    wanted = set(embedded)
    units = [
        seller.table("order_units")[str(i)]
        for i in order["_order_unit_ids"]
        if str(i) in seller.table("order_units")
    ]
    released = any(u["status"] != "open" for u in units)
    buyer = seller.table("buyers").get(str(order["_id_buyer"]))
    view: Record = {
        k: v
        for k, v in public(order).items()
        if k not in ("order_units_count", "ts_units_updated_iso")
    }
    views = []
    for unit in units:
        item = order_unit_view(world, seller, unit, ())
        for name in ("buyer", "billing_address", "shipping_address", "eco_fee", "packaging_fee"):
            item.pop(name, None)
        item["tickets"] = [
            public(t)
            for t in seller.table("tickets").values()
            if unit["id_order_unit"] in t["ids_order_units"]
        ] or None
        if "kss_delivery" in wanted:
            item["kss_eligible"] = False
        views.append(item)
    view["order_units"] = views
    first = units[0] if units else {}
    view["billing_address"] = first.get("_billing_address") if released else None
    view["shipping_address"] = first.get("_shipping_address") if released else None
    view["buyer"] = (
        {"id_buyer": buyer["id_buyer"], "email": buyer["email"] if released else None}
        if buyer
        else None
    )
    if "order_invoices" in wanted:
        view["order_invoices"] = [
            public(inv)
            for inv in seller.table("order_invoices").values()
            if inv["id_order"] == order["id_order"]
        ]
    return view


# ---------------------------------------------------------------------------------------------
# seller actions on order units


def fulfil_order_unit(world: World, client_key: str, id_order_unit: int | str) -> None:
    """``open`` → ``need_to_be_sent`` at once. Already ``need_to_be_sent``: nothing to do.
    Any later status: 400 ``/problems/action-not-allowed``."""
    seller = _seller(world, client_key)
    ou = _order_unit(seller, id_order_unit)
    if ou["status"] == "open":
        _release(world, seller, ou, "need_to_be_sent")
    elif ou["status"] != "need_to_be_sent":
        raise Problem(
            400,
            ACTION_NOT_ALLOWED,
            f"Order unit {id_order_unit} is {ou['status']}; only open units can be fulfilled.",
        )


def send_order_unit(
    world: World,
    client_key: str,
    id_order_unit: int | str,
    tracking_numbers: str,
    carrier_code: str,
) -> None:
    """Mark a ``need_to_be_sent`` unit as ``sent`` with its carrier and tracking number(s)
    (comma-separated string). Tracking may be empty only for ``Other``/``Other Hauler``."""
    seller = _seller(world, client_key)
    ou = _order_unit(seller, id_order_unit)
    carriers = carrier_names(world)
    if carrier_code not in carriers:
        raise validation([("carrier_code", f"Unknown carrier code '{carrier_code}'.")])
    numbers = [n.strip() for n in tracking_numbers.split(",") if n.strip()]
    if not numbers and carrier_code not in NO_TRACKING_CARRIERS:
        raise validation([("tracking_numbers", "This value should not be blank.")])
    if ou["status"] in SENT_STATUSES:
        raise Problem(400, DUPLICATE_ACTION, f"Order unit {id_order_unit} is already sent.")
    if ou["status"] == "open":
        raise Problem(
            400,
            ACTION_NOT_ALLOWED,
            f"Order unit {id_order_unit} is still open; wait for need_to_be_sent or fulfil it.",
        )
    if ou["status"] != "need_to_be_sent":
        raise Problem(
            400, ACTION_NOT_ALLOWED, f"Order unit {id_order_unit} is {ou['status']}; cannot send."
        )
    for number in numbers or [""]:
        _record_shipment(world, seller, ou, carrier_code, number)
    _set_status(world, seller, ou, "sent")


def _record_shipment(
    world: World, seller: Seller, ou: Record, carrier_code: str, tracking_number: str
) -> None:
    id_shipment = world.next_id("shipment")
    shipment: Record = {
        "id_shipment": id_shipment,
        "id_order_unit": ou["id_order_unit"],
        "carrier_code": carrier_code,
        "tracking_number": tracking_number,
        "ts_created_iso": world.now_iso(),
    }
    seller.table("shipments")[str(id_shipment)] = shipment
    ou["_shipments"].append(id_shipment)


def add_shipment(
    world: World, client_key: str, id_order_unit: int | str, carrier_code: str, tracking_number: str
) -> None:
    """Another parcel for an already sent unit (``POST /shipments``)."""
    seller = _seller(world, client_key)
    ou = _order_unit(seller, id_order_unit)
    if carrier_code not in carrier_names(world):
        raise validation(
            [("shipment_information.carrier_code", f"Unknown carrier code '{carrier_code}'.")]
        )
    if not tracking_number.strip() and carrier_code not in NO_TRACKING_CARRIERS:
        raise validation(
            [("shipment_information.tracking_number", "This value should not be blank.")]
        )
    if ou["status"] not in SENT_STATUSES:
        raise Problem(
            400,
            ACTION_NOT_ALLOWED,
            f"Order unit {id_order_unit} is {ou['status']}; "
            "shipments can be added to sent units only.",
        )
    _record_shipment(world, seller, ou, carrier_code, tracking_number.strip())
    ou["ts_updated_iso"] = world.now_iso()


def cancel_order_unit(world: World, client_key: str, id_order_unit: int | str, reason: str) -> None:
    """Cancel an ``open``/``need_to_be_sent`` unit and put its piece back into stock;
    otherwise 400 ``/problems/order-units/cancel-not-possible``."""
    seller = _seller(world, client_key)
    ou = _order_unit(seller, id_order_unit)
    if reason not in CANCEL_REASONS:
        raise validation(
            [
                (
                    "reason",
                    f"The value you selected is not a valid choice: {', '.join(CANCEL_REASONS)}.",
                )
            ]
        )
    if ou["status"] not in ("open", "need_to_be_sent"):
        raise Problem(
            400,
            CANCEL_NOT_POSSIBLE,
            f"Order unit {id_order_unit} is {ou['status']} and can no longer be cancelled.",
        )
    ou["cancel_reason"] = reason
    _set_status(world, seller, ou, "cancelled")
    unit = seller.table("units").get(str(ou.get("_id_unit")))
    if unit is not None:
        _change_stock(world, seller, unit, +1)


def refundable(ou: Record) -> int:
    """What is left to refund on an order unit (price + shipping - earlier refunds)."""
    paid = int(ou["price"]) + int(ou.get("shipping_rate") or 0)
    return paid - sum(int(r["amount"]) for r in ou.get("_refunds", []))


def refund_order_unit(
    world: World, client_key: str, id_order_unit: int | str, amount: int, reason: str
) -> None:
    """Refund part or all of a shipped or returned unit. A refund on a ``returned`` unit makes it
    ``returned_paid``."""
    seller = _seller(world, client_key)
    ou = _order_unit(seller, id_order_unit)
    if reason not in REFUND_REASONS:
        raise validation(
            [
                (
                    "reason",
                    f"The value you selected is not a valid choice: {', '.join(REFUND_REASONS)}.",
                )
            ]
        )
    if ou["status"] not in REFUNDABLE_STATUSES:
        raise Problem(
            400,
            ACTION_NOT_ALLOWED,
            f"Order unit {id_order_unit} is {ou['status']}; refunds need a sent or returned unit.",
        )
    left = refundable(ou)
    if amount < 1 or amount > left:
        raise validation([("amount", f"This value should be between 1 and {left}.")])
    ou["_refunds"].append({"amount": amount, "reason": reason, "ts_iso": world.now_iso()})
    if ou["status"] == "returned":
        _set_status(world, seller, ou, "returned_paid")
    else:
        ou["ts_updated_iso"] = world.now_iso()
        _touch_order(world, seller, ou["id_order"])


def mark_delivered(world: World, client_key: str, id_order_unit: int | str) -> None:
    """The buyer received the parcel: ``sent`` → ``received``."""
    seller = _seller(world, client_key)
    ou = _order_unit(seller, id_order_unit)
    if ou["status"] != "sent":
        raise Problem(
            400, ACTION_NOT_ALLOWED, f"Order unit {id_order_unit} is {ou['status']}, not sent."
        )
    ou["order_received_timestamp_iso"] = world.now_iso()
    ou["_delivery_attempt_iso"] = world.now_iso()
    _set_status(world, seller, ou, "received")


def mark_autopaid(world: World, client_key: str, id_order_unit: int | str) -> None:
    """Kaufland paid the seller out automatically: ``sent`` → ``sent_and_autopaid``."""
    seller = _seller(world, client_key)
    ou = _order_unit(seller, id_order_unit)
    if ou["status"] != "sent":
        raise Problem(
            400, ACTION_NOT_ALLOWED, f"Order unit {id_order_unit} is {ou['status']}, not sent."
        )
    _set_status(world, seller, ou, "sent_and_autopaid")


# ---------------------------------------------------------------------------------------------
# returns


def _return_unit_status(world: World, seller: Seller, ru: Record, status: str) -> None:
    ru["status"] = status
    ru["_ts_updated"] = world.now()
    ret = seller.table("returns").get(str(ru["id_return"]))
    if ret is not None:
        ret["ts_updated_iso"] = world.now_iso()
    world.emit(
        seller.client_key,
        "return_unit_status_changed",
        f"/v2/return-units/{ru['id_return_unit']}",
        ru["storefront"],
    )


def _return_status(world: World, seller: Seller, ret: Record, status: str) -> None:
    if ret["status"] == status:
        return
    ret["status"] = status
    ret["ts_updated_iso"] = world.now_iso()
    world.emit(
        seller.client_key,
        "return_status_changed",
        f"/v2/returns/{ret['id_return']}",
        ret["storefront"],
    )


def _check_returnable(seller: Seller, ou: Record, field_name: str) -> None:
    if ou["status"] not in SENT_STATUSES:
        raise Problem(
            400,
            ACTION_NOT_ALLOWED,
            f"Order unit {ou['id_order_unit']} is {ou['status']}; only sent units can be returned.",
            [(field_name, "Order unit is not returnable.")],
        )
    for ru in seller.table("return_units").values():
        if ru["id_order_unit"] == ou["id_order_unit"] and ru["status"] != "return_rejected":
            raise Problem(
                400,
                "/problems/already-exists",
                f"Order unit {ou['id_order_unit']} already has return unit {ru['id_return_unit']}.",
                [(field_name, "Order unit is already being returned.")],
            )


def _new_return_unit(
    world: World, seller: Seller, ret: Record, ou: Record, reason: str, note: str | None
) -> Record:
    id_ru = world.next_id("return_unit", 45_456_000)
    ru: Record = {
        "id_return_unit": id_ru,
        "id_return": ret["id_return"],
        "id_order_unit": ou["id_order_unit"],
        "ts_created_iso": world.now_iso(),
        "status": "need_to_be_returned",
        "note": note,
        "reason": reason,
        "storefront": ou["storefront"],
        "fulfillment_type": ou["fulfillment_type"],
        "_ts_created": world.now(),
        "_ts_updated": world.now(),
    }
    seller.table("return_units")[str(id_ru)] = ru
    ret["_return_unit_ids"].append(id_ru)
    return ru


def _new_return(world: World, seller: Seller, ou: Record) -> Record:
    id_return = world.next_id("return", 23_234_000)
    ret: Record = {
        "id_return": id_return,
        "ts_created_iso": world.now_iso(),
        "ts_updated_iso": world.now_iso(),
        "storefront": ou["storefront"],
        "tracking_provider": None,
        "tracking_code": None,
        "status": "return_requested",
        "fulfillment_type": ou["fulfillment_type"],
        "_id_order": ou["id_order"],
        "_return_unit_ids": [],
        "_ts_created": world.now(),
    }
    seller.table("returns")[str(id_return)] = ret
    return ret


def return_view(seller: Seller, ret: Record, embedded: Iterable[str] = ("return_units",)) -> Record:
    """A return with its return units (and buyer when asked for)."""
    view = public(ret)
    wanted = set(embedded)
    if "return_units" in wanted:
        view["return_units"] = [
            public(seller.table("return_units")[str(i)])
            for i in ret["_return_unit_ids"]
            if str(i) in seller.table("return_units")
        ]
    if "buyer" in wanted:
        order = seller.table("orders").get(ret["_id_order"])
        buyer = seller.table("buyers").get(str(order["_id_buyer"])) if order else None
        view["buyer"] = {"id_buyer": buyer["id_buyer"], "email": buyer["email"]} if buyer else None
    return view


def open_return(
    world: World,
    client_key: str,
    id_order_unit: int | str,
    reason: str | None = None,
    note: str | None = None,
) -> Record:
    """The buyer returns a sent/received unit: a new return (``return_requested``) with one
    return unit (``need_to_be_returned``). Emits ``return_new``. Returns the return record."""
    seller = _seller(world, client_key)
    ou = _order_unit(seller, id_order_unit)
    reason = reason or "no_reason"
    if reason not in RETURN_REASONS:
        raise validation([("reason", "The value you selected is not a valid choice.")])
    _check_returnable(seller, ou, "id_order_unit")
    ret = _new_return(world, seller, ou)
    _new_return_unit(world, seller, ret, ou, reason, note)
    world.emit(client_key, "return_new", f"/v2/returns/{ret['id_return']}", ret["storefront"])
    return ret


def _validate_return_items(seller: Seller, items: Any) -> list[tuple[Record, str, str]]:
    if not isinstance(items, list) or not items:
        raise validation(
            [("body", "This value should be a non-empty array.")], "Invalid request body"
        )
    out: list[tuple[Record, str, str]] = []
    errors: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        where = f"[{index}]"
        if not isinstance(item, dict):
            errors.append((where, "This value should be of type object."))
            continue
        id_ou = item.get("id_order_unit")
        reason = item.get("reason")
        note = item.get("note")
        if not isinstance(id_ou, int) or isinstance(id_ou, bool):
            errors.append((f"{where}.id_order_unit", "This value should be of type integer."))
        if reason not in RETURN_REASONS:
            errors.append((f"{where}.reason", "The value you selected is not a valid choice."))
        if not isinstance(note, str) or not 5 <= len(note) <= 100:
            errors.append((f"{where}.note", "This value should have 5 to 100 characters."))
        if errors or not isinstance(id_ou, int):
            continue
        out.append((_order_unit(seller, id_ou), str(reason), str(note)))
    if errors:
        raise validation(errors)
    orders = {ou["id_order"] for ou, _, _ in out}
    if len(orders) > 1:
        raise validation([("id_order_unit", "All order units must belong to the same order.")])
    ids = [ou["id_order_unit"] for ou, _, _ in out]
    if len(set(ids)) != len(ids):
        raise validation([("id_order_unit", "Order units must not repeat.")])
    for index, (ou, _, _) in enumerate(out):
        if ou["fulfillment_type"] == "fulfilled_by_kaufland":
            raise Problem(
                403, "/problems/forbidden", "Returns of FBK order units are handled by Kaufland."
            )
        _check_returnable(seller, ou, f"[{index}].id_order_unit")
    return out


def initiate_return(world: World, client_key: str, items: Any) -> Record:
    """``POST /returns``: the seller opens a return for units of one order (body array of
    ``{id_order_unit, reason, note}``). Returns the return record."""
    seller = _seller(world, client_key)
    checked = _validate_return_items(seller, items)
    ret = _new_return(world, seller, checked[0][0])
    for ou, reason, note in checked:
        _new_return_unit(world, seller, ret, ou, reason, note)
    world.emit(client_key, "return_new", f"/v2/returns/{ret['id_return']}", ret["storefront"])
    return ret


def add_return_units(world: World, client_key: str, id_return: int | str, items: Any) -> Record:
    """``PUT /returns/{id}``: add units of the same order to an existing return."""
    seller = _seller(world, client_key)
    ret = seller.table("returns").get(str(id_return))
    if ret is None:
        raise not_found("Return", id_return)
    checked = _validate_return_items(seller, items)
    if checked[0][0]["id_order"] != ret["_id_order"]:
        raise validation([("id_order_unit", "Order units must belong to the return's order.")])
    for ou, reason, note in checked:
        _new_return_unit(world, seller, ret, ou, reason, note)
    ret["ts_updated_iso"] = world.now_iso()
    return ret


def mark_return_arrived(world: World, client_key: str, id_return_unit: int | str) -> None:
    """The returned parcel reached the seller: ``need_to_be_returned`` → ``return_arrived``
    (and the return becomes ``package_received`` once all its units arrived)."""
    seller = _seller(world, client_key)
    ru = _return_unit(seller, id_return_unit)
    _require(ru, ("need_to_be_returned",), "arrive")
    _return_unit_status(world, seller, ru, "return_arrived")
    ret = seller.table("returns")[str(ru["id_return"])]
    units = [seller.table("return_units")[str(i)] for i in ret["_return_unit_ids"]]
    if all(u["status"] != "need_to_be_returned" for u in units):
        _return_status(world, seller, ret, "package_received")
    else:
        _return_status(world, seller, ret, "package_sent")


def _require(ru: Record, allowed: tuple[str, ...], action: str) -> None:
    if ru["status"] not in allowed:
        raise Problem(
            400,
            RETURN_UNIT_WRONG_STATUS,
            f"Return unit {ru['id_return_unit']} is {ru['status']}; cannot {action} it "
            f"(allowed from: {', '.join(allowed)}).",
        )


# A seller may decide before the parcel is back: arrival is only known when Kaufland's return
# label is used, so accept/reject/clarify cannot depend on it. Repair needs the item in hand.
_DECIDABLE = (
    "need_to_be_returned",
    "return_arrived",
    "return_in_clarification",
    "return_in_repair",
)


def accept_return_unit(world: World, client_key: str, id_return_unit: int | str) -> None:
    """Accept an arrived return unit; its order unit becomes ``returned``."""
    seller = _seller(world, client_key)
    ru = _return_unit(seller, id_return_unit)
    _require(ru, _DECIDABLE, "accept")
    _return_unit_status(world, seller, ru, "return_accepted")
    ou = seller.table("order_units").get(str(ru["id_order_unit"]))
    if ou is not None and ou["status"] in SENT_STATUSES:
        _set_status(world, seller, ou, "returned")


def reject_return_unit(
    world: World, client_key: str, id_return_unit: int | str, message: str
) -> None:
    """Reject an arrived return unit; Kaufland opens a ticket to the buyer with the message."""
    seller = _seller(world, client_key)
    ru = _return_unit(seller, id_return_unit)
    _require(ru, _DECIDABLE, "reject")
    _return_unit_status(world, seller, ru, "return_rejected")
    open_ticket(
        world, client_key, [int(ru["id_order_unit"])], "product_return", message, by="seller"
    )


def clarify_return_unit(
    world: World, client_key: str, id_return_unit: int | str, message: str
) -> None:
    """Ask the buyer about an arrived return unit (``return_in_clarification``, opens a ticket)."""
    seller = _seller(world, client_key)
    ru = _return_unit(seller, id_return_unit)
    _require(ru, ("need_to_be_returned", "return_arrived", "return_in_repair"), "clarify")
    _return_unit_status(world, seller, ru, "return_in_clarification")
    open_ticket(
        world, client_key, [int(ru["id_order_unit"])], "product_return", message, by="seller"
    )


def repair_return_unit(world: World, client_key: str, id_return_unit: int | str) -> None:
    """Send an arrived return unit to repair (``return_in_repair``)."""
    seller = _seller(world, client_key)
    ru = _return_unit(seller, id_return_unit)
    _require(ru, ("return_arrived", "return_in_clarification"), "repair")
    _return_unit_status(world, seller, ru, "return_in_repair")


def close_return_unit(world: World, client_key: str, id_return_unit: int | str) -> None:
    """Kaufland closes a decided return unit (``return_closed``)."""
    seller = _seller(world, client_key)
    ru = _return_unit(seller, id_return_unit)
    _require(ru, ("return_accepted", "return_rejected", "return_in_repair"), "close")
    _return_unit_status(world, seller, ru, "return_closed")


# ---------------------------------------------------------------------------------------------
# tickets


def open_ticket(
    world: World,
    client_key: str,
    ids_order_units: Sequence[int],
    reason: str,
    message: str,
    *,
    by: str = "seller",
    topic: str | None = None,
) -> Record:
    """Open a ticket about order units of one buyer, with its first message. ``by`` is
    ``seller`` (``POST /tickets``) or ``buyer`` (the control API); a buyer's ticket asks the
    seller to act (``is_seller_responsible``)."""
    seller = _seller(world, client_key)
    units = [_order_unit(seller, i) for i in ids_order_units]
    buyers = {(u.get("buyer") or {}).get("id_buyer") for u in units}
    if len(buyers) > 1:
        raise validation([("id_order_unit", "All order units must belong to the same buyer.")])
    now_iso = world.now_iso()
    id_ticket = f"001{world.next_id('ticket', TICKET_ID_START)}"
    # The spec's validators refuse a null topic, so every ticket gets the one its reason implies.
    topic = topic or TOPIC_FOR_REASON.get(reason, "other_question")
    ticket: Record = {
        "id_ticket": id_ticket,
        "ids_order_units": [int(u["id_order_unit"]) for u in units],
        "id_buyer": buyers.pop() if buyers else None,
        "ts_created_iso": now_iso,
        "ts_updated_iso": now_iso,
        "status": "opened",
        "open_reason": reason,
        "topic": topic,
        "is_seller_responsible": by == "buyer",
        "fulfillment_type": units[0]["fulfillment_type"] if units else "fulfilled_by_merchant",
        "_storefront": units[0]["storefront"] if units else None,
        "_ts_created": world.now(),
        "_ts_updated": world.now(),
    }
    seller.table("tickets")[id_ticket] = ticket
    add_ticket_message(world, client_key, id_ticket, message, role=by)
    return ticket


def open_buyer_ticket(
    world: World,
    client_key: str,
    ids_order_units: Sequence[int],
    reason: str = "contact_other",
    message: str = "Where is my parcel?",
    topic: str | None = None,
) -> Record:
    """A buyer contacts the seller (control API helper)."""
    return open_ticket(world, client_key, ids_order_units, reason, message, by="buyer", topic=topic)


def add_ticket_message(
    world: World,
    client_key: str,
    id_ticket: str,
    text: str,
    *,
    role: str = "seller",
    files: int = 0,
) -> Record:
    """Append a message to a ticket (``role`` seller, buyer, system or customer_service)."""
    seller = _seller(world, client_key)
    ticket = seller.table("tickets").get(id_ticket)
    if ticket is None:
        raise not_found("Ticket", id_ticket)
    id_message = world.next_id("ticket_message", 64_123_000)
    names = {
        "seller": "Seller",
        "buyer": "Buyer",
        "system": "Kaufland",
        "customer_service": "Kaufland",
    }
    record: Record = {
        "id_ticket_message": id_message,
        "id_ticket": id_ticket,
        "author": {"role": role, "name": names.get(role, role)},
        "text": text,
        "ts_created_iso": world.now_iso(),
        "_files": files,
        "_fulfillment_type": ticket["fulfillment_type"],
        "_ts_created": world.now(),
    }
    seller.table("ticket_messages")[str(id_message)] = record
    ticket["ts_updated_iso"] = world.now_iso()
    ticket["_ts_updated"] = world.now()
    if role == "buyer":
        ticket["is_seller_responsible"] = True
    elif role == "seller":
        ticket["is_seller_responsible"] = False
    return record
