"""``rule_for_currency``: which rule converts a price on a storefront, shared by the offers
mapper and the fee report so both publish and estimate the same price."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kaufland_sync.pricing import (
    CurrencyMismatchError,
    PriceRule,
    RoundingRule,
    convert_price,
    rule_for_currency,
)

CZ_RULE = PriceRule(
    currency_rate=Decimal("25.2"),
    markup_percent=Decimal(10),
    rounding=RoundingRule.parse("1"),
    minimum_price_percent=Decimal(90),
)


def for_cz(price_currency: str, rule: PriceRule = CZ_RULE, base: str | None = None) -> PriceRule:
    return rule_for_currency(
        rule,
        price_currency=price_currency,
        storefront="cz",
        storefront_currency="CZK",
        base_currency=base,
    )


def test_the_base_currency_gets_the_whole_rule() -> None:
    assert for_cz("EUR") is CZ_RULE
    # 10.00 EUR x 25.2 x 1.1 = 277.20 CZK, to the nearest whole koruna
    assert convert_price(1000, for_cz("EUR")) == 27700


def test_a_price_already_in_the_storefront_currency_keeps_markup_and_rounding_only() -> None:
    rule = for_cz("CZK")
    assert rule.currency_rate == 1
    assert (rule.markup_percent, rule.rounding, rule.minimum_price_percent) == (
        CZ_RULE.markup_percent,
        CZ_RULE.rounding,
        CZ_RULE.minimum_price_percent,
    )
    assert convert_price(25000, rule) == 27500


def test_another_currency_is_refused_naming_what_the_rate_converts_from() -> None:
    with pytest.raises(CurrencyMismatchError, match="converts from EUR") as caught:
        for_cz("PLN")
    assert caught.value.no_rate is False
    with pytest.raises(CurrencyMismatchError, match="converts from PLN"):
        for_cz("EUR", base="PLN")
    assert for_cz("PLN", base="PLN") is CZ_RULE


def test_the_base_currency_without_a_rate_is_refused() -> None:
    with pytest.raises(CurrencyMismatchError, match=r"set a currency rate for cz \(EUR → CZK\)"):
        for_cz("EUR", PriceRule())
    try:
        for_cz("EUR", PriceRule())
    except CurrencyMismatchError as error:
        assert error.no_rate is True
