"""Fee estimates on SQLite and PostgreSQL: the exporter's price, the mapped category's fees,
and every reason a SKU cannot be estimated."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.protocol import ProductRecord
from kaufland_sync.pricing import PricingError
from kaufland_sync.reports.fees import FeeReport, FeeStatus, estimate_fee, fee_report, offer_price
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account, AccountStorefront
from kaufland_sync.store.models.catalog import Currency, Product
from kaufland_sync.store.models.categories import (
    CategoryMapping,
    CategorySource,
    KauflandCategory,
)
from kaufland_sync.sync.mappers.offers import MappingError, OfferSettings, offer_payload
from tests.builders import new_account


def product(
    sku: str,
    category: str | None,
    price: int = 1999,
    currency: Currency = Currency.EUR,
    *,
    active: bool = True,
) -> Product:
    return Product(
        sku=sku,
        ean="4006381333931",
        title=sku.title(),
        category=category,
        price_minor=price,
        currency=currency,
        active=active,
        content_hash="0" * 64,
    )


def category(
    storefront: str, id_category: int, variable: str | None, fixed: str | None
) -> KauflandCategory:
    return KauflandCategory(
        storefront=Storefront(storefront),
        id_category=id_category,
        name=f"cat-{id_category}",
        title=f"Category {id_category}",
        is_leaf=True,
        variable_fee=None if variable is None else Decimal(variable),
        fixed_fee=None if fixed is None else Decimal(fixed),
    )


def mapping(storefront: str, local: str, id_category: int) -> CategoryMapping:
    return CategoryMapping(
        storefront=Storefront(storefront),
        local_category=local,
        id_category=id_category,
        source=CategorySource.MANUAL,
    )


def seed(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        shop = new_account(session, rates={"de": "1", "cz": "25.2"})
        cz = shop.storefront("cz")
        assert cz is not None
        cz.rounding = "1"  # whole CZK
        session.add_all(
            [
                product("SPADE-1", "Garden > Spades"),
                product("NOCAT", None),
                product("UNMAPPED", "Kitchen"),
                product("GONE", "Garden > Old"),
                product("ZLOTY", "Garden > Spades", 4300, Currency.PLN),
                product("OFF", "Garden > Spades", active=False),
                product("NOFEES", "Misc"),
                category("de", 100, "10.5", "0.70"),
                category("de", 101, None, None),
                category("cz", 100, "12", "5"),
                mapping("de", "Garden > Spades", 100),
                mapping("de", "Garden > Old", 999),
                mapping("de", "Misc", 101),
                mapping("cz", "Garden > Spades", 100),
            ]
        )


def run(factory: sessionmaker[Session], **options: Any) -> FeeReport:
    with factory() as session:
        account = session.scalars(select(Account).where(Account.name == "shop")).one()
        return fee_report(session, account, **options)


def test_estimate_fee_rounds_each_part_half_up() -> None:
    assert estimate_fee(1999, Decimal("10.5"), Decimal("0.70")) == 210 + 70  # 209.895 → 210
    assert estimate_fee(1000, Decimal("12.345"), None) == 123  # 123.45 → 123
    assert estimate_fee(1000, None, Decimal("0.005")) == 1  # 0.5 → 1
    assert estimate_fee(1000, None, None) == 0


def test_every_active_sku_on_every_storefront_with_its_fee_or_the_reason_for_none(
    factory: sessionmaker[Session],
) -> None:
    seed(factory)
    report = run(factory)
    rows = {(r.sku, r.storefront.value): r for r in report.rows}
    assert [(r.sku, r.storefront.value) for r in report.rows] == [
        (sku, code)
        for sku in ("GONE", "NOCAT", "NOFEES", "SPADE-1", "UNMAPPED", "ZLOTY")
        for code in ("cz", "de")
    ]

    de = rows[("SPADE-1", "de")]
    assert (de.status, de.currency, de.price, de.id_category, de.fee, de.revenue) == (
        FeeStatus.OK,
        "EUR",
        1999,
        100,
        280,
        1719,
    )
    assert de.as_dict()["variable_fee"] == "10.5" and de.as_dict()["fixed_fee"] == "0.7"
    cz = rows[("SPADE-1", "cz")]
    # 19.99 EUR x 25.2 = 503.748 CZK, whole CZK → 504.00; fee 12 % + 5 CZK.
    assert (cz.status, cz.currency, cz.price, cz.fee, cz.revenue) == (
        FeeStatus.OK,
        "CZK",
        50400,
        6048 + 500,
        50400 - 6548,
    )

    assert rows[("NOCAT", "de")].status is FeeStatus.NO_CATEGORY
    assert rows[("UNMAPPED", "de")].status is FeeStatus.UNMAPPED
    assert rows[("GONE", "de")].status is FeeStatus.NOT_IN_TREE
    assert rows[("GONE", "de")].id_category == 999
    assert rows[("GONE", "cz")].status is FeeStatus.UNMAPPED
    assert rows[("NOFEES", "de")].status is FeeStatus.NO_FEES
    zloty = rows[("ZLOTY", "de")]
    assert zloty.status is FeeStatus.NO_PRICE and zloty.price is None
    assert zloty.note is not None and "priced in PLN" in zloty.note
    assert all(r.fee is None for r in report.rows if r.status is not FeeStatus.OK)
    assert report.counts() == {
        "ok": 2,
        "no_category": 2,
        "unmapped": 4,  # UNMAPPED on both, GONE and NOFEES on cz
        "not_in_tree": 1,
        "no_fees": 1,
        "no_price": 2,
    }


def test_a_storefront_and_skus_narrow_the_report(factory: sessionmaker[Session]) -> None:
    seed(factory)
    report = run(factory, storefront=Storefront.CZ, skus=["SPADE-1", "NOCAT", "OFF"])
    assert [(r.sku, r.storefront.value, r.status.value) for r in report.rows] == [
        ("NOCAT", "cz", "no_category"),
        ("SPADE-1", "cz", "ok"),
    ]
    # A storefront the account does not sell on has no price rule: no rows.
    assert run(factory, storefront=Storefront.PL).rows == []


@pytest.mark.parametrize(
    ("code", "rate", "markup", "rounding", "price", "currency"),
    [
        ("de", "1", "0", "0.01", 1999, Currency.EUR),
        ("de", "1", "12.5", "0.99", 1999, Currency.EUR),
        ("cz", "25.2", "3", "1", 1999, Currency.EUR),
        ("cz", "25.2", "0", "0.99", 50000, Currency.CZK),  # already in CZK: rate not applied
        ("pl", "4.3", "0", "0.49", 1, Currency.EUR),
        ("pl", "1", "0", "0.01", 1999, Currency.EUR),  # needs a rate: refused
        ("de", "1", "0", "0.01", 1999, Currency.PLN),  # not the catalogue currency: refused
    ],
)
def test_the_price_is_the_one_the_offers_exporter_publishes(
    code: str, rate: str, markup: str, rounding: str, price: int, currency: Currency
) -> None:
    settings = AccountStorefront(
        storefront=Storefront(code),
        currency_rate=Decimal(rate),
        markup_percent=Decimal(markup),
        rounding=rounding,
        handling_time=1,
        buffer_stock=0,
    )
    item = product("SKU", None, price, currency)
    record = ProductRecord(
        sku="SKU", ean=item.ean, title="Sku", price_minor=price, currency=currency
    )
    try:
        expected: int | None = offer_payload(
            record, [], 0, OfferSettings.from_storefront(settings, base_currency=None)
        ).listing_price
    except MappingError:
        expected = None
    try:
        got: int | None = offer_price(item, settings, None)
    except PricingError:
        got = None
    assert got == expected
