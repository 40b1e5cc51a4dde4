"""Rounding rules as the store keeps them, and exact decimals (the arithmetic of rounding is
tested with ``kaufland_sync.pricing``)."""

from __future__ import annotations

import pytest

from kaufland_sync.store.models.accounts import parse_rounding


def test_parse_rounding_canonicalises_and_names_the_choices() -> None:
    assert parse_rounding("1.00") == "1"
    assert parse_rounding(" 0.990 ") == "0.99"
    with pytest.raises(ValueError, match=r"'0\.5x': must be one of 0\.01, "):
        parse_rounding("0.5x")
