"""A tour of every operation the sandbox implements, through the real client over loopback HTTP.

Every request and answer is validated against Kaufland's OpenAPI spec 2.27.0 (``SpecRecorder``),
and the last assertion checks that the tour reached every operation the sandbox serves: an
operation added to the sandbox without a conforming round trip here fails this test.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date

import pytest

from kaufland_sync.sandbox.app import load_routes
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import KauflandClient
from kaufland_sync.sellerapi.errors import NotFoundError
from kaufland_sync.sellerapi.models.units import UnitPatchRequest, UnitRequest
from tests.conformance import SpecRecorder
from tests.e2e.conftest import Control, open_client
from tests.e2e.receiver import start_receiver

NEW_EAN = "4006381333931"  # valid check digit; not in the demo catalogue


def sandbox_operations() -> set[str]:
    """``METHOD /path/{param}`` for every route the sandbox serves (convertors dropped)."""
    return {
        f"{m} {re.sub(r':[a-z]+}', '}', p)}"
        for m, p, _ in load_routes()
        if not p.startswith("/playground/")  # playground-only, not in spec 2.27.0
    }


async def catalogue_tour(api: KauflandClient) -> int:
    """Returns the id of the product-data import file it created."""
    assert (await api.status.ping()).message
    assert "de" in await api.info.storefronts()
    assert "de-DE" in await api.info.locales()
    assert await api.info.vat_indicators("de")

    categories = await api.categories.list(limit=5)
    assert categories.items
    tree = await api.categories.tree()
    assert tree is not None
    leaf = next(c for c in [c async for c in api.categories.iter_all()] if c.is_leaf)
    detail = await api.categories.get(
        leaf.id_category,
        embedded=["parent", "children", "required_attributes", "optional_attributes"],
    )
    assert detail.id_category == leaf.id_category
    guesses = await api.categories.decide(
        title="Smartphone 128 GB Dual-SIM",
        description="Handy mit OLED-Display",
        manufacturer="Samsung",
        price=99,
    )
    assert guesses

    attributes = await api.attributes.list(limit=50)
    assert attributes.items
    first = attributes.items[0]
    assert (await api.attributes.get(first.id)).id == first.id
    assert first.name is not None
    assert (await api.attributes.by_name(first.name)).id == first.id
    await api.attributes.search(first.name[:3])
    shared = next((a for a in attributes.items if a.is_sharedset), None)
    if shared is not None:
        await api.attributes.shared_set(shared.id, locale="de-DE")
        assert await api.attributes.shared_set_values(shared.id, locale="de-DE")

    units = await api.units.list(limit=10)
    some = next(u for u in units.items if u.id_product)
    assert some.id_product is not None
    product = await api.products.get(some.id_product, embedded=["category", "units"])
    assert product.eans
    assert (await api.products.by_ean(product.eans[0])).id_product == product.id_product
    found = await api.products.search((product.title or "x").split()[0])
    assert found.items
    await api.products.buybox(some.id_product)
    insights = await api.products.assortment_insights(limit=50)
    assert insights.items and all(i.ean for i in insights.items)

    # Product data for an EAN Kaufland does not know, then its review status.
    attrs = {
        "title": ["Testprodukt Edelstahl Thermoskanne 1 l"],
        "description": ["Doppelwandige Isolierkanne aus Edelstahl, hält 12 Stunden warm."],
        "picture": ["https://example.com/pictures/thermos.jpg"],
        "manufacturer": ["Testwerk"],
        "category": [detail.name or "Haushalt"],
    }
    await api.product_data.put(NEW_EAN, attrs)
    await api.product_data.patch(NEW_EAN, {"colour": ["silber"]})
    content = await api.product_data.get(NEW_EAN)
    assert content is not None
    status = await api.product_data.status(NEW_EAN)
    assert status.update_status is not None
    imported = await api.product_data.create_import_file("https://example.com/feeds/products.csv")
    assert (await api.product_data.get_import_file(imported.id_import_file)).id_import_file
    assert (await api.product_data.list_import_files()).items
    feed = await api.product_data.upload_variant_suggestions(
        "https://example.com/feeds/variants.csv"
    )
    assert (await api.product_data.get_variant_suggestion_feed(feed.id_import_file)).id_import_file
    assert [
        f.id_import_file for f in (await api.product_data.list_variant_suggestion_feeds()).items
    ]
    await api.product_data.delete(NEW_EAN)
    with pytest.raises(NotFoundError):
        await api.product_data.get(NEW_EAN)

    # Units: create, read, update, bulk, delete.
    created = await api.units.create(
        UnitRequest(
            id_offer="TOUR-1", ean=product.eans[0], listing_price=1999, amount=3, handling_time=2
        )
    )
    assert (await api.units.get(created.id_unit)).id_offer == "TOUR-1"
    updated = await api.units.update(created.id_unit, UnitPatchRequest(amount=9))
    assert updated.amount == 9
    results = await api.units.bulk_update(
        [(created.id_unit, UnitPatchRequest(listing_price=1899)), (some.id_unit, {"amount": 4})]
    )
    assert [r.status_code for r in results] == [200, 200]
    mine = [u async for u in api.units.iter_all(id_offer="TOUR-1")]
    assert [u.id_unit for u in mine] == [created.id_unit]
    await api.units.delete(created.id_unit)

    groups = await api.shipping_groups.list()
    assert groups.items
    assert (await api.shipping_groups.get(groups.items[0].id_shipping_group)).name

    carriers = await api.carriers.list()
    assert any(c.name == "DHL" for c in carriers)

    body = {
        "name": "Lager Süd",
        "address": {
            "street": "Hauptstraße",
            "house_number": "5",
            "postcode": "80331",
            "city": "München",
            "country": "DE",
        },
        "is_default": False,
    }
    warehouse = await api.warehouses.create(body)
    assert (await api.warehouses.get(warehouse.id_warehouse)).name == "Lager Süd"
    renamed = await api.warehouses.update(warehouse.id_warehouse, {**body, "name": "Lager Nord"})
    assert renamed.name == "Lager Nord"
    assert len((await api.warehouses.list()).items) >= 2
    await api.warehouses.delete(warehouse.id_warehouse)
    return imported.id_import_file


async def marketplace_tour(api: KauflandClient, control: Control, id_import_file: int) -> None:
    unit = next(
        u
        for u in (await api.units.list(limit=50)).items
        if (u.amount or 0) >= 6 and u.status == "AVAILABLE"
    )
    placed = await api.playground.create_orders([(unit.id_unit, 6)])
    id_order = placed[0].id_order

    orders = await api.orders.list()
    assert id_order in [o.id_order for o in orders.items]
    order = await api.orders.get(id_order, embedded=["order_invoices"])
    ids = sorted(u.id_order_unit for u in order.order_units or [])
    assert len(ids) == 6
    listed = await api.order_units.list(status=["need_to_be_sent"], limit=100)
    assert set(ids) <= {u.id_order_unit for u in listed.items}
    assert (await api.order_units.get(ids[0], embedded=["return_unit"])).id_order == id_order

    await api.order_units.fulfil(ids[0])
    label = await api.shipments.create_label(
        [ids[0]], weight_gram=1500, width_cm=10, height_cm=20, length_cm=30
    )
    assert label.tracking_number and label.download_url
    await api.order_units.send(ids[0], carrier_code="DHL", tracking_numbers=["0034001", "0034002"])
    await api.shipments.add(ids[0], carrier_code="DHL", tracking_number="0034003")
    await api.order_units.cancel(ids[1], reason="NoInventory")
    for id_unit in ids[2:6]:
        await api.order_units.send(id_unit, carrier_code="DPD", tracking_numbers="09445440")
    await api.order_units.refund(ids[2], amount=100, reason="delivery_delay")

    invoice = await api.order_invoices.upload(
        id_order, original_name="R-1001.pdf", mime_type="application/pdf", content=b"%PDF-1.4 demo"
    )
    assert (
        await api.order_invoices.get(id_order, invoice.id_invoice)
    ).original_name == "R-1001.pdf"
    assert (await api.order_invoices.list()).items
    await api.order_invoices.delete(id_order, invoice.id_invoice)

    # Returns: one opened by the seller, one by the buyer; every return-unit action.
    for id_unit in ids[2:6]:
        control.delivered(id_unit)
    started = await api.returns.initiate(
        [{"id_order_unit": ids[2], "reason": "defect", "note": "Display cracked"}]
    )
    await api.returns.update(
        started.id_return, [{"id_order_unit": ids[3], "reason": "wrong_size", "note": "Too small"}]
    )
    control.open_return(ids[4], reason="dislike")
    control.open_return(ids[5], reason="defect")
    assert (await api.returns.list()).items
    detail = await api.returns.get(started.id_return, embedded=["buyer", "return_units"])
    assert detail.id_return == started.id_return
    return_units = [r async for r in api.return_units.iter_all()]
    assert len(return_units) == 4
    ru = sorted(r.id_return_unit for r in return_units)
    assert (await api.return_units.get(ru[0], embedded=["return", "order_unit"])).id_return_unit
    await api.return_units.accept(ru[0])
    await api.return_units.reject(ru[1], "The item shows traces of use.")
    await api.return_units.clarify(ru[2], "Please send a photo of the defect.")
    control.return_arrived(ru[3])  # repair needs the item back
    await api.return_units.repair(ru[3])

    # Tickets.
    opened = await api.tickets.open(
        [ids[0]], reason="product_not_delivered", message="Where is it?"
    )
    await api.tickets.add_message(opened.id_ticket, "The parcel is on its way.")
    assert (await api.tickets.list()).items
    assert (await api.tickets.get(opened.id_ticket, embedded=["messages"])).id_ticket
    assert (await api.tickets.list_messages()).items
    await api.tickets.close(opened.id_ticket)

    # Reports: every kind, then the list and one report.
    requested = [
        await api.reports.account_listing(),
        await api.reports.bookings_new(date(2026, 10, 1), date(2026, 10, 31)),
        await api.reports.eans_not_found(),
        await api.reports.product_data_changes(),
        await api.reports.cancellations("seller_related"),
        await api.reports.competitors_comparer(),
        await api.reports.sales_new(date(2026, 10, 1), date(2026, 10, 31)),
        await api.reports.price_competitiveness(),
        await api.reports.product_data_import_file_errors(id_import_file),
    ]
    assert len({r.id_report for r in requested}) == 9
    assert (await api.reports.list()).items
    assert (await api.reports.get(requested[0].id_report)).id_report == requested[0].id_report

    # Import files of each kind.
    for kind in (api.import_files.inventory_feed, api.import_files.inventory_command):
        file = await kind.create("https://example.com/feeds/stock.csv", storefront="de")
        assert (await kind.get(file.id_import_file, storefront="de")).id_import_file
        assert (await kind.list(storefront="de")).items
    command = await api.import_files.order_command.create("https://example.com/feeds/orders.csv")
    assert (await api.import_files.order_command.get(command.id_import_file)).id_import_file
    assert (await api.import_files.order_command.list()).items


async def subscriptions_tour(api: KauflandClient) -> None:
    receiver, _thread = start_receiver()
    try:
        sub = await api.subscriptions.create(
            callback_url=receiver.url, event_name="order_new", fallback_email="ops@example.com"
        )
        assert receiver.challenges, "the sandbox must verify the callback URL first"
        assert (await api.subscriptions.get(sub.id_subscription)).callback_url == receiver.url
        assert (await api.subscriptions.list()).items
        changed = await api.subscriptions.update(sub.id_subscription, is_active=False)
        assert changed.is_active is False
        await api.subscriptions.delete(sub.id_subscription)
    finally:
        receiver.close()


async def test_every_sandbox_operation_conforms_to_the_spec(
    sandbox: RunningSandbox, control: Control, recorder: SpecRecorder
) -> None:
    async with open_client(sandbox, recorder) as api:
        id_import_file = await catalogue_tour(api)
        await marketplace_tour(api, control, id_import_file)
        await subscriptions_tour(api)
        await asyncio.sleep(0)
    missing = sorted(sandbox_operations() - set(recorder.operations))
    assert not missing, f"sandbox operations the tour did not reach: {missing}"
    assert len(recorder.operations) >= 80
