"""The offer mapper: pure rules from product, stock and settings to a unit payload."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kaufland_sync.backoffice.protocol import Condition, Currency, ProductRecord, StockLevel
from kaufland_sync.pricing import PriceRule, RoundingRule, StockRule
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.sync.mappers.offers import MappingError, OfferSettings, offer_payload

DE = OfferSettings(storefront=Storefront.DE, handling_time=2)
CZ = OfferSettings(
    storefront=Storefront.CZ,
    price_rule=PriceRule(currency_rate=Decimal("25.2"), rounding=RoundingRule.parse("1")),
    stock_rule=StockRule(buffer=2),
    handling_time=3,
)


def product(**changes: object) -> ProductRecord:
    values: dict[str, object] = {
        "sku": "SKU-1",
        "ean": "4006381333931",
        "title": "Pen",
        "price_minor": 1234,
        "currency": Currency.EUR,
    }
    values.update(changes)
    return ProductRecord(**values)  # type: ignore[arg-type]


def levels(*pairs: tuple[str, int]) -> list[StockLevel]:
    return [StockLevel("SKU-1", code, qty) for code, qty in pairs]


def test_eur_product_on_de_and_cz() -> None:
    de = offer_payload(product(), levels(("default", 5)), 0, DE)
    assert (de.id_offer, de.ean, de.listing_price, de.amount, de.handling_time) == (
        "SKU-1", "4006381333931", 1234, 5, 2
    )  # fmt: skip
    cz = offer_payload(product(), levels(("default", 5)), 1, CZ)
    assert cz.listing_price == 31100  # 12.34 x 25.2 = 310.97 → 311 CZK
    assert cz.amount == 2  # 5 on hand - buffer 2 - reserved 1
    assert de.minimum_price is None and de.condition == "NEW"


def test_product_in_storefront_currency_is_not_converted() -> None:
    payload = offer_payload(product(currency=Currency.CZK, price_minor=29900), [], 0, CZ)
    assert payload.listing_price == 29900


def test_mapping_errors_name_sku_and_field() -> None:
    with pytest.raises(MappingError) as caught:
        offer_payload(product(), [], 0, OfferSettings(storefront=Storefront.DE))
    assert caught.value.field == "handling_time" and caught.value.sku == "SKU-1"
    with pytest.raises(MappingError, match="currency rate"):
        offer_payload(product(), [], 0, OfferSettings(storefront=Storefront.PL, handling_time=1))
    with pytest.raises(MappingError, match="listing_price"):
        offer_payload(product(price_minor=10**12), [], 0, DE)


def test_only_mapped_warehouses_count_and_the_fullest_is_named() -> None:
    settings = OfferSettings(
        storefront=Storefront.DE, handling_time=1, warehouses={"a": 501, "b": 502}
    )
    payload = offer_payload(product(), levels(("a", 2), ("b", 7), ("c", 100)), 0, settings)
    assert payload.amount == 9 and payload.id_warehouse == 502
    tie = offer_payload(product(), levels(("a", 3), ("b", 3)), 0, settings)
    assert tie.id_warehouse == 501


def test_overrides_and_minimum_price() -> None:
    settings = OfferSettings(
        storefront=Storefront.DE,
        handling_time=1,
        condition="USED___GOOD",
        vat_indicator="reduced_rate_1",
        price_rule=PriceRule(minimum_price_percent=Decimal(90)),
    )
    used = offer_payload(product(condition=Condition.USED_AS_NEW, handling_time=5), [], 0, settings)
    assert (used.condition, used.handling_time) == ("USED___AS_NEW", 5)
    new = offer_payload(product(), [], 0, settings)
    assert new.condition == "USED___GOOD" and new.vat_indicator == "reduced_rate_1"
    assert new.minimum_price == 1110


def test_hash_groups_separate_stock_from_the_rest() -> None:
    a = offer_payload(product(), levels(("x", 5)), 0, DE)
    b = offer_payload(product(), levels(("x", 6)), 0, DE)
    c = offer_payload(product(price_minor=999), levels(("x", 5)), 0, DE)
    assert a.payload_hash() == b.payload_hash() and a.stock_hash() != b.stock_hash()
    assert a.payload_hash() != c.payload_hash() and a.stock_hash() == c.stock_hash()
    assert a.payload_hash(prices=False) == c.payload_hash(prices=False)
    assert a.patch(offer=False).to_body() == {"amount": 5}
    body = a.patch().to_body()
    assert "ean" not in body and "condition" not in body and body["listing_price"] == 1234
    assert a.create_request().to_body()["id_offer"] == "SKU-1"


def test_a_rate_converts_only_from_the_catalogue_currency() -> None:
    """cz's rate is EUR → CZK: applying it to a PLN price would publish a wrong price."""
    with pytest.raises(MappingError, match=r"priced in PLN.*converts from EUR.*--base-currency"):
        offer_payload(product(currency=Currency.PLN), [], 0, CZ)
    pln_catalogue = OfferSettings(
        storefront=Storefront.CZ,
        price_rule=PriceRule(currency_rate=Decimal("5.86"), rounding=RoundingRule.parse("1")),
        handling_time=1,
        base_currency="PLN",
    )
    payload = offer_payload(product(currency=Currency.PLN, price_minor=1999), [], 0, pln_catalogue)
    assert payload.listing_price == 11700  # 19.99 PLN x 5.86 = 117.14 → 117 CZK
    with pytest.raises(MappingError, match=r"priced in EUR.*converts from PLN"):
        offer_payload(product(), [], 0, pln_catalogue)
