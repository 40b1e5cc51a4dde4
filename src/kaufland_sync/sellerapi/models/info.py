"""Models of ``/status`` and ``/info``."""

from __future__ import annotations

from pydantic import Field

from kaufland_sync.sellerapi.models.common import (
    ApiModel,
    Lenient,
    StorefrontValue,
    VatIndicator,
)

__all__ = ["CountryVatRates", "PingMessage", "VatRate"]


class PingMessage(ApiModel):
    message: str


class VatRate(ApiModel):
    """``value`` is a percentage (19 means 19 %)."""

    vat_indicator: Lenient[VatIndicator]
    value: float


class CountryVatRates(ApiModel):
    storefront: StorefrontValue
    vat_rates: list[VatRate] = Field(default_factory=list)
