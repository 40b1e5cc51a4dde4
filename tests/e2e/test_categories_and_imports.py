"""Category mapping, product data and ``import offers`` against the sandbox over loopback.

The store is a SQLite file per test (the store itself is tested on both backends in
tests/store); every exchange is validated against Kaufland's spec by the recorder.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.catalog import (
    CONTENT_FIELDS,
    Currency,
    Product,
    StockLevel,
    content_hash,
)
from kaufland_sync.store.models.sync import BindingState, OfferBinding
from kaufland_sync.sync.categories import CategoryLookup, CategoryService, kaufland_category_for
from kaufland_sync.sync.import_offers import import_offers
from kaufland_sync.sync.product_data import ProductDataService, set_attribute
from tests.conformance import SpecRecorder
from tests.e2e.conftest import Control, make_account, open_client

SMARTPHONES = 10011  # elektronik (100) > handys_zubehoer (10010) > smartphones


def add_product(session: Session, sku: str, ean: str, title: str, **values: object) -> Product:
    product = Product(
        sku=sku,
        ean=ean,
        title=title,
        description=values.get("description"),
        brand=values.get("brand"),
        category=values.get("category"),
        image_urls=values.get("image_urls", []),
        price_minor=values.get("price_minor", 1999),
        currency=Currency.EUR,
        vat_indicator=None,
        weight_grams=None,
        handling_time=None,
        active=True,
    )
    from kaufland_sync.store.models.catalog import Condition

    product.condition = Condition.NEW
    product.content_hash = content_hash({n: getattr(product, n) for n in CONTENT_FIELDS})
    session.add(product)
    session.flush()
    return product


def gtin13(body: str) -> str:
    """``body`` (12 digits) with its GTIN check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


async def test_tree_refresh_suggestions_and_manual_override(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        add_product(
            session,
            "P-1",
            gtin13("290000000001"),
            "Samsung Galaxy S24 Smartphone 128 GB",
            brand="Samsung",
            category="Elektronik > Handys",
        )
        add_product(
            session,
            "P-2",
            gtin13("290000000002"),
            "Sony WH-1000XM5 Kopfhörer",
            description="Bluetooth Over-Ear Headset",
            brand="Sony",
            category="Audio",
        )
        add_product(session, "P-3", gtin13("290000000003"), "Zzzz qqq", category="Misc")
    service = CategoryService(factory)
    async with open_client(sandbox, recorder) as client:
        count = await service.refresh_tree(client, "de")
        tree = service.cached("de")
        assert count == len(tree) > 10
        assert tree[SMARTPHONES].is_leaf and not tree[100].is_leaf
        assert tree[100].variable_fee == Decimal("7.0000")
        # A refresh replaces the cache instead of adding to it.
        assert await service.refresh_tree(client, "de") == count
        assert len(service.cached("de")) == count

        results = {s.local_category: s for s in await service.suggest(client, "de")}
    assert results["Elektronik > Handys"].id_category == SMARTPHONES
    assert results["Elektronik > Handys"].source == "suggested"
    assert results["Audio"].id_category is not None
    assert results["Misc"].source == "none" and results["Misc"].note

    service.map("de", "Audio", SMARTPHONES)
    with pytest.raises(ValueError, match="subcategories"):
        service.map("de", "Audio", 100)
    async with open_client(sandbox, recorder) as client:
        again = {s.local_category: s for s in await service.suggest(client, "de")}
    assert again["Audio"].source == "manual" and again["Audio"].id_category == SMARTPHONES
    with factory() as session:
        phone = session.scalars(select(Product).where(Product.sku == "P-1")).one()
        assert kaufland_category_for(session, phone, "de") == SMARTPHONES
        assert kaufland_category_for(session, phone, "cz") is None
        assert CategoryLookup(session, "de")(phone) == SMARTPHONES


async def test_product_data_for_a_new_ean_until_ready(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    factory: sessionmaker[Session],
) -> None:
    account = make_account(factory, sandbox, ("de", "cz"))
    ean = gtin13("290000000011")
    with transaction(factory) as session:
        add_product(
            session,
            "NEW-1",
            ean,
            "Acme Phone X Smartphone",
            description="A phone that is new to Kaufland.",
            brand="Acme",
            category="Phones",
            image_urls=["https://example.com/x.jpg"],
        )
    categories = CategoryService(factory)
    categories.map("de", "Phones", SMARTPHONES)  # no cached tree: taken as given
    service = ProductDataService(factory)
    async with open_client(sandbox, recorder) as client:
        [sent] = await service.push(client, account, "de")
        assert sent.action == "sent" and "category 10011" in sent.summary
        [status] = await service.refresh_status(client, account, "de")
        assert not status.product_ready
        assert status.missing_attributes == ["colour"]
        assert "colour" in status.summary

        # Nothing changed: not sent again.
        [unchanged] = await service.push(client, account, "de")
        assert unchanged.action == "unchanged"

        with transaction(factory) as session:
            set_attribute(session, "NEW-1", "colour", ["schwarz"])
        [resent] = await service.push(client, account, "de")
        assert resent.action == "sent" and "colour" in resent.summary
        [ready] = await service.refresh_status(client, account, "de")
        assert ready.product_ready and ready.update_status == "SUCCESS"
        assert "live on Kaufland" in ready.summary

        # Kaufland knows the EAN now: no product data needed any more.
        [known] = await service.push(client, account, "de")
        assert known.action == "known"
    [stored] = service.statuses(account, "de")
    assert stored.product_ready and stored.missing_attributes == []


async def test_import_offers_reports_then_creates_as_directed(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    factory: sessionmaker[Session],
) -> None:
    account = make_account(factory, sandbox, ("de", "cz"))
    async with open_client(sandbox, recorder) as client:
        units = [u async for u in client.units.iter_all(storefront="de", embedded=["products"])]
        by_offer = {u.id_offer: u for u in units}
        first, second = by_offer["SKU-00001"], by_offer["SKU-00002"]
        assert second.product is not None and second.product.eans
        with transaction(factory) as session:
            add_product(session, "SKU-00001", first.product.eans[0], "mine")  # type: ignore[union-attr]
            add_product(session, "LOCAL-2", second.product.eans[0], "other SKU, same EAN")
        settings = account.storefront("de")
        assert settings is not None

        report = await import_offers(client, factory, account, settings)
        assert report.units == len(units)
        assert (report.bound_by_sku, report.bound_by_ean) == (1, 1)
        assert report.created == []
        assert len(report.unmatched) == len(units) - 2
        assert all("not created locally" in u.reason for u in report.unmatched)
        with factory() as session:
            bindings = {b.sku: b for b in session.scalars(select(OfferBinding))}
        assert bindings["SKU-00001"].id_unit == first.id_unit
        assert bindings["LOCAL-2"].id_unit == second.id_unit
        assert bindings["LOCAL-2"].state is BindingState.ACTIVE

        with transaction(factory) as session:
            repo = AccountRepository(session)
            acc = repo.get("shop")
            repo.update_storefront(
                acc,
                "de",
                {
                    "direction_offers": "from_kaufland",
                    "direction_prices": "both",
                    "direction_stock": "from_kaufland",
                    "buffer_stock": 2,
                },
            )
            settings = acc.storefront("de")
            assert settings is not None
        report = await import_offers(client, factory, acc, settings, chunk_size=7)
        assert report.already_bound == 2
        assert len(report.created) == len(units) - 2 and report.unmatched == []
        assert report.prices_updated == 2
        incomplete = [u for u in units if u.id_offer and u.id_offer.startswith("SKU-NEW")]
        assert incomplete
        with factory() as session:
            products = {p.sku: p for p in session.scalars(select(Product))}
            assert products["SKU-00001"].price_minor == first.listing_price
            new = products[incomplete[0].id_offer or ""]
            assert new.title.startswith("EAN ")
            created = products[units[5].id_offer or ""]
            assert created.price_minor == units[5].listing_price
            assert created.currency is Currency.EUR
            levels = {(lvl.product_id, lvl.quantity) for lvl in session.scalars(select(StockLevel))}
            amount = units[5].amount or 0
            assert (created.id, amount + 2 if amount else 0) in levels
            assert session.query(OfferBinding).count() == len(units)

        # A second run finds everything bound and changes nothing.
        again = await import_offers(client, factory, acc, settings)
        assert again.already_bound == len(units)
        assert again.created == [] and again.prices_updated == 0 and again.stock_updated == 0
