"""Unit (offer) models (``/units``): responses, the create/patch bodies and bulk results.

Prices are integer minor units of the storefront currency (``currency`` says which).
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import Field, model_validator

from kaufland_sync.sellerapi.models.common import (
    ApiModel,
    CurrencyValue,
    FulfillmentType,
    Lenient,
    RequestModel,
    StorefrontValue,
    UnitCondition,
    UtcDateTime,
    VatIndicator,
    WriteableVatIndicator,
)
from kaufland_sync.sellerapi.models.products import Product

__all__ = [
    "BULK_MAX_UNITS",
    "BulkUnitResult",
    "BulkUnitUpdate",
    "Unit",
    "UnitBase",
    "UnitEmbeddable",
    "UnitEmbedded",
    "UnitErrorDetail",
    "UnitPatchRequest",
    "UnitRequest",
    "UnitStatus",
    "WriteableUnitStatus",
]

BULK_MAX_UNITS = 150
"""Most units ``POST /units/bulk`` accepts in one request."""


class UnitStatus(enum.StrEnum):
    INCOMPLETE = "INCOMPLETE"
    AVAILABLE = "AVAILABLE"
    ONHOLD = "ONHOLD"


class WriteableUnitStatus(enum.StrEnum):
    """The statuses a PATCH may set."""

    AVAILABLE = "AVAILABLE"
    ONHOLD = "ONHOLD"


class UnitEmbeddable(enum.StrEnum):
    """Values of ``embedded`` on unit endpoints (``products`` only on reads)."""

    PRODUCTS = "products"
    ECO_PARTICIPATION = "eco_participation"
    BATTERY_PARTICIPATION = "battery_participation"


class UnitBase(ApiModel):
    """Fields common to ``Unit`` and ``UnitEmbedded`` (see there)."""

    id_unit: int
    id_offer: str | None = None
    id_product: int | None = None
    storefront: StorefrontValue | None = None
    currency: CurrencyValue | None = None
    status: Lenient[UnitStatus] | None = None
    condition: Lenient[UnitCondition] | None = None
    note: str | None = None
    listing_price: int | None = None
    minimum_price: int | None = None
    price: int | None = None
    amount: int | None = None
    handling_time: int | None = None
    shipping_rate: int | None = None
    transport_time_min: int | None = None
    transport_time_max: int | None = None
    id_shipping_group: int | None = None
    id_warehouse: int | None = None
    date_inserted_iso: UtcDateTime | None = None
    date_lastchange_iso: UtcDateTime | None = None
    fulfillment_type: Lenient[FulfillmentType] | None = None
    vat_indicator: Lenient[VatIndicator] | None = None
    eco_participation: int | None = None
    battery_participation: int | None = None
    product: Product | None = None


class Unit(UnitBase):
    """A unit as returned by ``GET/POST/PATCH /units`` (``product`` only when embedded).

    ``price`` is the effective price the buyer pays (Smart Pricing may lower it towards
    ``minimum_price``); ``listing_price`` is what the seller set.
    """


class UnitEmbedded(UnitBase):
    """A unit in the ``GET /units`` list."""


class UnitPatchRequest(RequestModel):
    """Body of ``PATCH /units/{id_unit}`` and ``unit_data`` of a bulk item; all fields optional."""

    status: WriteableUnitStatus | None = None
    amount: int | None = Field(default=None, ge=0)
    handling_time: int | None = Field(default=None, ge=0, le=100)
    listing_price: int | None = Field(default=None, ge=1)
    minimum_price: int | None = Field(default=None, ge=1)
    note: str | None = Field(default=None, max_length=250)
    id_shipping_group: int | None = None
    id_warehouse: int | None = None
    vat_indicator: WriteableVatIndicator | None = None
    eco_participation: int | None = Field(default=None, ge=1)
    battery_participation: int | None = Field(default=None, ge=1)


class UnitRequest(RequestModel):
    """Body of ``POST /units``.

    Required: ``id_offer`` (the seller's SKU; cannot be added later), ``handling_time``
    (0-100 working days), ``listing_price`` (≥ 1 minor unit) and one of ``ean`` /
    ``id_product``. ``condition`` is a ``UnitCondition`` or Kaufland's numeric code (100 = new).
    """

    id_offer: str = Field(min_length=1)
    handling_time: int = Field(ge=0, le=100)
    listing_price: int = Field(ge=1)
    ean: str | None = None
    id_product: int | None = None
    amount: int | None = Field(default=None, ge=0)
    minimum_price: int | None = Field(default=None, ge=1)
    note: str | None = Field(default=None, max_length=250)
    id_shipping_group: int | None = None
    id_warehouse: int | None = None
    condition: UnitCondition | int | None = None
    vat_indicator: WriteableVatIndicator | None = None
    eco_participation: int | None = Field(default=None, ge=1)
    battery_participation: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _needs_product_reference(self) -> UnitRequest:
        if not self.ean and self.id_product is None:
            raise ValueError("ean or id_product is required (which product the unit offers)")
        return self


class BulkUnitUpdate(RequestModel):
    """One item of ``POST /units/bulk``."""

    id_unit: int = Field(ge=1)
    unit_data: UnitPatchRequest


class UnitErrorDetail(ApiModel):
    field: str | None = None
    message: str | None = None


class BulkUnitResult(ApiModel):
    """The outcome for one unit of a bulk update (the 207 answer has one per unit).

    Success carries ``unit``; a validation failure ``message`` and ``errors``; an internal
    failure ``key`` and ``message``.
    """

    id_unit: int
    status_code: int
    unit: Unit | None = None
    message: str | None = None
    errors: list[UnitErrorDetail] | None = None
    key: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _int_status(cls, data: Any) -> Any:
        # The spec types status_code as a double in two of the three variants.
        if isinstance(data, dict) and isinstance(data.get("status_code"), float):
            data = {**data, "status_code": int(data["status_code"])}
        return data

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300
