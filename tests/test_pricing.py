from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaufland_sync.pricing import (
    MAX_AMOUNT,
    PriceRule,
    PricingError,
    RoundingRule,
    StockRule,
    convert_price,
    minimum_price,
    offered_stock,
)


def rule(rate: str = "1", markup: str = "0", rounding: str = "0.01", minimum: str | None = None):
    return PriceRule(
        currency_rate=Decimal(rate),
        markup_percent=Decimal(markup),
        rounding=RoundingRule.parse(rounding),
        minimum_price_percent=Decimal(minimum) if minimum is not None else None,
    )


@pytest.mark.parametrize(
    ("price", "rate", "markup", "rounding", "expected"),
    [
        (1000, "25.2", "0", "1", 25200),  # 10.00 EUR -> 252 CZK
        (1999, "25.2", "0", "1", 50400),  # 503.748 CZK -> 504 CZK
        (1999, "25.2", "0", "0.99", 50399),  # 503.748 -> 503.99
        (2341, "1", "0", "0.99", 2399),  # 23.41 -> 23.99
        (2399, "1", "0", "0.99", 2399),  # already ends in .99
        (2400, "1", "0", "0.99", 2499),  # 24.00 -> 24.99 (round up, never down)
        (1000, "4.3", "10", "0.01", 4730),  # 10 EUR x 4.3 PLN x 1.10 = 47.30 PLN
        (1005, "1", "0", "0.1", 1010),  # half up to 10 cents
        (1234, "1", "0", "5", 1000),  # 12.34 -> 10 (nearest multiple of 5)
        (1250, "1", "0", "5", 1500),  # 12.50 -> 15 (half up)
    ],
)
def test_convert_price(price: int, rate: str, markup: str, rounding: str, expected: int) -> None:
    assert convert_price(price, rule(rate, markup, rounding)) == expected


def test_rounding_rule_names_the_valid_choices() -> None:
    with pytest.raises(PricingError, match=r"'0.5x': must be one of 0.01, .*0.99"):
        RoundingRule.parse("0.5x")
    assert str(RoundingRule.parse("0,99")) == "0.99"
    assert [str(RoundingRule.parse(t)) for t in ("1.00", "10", "0.90", " 0.990 ")] == [
        "1",
        "10",
        "0.9",
        "0.99",
    ]


def test_price_above_the_storefront_maximum_is_refused() -> None:
    with pytest.raises(PricingError, match="maximum"):
        convert_price(100_000_000, rule(), max_minor=99_999_999)


def test_price_rounded_to_zero_is_refused() -> None:
    with pytest.raises(PricingError, match="at least 1"):
        convert_price(1, rule(rounding="1"))


def test_rule_validation() -> None:
    with pytest.raises(PricingError, match="currency rate"):
        rule(rate="0")
    with pytest.raises(PricingError, match="markup"):
        rule(markup="-100")
    with pytest.raises(PricingError, match="minimum price"):
        rule(minimum="120")


def test_minimum_price_is_opt_in_and_rounded_down() -> None:
    assert minimum_price(2399, rule()) is None
    assert minimum_price(2399, rule(minimum="90")) == 2159  # 2159.1 -> 2159


@given(
    price=st.integers(min_value=1, max_value=10_000_000),
    rate=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=4),
    ending=st.sampled_from(["0.99", "0.95", "0.9", "0.49"]),
)
def test_endings_round_up_by_less_than_one_unit(price: int, rate: Decimal, ending: str) -> None:
    exact = Decimal(price) * rate  # in minor units
    result = convert_price(
        price, PriceRule(currency_rate=rate, rounding=RoundingRule.parse(ending))
    )
    assert result % 100 == int(Decimal(ending) * 100)
    assert exact <= result < exact + 100


@given(
    price=st.integers(min_value=1, max_value=10_000_000),
    step=st.sampled_from(["0.01", "0.05", "0.1", "0.5", "1", "5", "10"]),
)
def test_steps_land_on_a_multiple_within_half_a_step(price: int, step: str) -> None:
    step_minor = int(Decimal(step) * 100)
    try:
        result = convert_price(price, PriceRule(rounding=RoundingRule.parse(step)))
    except PricingError:
        assert price * 2 < step_minor  # only prices that round to 0 are refused
        return
    assert result % step_minor == 0
    assert abs(result - price) * 2 <= step_minor


@pytest.mark.parametrize(
    ("on_hand", "reserved", "buffer", "maximum", "expected"),
    [
        (10, 0, 0, None, 10),
        (10, 2, 3, None, 5),
        (3, 2, 3, None, 0),  # never negative
        (500, 0, 0, 100, 100),  # capped by the seller's maximum
        (200_000, 0, 0, None, MAX_AMOUNT),  # and by Kaufland's
    ],
)
def test_offered_stock(
    on_hand: int, reserved: int, buffer: int, maximum: int | None, expected: int
) -> None:
    assert offered_stock(on_hand, reserved, StockRule(buffer=buffer, maximum=maximum)) == expected


def test_stock_rule_validation() -> None:
    with pytest.raises(PricingError, match="buffer"):
        StockRule(buffer=-1)
