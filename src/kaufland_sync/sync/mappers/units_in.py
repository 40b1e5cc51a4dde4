"""Kaufland units → our catalogue values (the ``import offers`` direction). Pure functions.

Price: the exporter computes ``listing_price = round(catalogue price * currency_rate *
(1 + markup_percent / 100))`` with the storefront's rounding rule. Going back divides by the
same coefficient and markup and rounds half up to a minor unit. The rounding rule cannot be
undone (24.99 CZK may have come from any catalogue price that rounds to it), so a price taken
from Kaufland and sent back may differ from Kaufland's by up to one rounding step; that is why
prices are only taken when the seller says Kaufland is the source (``direction_prices``).

Stock: Kaufland's ``amount`` is what was offered, i.e. on hand minus the buffer. Going back adds
the buffer again (for a positive amount), so a round trip through both directions is stable;
an amount of 0 maps to 0 on hand (anything up to the buffer would have offered 0).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from kaufland_sync.sellerapi.models import UnitCondition as KauflandCondition
from kaufland_sync.sellerapi.models import UnitEmbedded, UnitStatus
from kaufland_sync.store.models.catalog import Condition

__all__ = [
    "local_condition",
    "local_price_minor",
    "local_stock",
    "unit_ean",
    "unit_is_active",
]


def local_price_minor(
    listing_price: int, *, currency_rate: Decimal, markup_percent: Decimal
) -> int:
    """The catalogue price (minor units) that the storefront's rate and markup turn into
    ``listing_price`` (minor units of the storefront currency), rounded half up."""
    if currency_rate <= 0:
        raise ValueError("currency_rate must be positive")
    factor = currency_rate * (1 + markup_percent / 100)
    if factor <= 0:
        raise ValueError("currency_rate and markup_percent give a non-positive factor")
    return int((Decimal(listing_price) / factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def local_stock(amount: int | None, *, buffer_stock: int) -> int:
    """Quantity on hand for an offered ``amount`` (see the module docstring)."""
    if not amount or amount <= 0:
        return 0
    return amount + max(buffer_stock, 0)


def local_condition(value: object) -> Condition:
    """Kaufland's ``UnitCondition`` as our ``Condition`` (the same words); unknown → NEW."""
    text = value.value if isinstance(value, KauflandCondition) else str(value or "")
    try:
        return Condition(text)
    except ValueError:
        return Condition.NEW


def unit_ean(unit: UnitEmbedded) -> str | None:
    """The unit's EAN, from its embedded product (``embedded=products``); None without one."""
    if unit.product is None or not unit.product.eans:
        return None
    return unit.product.eans[0]


def unit_is_active(unit: UnitEmbedded) -> bool:
    """A unit on hold is an inactive product locally; available and incomplete ones are active."""
    return unit.status != UnitStatus.ONHOLD
