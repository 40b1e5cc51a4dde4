"""The Kaufland unit → catalogue mapper (``sync.mappers.units_in``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kaufland_sync.pricing import PriceRule, convert_price
from kaufland_sync.sellerapi.models import UnitEmbedded
from kaufland_sync.store.models.catalog import Condition
from kaufland_sync.sync.mappers.units_in import (
    local_condition,
    local_price_minor,
    local_stock,
    unit_ean,
    unit_is_active,
)


def test_price_is_converted_back_with_rate_and_markup() -> None:
    assert local_price_minor(2520, currency_rate=Decimal("25.2"), markup_percent=Decimal(0)) == 100
    assert local_price_minor(1100, currency_rate=Decimal(1), markup_percent=Decimal(10)) == 1000
    # Half up on the minor unit.
    assert local_price_minor(3, currency_rate=Decimal(2), markup_percent=Decimal(0)) == 2
    with pytest.raises(ValueError):
        local_price_minor(100, currency_rate=Decimal(0), markup_percent=Decimal(0))


def test_round_trip_with_a_step_rule_returns_the_catalogue_price() -> None:
    rule = PriceRule(currency_rate=Decimal("25.2"))
    for catalogue in (99, 1299, 4550):
        listing = convert_price(catalogue, rule)
        assert (
            local_price_minor(listing, currency_rate=Decimal("25.2"), markup_percent=Decimal(0))
            == catalogue
        )


def test_stock_adds_the_buffer_back_only_for_a_positive_amount() -> None:
    assert local_stock(5, buffer_stock=2) == 7
    assert local_stock(0, buffer_stock=2) == 0
    assert local_stock(None, buffer_stock=2) == 0


def test_unit_fields() -> None:
    unit = UnitEmbedded.model_validate(
        {
            "id_unit": 1,
            "status": "ONHOLD",
            "condition": "USED___GOOD",
            "product": {"id_product": 9, "eans": ["4006381333931"]},
        }
    )
    assert unit_ean(unit) == "4006381333931"
    assert not unit_is_active(unit)
    assert local_condition(unit.condition) is Condition.USED_GOOD
    assert local_condition("SOMETHING_NEW") is Condition.NEW
    bare = UnitEmbedded.model_validate({"id_unit": 2, "status": "INCOMPLETE"})
    assert unit_ean(bare) is None and unit_is_active(bare)
