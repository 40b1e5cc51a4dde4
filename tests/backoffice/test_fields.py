"""Field parsers: prices to exact minor units, EAN/GTIN normalisation, Kaufland spellings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaufland_sync.backoffice._fields import (
    FieldError,
    format_price,
    normalise_ean,
    parse_active,
    parse_condition,
    parse_image_urls,
    parse_non_negative_int,
    parse_price,
    parse_vat_indicator,
)
from kaufland_sync.store.models.catalog import Condition, VatIndicator


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("12", 1200),
        ("12.5", 1250),
        ("12,5", 1250),
        ("12.99", 1299),
        ("0,01", 1),
        ("1234.5", 123450),
        ("1 234,50", 123450),
        ("1\u00a0234,50", 123450),
        ("1.234,50", 123450),
        ("1,234.50", 123450),
        ("1'234.50", 123450),
        ("1.234.567", 123456700),
        ("1,234,567.89", 123456789),
        ("12.", 1200),
        ("19.99", 1999),  # 19.99 * 100 is 1998.9999999999998 in floats
    ],
)
def test_parse_price_gives_exact_minor_units(text: str, minor: int) -> None:
    assert parse_price(text) == minor


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("-5", "not a price"),
        ("12 EUR", "not a price"),
        ("1.234", "ambiguous"),
        ("1,234", "ambiguous"),
        ("12.345,6789", "more than two decimal"),
        ("12,3,4", "thousands separator"),
        ("1.23,45", "thousands separator"),
        ("1,5.000", "thousands separator"),
        ("abc", "not a price"),
    ],
)
def test_parse_price_refuses_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(FieldError, match=reason):
        parse_price(text)


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["plain", "comma", "grouped"]))
def test_parse_price_round_trips_every_amount(minor: int, style: str) -> None:
    text = format_price(minor)
    whole, cents = text.split(".")
    if style == "comma":
        text = f"{whole},{cents}"
    elif style == "grouped":
        groups = f"{int(whole):,}".replace(",", ".")
        text = f"{groups},{cents}"
    assert parse_price(text) == minor


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("4006381333931", "4006381333931"),
        ("400 6381 333931", "4006381333931"),
        ("4006381-333931", "4006381333931"),
        ("73513537", "0000073513537"),  # EAN-8 padded to 13
        ("036000291452", "0036000291452"),  # UPC-A padded to 13
        ("0036000291452", "0036000291452"),  # leading zeros kept
        ("04006381333931", "4006381333931"),  # GTIN-14 with indicator 0 is the EAN-13
        ("14006381333938", "14006381333938"),  # a real GTIN-14 stays
    ],
)
def test_normalise_ean(text: str, normalised: str) -> None:
    assert normalise_ean(text) == normalised


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("4006381333932", "wrong check digit"),
        ("400638133393", "wrong check digit"),
        ("40063813339", "8, 12, 13 or 14 digits"),
        ("40063813339A1", "only digits"),
    ],
)
def test_normalise_ean_refuses(text: str, reason: str) -> None:
    with pytest.raises(FieldError, match=reason):
        normalise_ean(text)


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("", Condition.NEW),
        ("new", Condition.NEW),
        ("100", Condition.NEW),
        ("USED___GOOD", Condition.USED_GOOD),
        ("used - very good", Condition.USED_VERY_GOOD),
        ("Refurbished-As New", Condition.REFURBISHED_AS_NEW),
        ("500", Condition.USED_ACCEPTABLE),
    ],
)
def test_parse_condition_accepts_kauflands_spellings(text: str, condition: Condition) -> None:
    assert parse_condition(text) == condition


def test_other_fields() -> None:
    with pytest.raises(FieldError, match="unknown condition"):
        parse_condition("mint")
    assert parse_vat_indicator("Standard_Rate") == VatIndicator.STANDARD_RATE
    assert parse_vat_indicator("") is None
    with pytest.raises(FieldError, match="VAT indicator"):
        parse_vat_indicator("19")
    assert parse_image_urls("https://a.example/1.jpg | https://a.example/2.jpg\nhttp://b/3") == [
        "https://a.example/1.jpg",
        "https://a.example/2.jpg",
        "http://b/3",
    ]
    with pytest.raises(FieldError, match="not an http"):
        parse_image_urls("ftp://a/1.jpg")
    assert parse_non_negative_int("1 200") == 1200
    with pytest.raises(FieldError, match="whole number"):
        parse_non_negative_int("-1")
    with pytest.raises(FieldError, match="more than 100"):
        parse_non_negative_int("101", maximum=100)
    assert parse_active("") is True
    assert parse_active("Nein") is False
    with pytest.raises(FieldError):
        parse_active("maybe")
