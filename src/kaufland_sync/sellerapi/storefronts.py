"""Kaufland storefronts with their currency, default locale and minor-unit rules (pure)."""

from __future__ import annotations

import enum

__all__ = ["Currency", "Storefront"]


class Currency(enum.StrEnum):
    """Currencies Kaufland prices are expressed in (the spec's ``Currency`` enum)."""

    EUR = "EUR"
    CZK = "CZK"
    PLN = "PLN"

    @property
    def minor_units(self) -> int:
        """How many minor units (cents, hellers, grosze) make one major unit."""
        return 100


# Highest listing price per currency, in minor units, as stated in the spec's UnitRequest text.
_MAX_LISTING_PRICE = {
    Currency.EUR: 1_000_000 * 100,
    Currency.CZK: 25_000_000 * 100,
    Currency.PLN: 4_500_000 * 100,
}


class Storefront(enum.StrEnum):
    """A Kaufland storefront, passed as the ``storefront`` query parameter (lowercase code)."""

    DE = "de"
    CZ = "cz"
    SK = "sk"
    PL = "pl"
    AT = "at"
    FR = "fr"
    IT = "it"

    @property
    def currency(self) -> Currency:
        return _CURRENCY[self]

    @property
    def locale(self) -> str:
        """The storefront's default locale (``de-DE`` for ``de``), used by product-data calls."""
        return _LOCALE[self]

    @property
    def country(self) -> str:
        """ISO 3166-1 alpha-2 country code of the storefront."""
        return "CZ" if self is Storefront.CZ else self.value.upper()

    @property
    def max_listing_price(self) -> int:
        """Highest ``listing_price`` Kaufland accepts here, in minor units."""
        return _MAX_LISTING_PRICE[self.currency]

    @classmethod
    def parse(cls, value: str | Storefront) -> Storefront:
        """Parse a storefront code case-insensitively, with an error naming the valid codes."""
        if isinstance(value, Storefront):
            return value
        try:
            return cls(value.strip().lower())
        except ValueError:
            valid = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown storefront {value!r}; valid storefronts: {valid}") from None


_CURRENCY = {
    Storefront.DE: Currency.EUR,
    Storefront.CZ: Currency.CZK,
    Storefront.SK: Currency.EUR,
    Storefront.PL: Currency.PLN,
    Storefront.AT: Currency.EUR,
    Storefront.FR: Currency.EUR,
    Storefront.IT: Currency.EUR,
}

_LOCALE = {
    Storefront.DE: "de-DE",
    Storefront.CZ: "cs-CZ",
    Storefront.SK: "sk-SK",
    Storefront.PL: "pl-PL",
    Storefront.AT: "de-AT",
    Storefront.FR: "fr-FR",
    Storefront.IT: "it-IT",
}
