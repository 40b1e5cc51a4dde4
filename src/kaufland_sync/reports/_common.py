"""What every report shares: the account's base currency and its conversion, ratios, storefronts.

Money stays in integer minor units of its currency throughout. Conversion to the account's
base currency is exact ``Decimal`` division, rounded once per converted amount to whole minor
units, half up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, func

from kaufland_sync.pricing import DEFAULT_BASE_CURRENCY
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import line_revenue

__all__ = [
    "DEFAULT_BASE_CURRENCY",
    "Conversion",
    "Ratio",
    "counts_in_words",
    "report_storefronts",
    "revenue_sum",
    "utc_date",
]


_HUNDREDTH = Decimal("0.01")


#: The order line status Kaufland gives a cancelled unit: it earns nothing.
def revenue_sum() -> ColumnElement[Any]:
    """The revenue of the order lines a query groups, in their order's currency (minor units):
    ``price + shipping_rate`` of every line Kaufland has not cancelled. One definition, so the
    dashboard and the customer pages can never disagree about what a sale brought in."""
    return func.sum(line_revenue())


def utc_date(moment: datetime) -> date:
    """The UTC calendar date of an aware datetime (the store only holds aware UTC values)."""
    return moment.date()


@dataclass(frozen=True, slots=True)
class Ratio:
    """A rate with what it is made of, so a reader can check it: ``numerator / denominator``."""

    numerator: int
    denominator: int

    @property
    def percent(self) -> Decimal | None:
        """``numerator / denominator * 100`` to two decimal places (half up); None when the
        denominator is 0 (nothing to measure)."""
        if self.denominator == 0:
            return None
        value = Decimal(self.numerator) * 100 / Decimal(self.denominator)
        return value.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)

    def as_dict(self) -> dict[str, int | float | None]:
        percent = self.percent
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "percent": None if percent is None else float(percent),
        }


class Conversion:
    """Amounts of an account's storefronts in the account's base currency.

    ``AccountStorefront.currency_rate`` is the factor the offers exporter multiplies a catalogue
    (base-currency) price by to get the storefront price, so a storefront amount in base
    currency is ``amount / currency_rate``. As in the exporter, the rate applies only between
    the base currency and a storefront's *other* currency: an amount already in the base
    currency is taken as it is, and a storefront in another currency whose rate is still the
    default 1 (or that the account no longer sells on) has no usable rate.
    """

    def __init__(self, account: Account) -> None:
        self.base_currency = account.base_currency or DEFAULT_BASE_CURRENCY
        self._rates = {s.storefront: s.currency_rate for s in account.storefronts}

    def rate(self, storefront: Storefront, currency: str) -> Decimal | None:
        """Base → ``currency`` factor for amounts of ``storefront``; None when unknown."""
        if currency == self.base_currency:
            return Decimal(1)
        if currency != storefront.currency.value:
            return None
        rate = self._rates.get(storefront)
        return rate if rate is not None and rate > 0 and rate != 1 else None

    def to_base(self, amount: int, storefront: Storefront, currency: str) -> int | None:
        """``amount`` (minor units of ``currency``) in minor units of the base currency,
        rounded half up; None when there is no rate."""
        rate = self.rate(storefront, currency)
        if rate is None:
            return None
        return int((Decimal(amount) / rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def report_storefronts(
    account: Account, only: Storefront | None, seen: Iterable[Storefront]
) -> list[Storefront]:
    """The storefronts a report has rows for: ``only`` when given, else every storefront the
    account sells on plus any other found in its data, in code order."""
    if only is not None:
        return [only]
    codes = {s.storefront for s in account.storefronts} | set(seen)
    return sorted(codes, key=lambda code: code.value)


#: The plural nouns among job and sync count names, for a count of one.
_SINGULAR = {
    "addresses": "address",
    "calls": "call",
    "categories": "category",
    "lines": "line",
    "messages": "message",
    "offers": "offer",
    "orders": "order",
    "products": "product",
    "returns": "return",
    "shipments": "shipment",
    "skus": "SKU",
    "storefronts": "storefront",
    "tickets": "ticket",
    "units": "unit",
}


def counts_in_words(parts: Iterable[tuple[str, int]]) -> str:
    """``"3 created, 1 order new"`` from (count name, count) pairs, for people: zero counts left
    out, ``_`` as spaces, a plural noun singular for one; ``"nothing to do"`` when all are 0."""
    shown = []
    for name, count in parts:
        if not count:
            continue
        words = name.split("_")
        if count == 1:
            words = [_SINGULAR.get(word, word) for word in words]
        else:
            words = ["SKUs" if word == "skus" else word for word in words]
        shown.append(f"{count} {' '.join(words)}")
    return ", ".join(shown) or "nothing to do"
