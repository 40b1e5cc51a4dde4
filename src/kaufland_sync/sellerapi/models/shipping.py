"""Shipping groups, warehouses, carriers and KSS shipping labels."""

from __future__ import annotations

import enum

from pydantic import Field

from kaufland_sync.sellerapi.models.common import (
    ApiModel,
    CurrencyValue,
    Lenient,
    RequestModel,
    StorefrontValue,
)

__all__ = [
    "Carrier",
    "Carriers",
    "PackageMeasurements",
    "ShippingGroup",
    "ShippingGroupOption",
    "ShippingGroupRegion",
    "ShippingGroupType",
    "ShippingLabel",
    "ShippingLabelRequest",
    "Warehouse",
    "WarehouseAddress",
    "WarehouseAddressRequest",
    "WarehouseRequest",
    "WarehouseType",
]


class ShippingGroupType(enum.StrEnum):
    PACKAGE = "PACKAGE"
    HAULER = "HAULER"


class ShippingGroupOption(ApiModel):
    """Shipping costs (minor units) and times of one option; ``cut_off_time`` like ``"14:00"``."""

    name: str | None = None
    cost_first: int | None = None
    cost_next: int | None = None
    cost_max: int | None = None
    cost_free: int | None = None
    cut_off_time: str | None = None
    transport_time_min: int | None = None
    transport_time_max: int | None = None


class ShippingGroupRegion(ApiModel):
    countries: list[str] = Field(default_factory=list)
    shipping_options: list[ShippingGroupOption] = Field(default_factory=list)


class ShippingGroup(ApiModel):
    id_shipping_group: int
    name: str | None = None
    storefront: StorefrontValue | None = None
    currency: CurrencyValue | None = None
    type: Lenient[ShippingGroupType] | None = None
    is_default: bool | None = None
    regions: list[ShippingGroupRegion] = Field(default_factory=list)


class WarehouseType(enum.StrEnum):
    NORMAL = "normal"
    DROPSHIPMENT = "dropshipment"


class WarehouseAddress(ApiModel):
    street: str | None = None
    house_number: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    phone: str | None = None


class Warehouse(ApiModel):
    id_warehouse: int
    name: str | None = None
    address: WarehouseAddress | None = None
    is_default: bool | None = None
    type: Lenient[WarehouseType] | None = None


class WarehouseAddressRequest(RequestModel):
    """``country`` is an ISO 3166 code (e.g. ``DE``)."""

    street: str = Field(min_length=1)
    house_number: str = Field(min_length=1)
    postcode: str = Field(min_length=1)
    city: str = Field(min_length=1)
    country: str = Field(min_length=2)
    phone: str | None = None


class WarehouseRequest(RequestModel):
    """Body of ``POST /warehouses`` and ``PUT /warehouses/{id}`` (a full replacement)."""

    name: str = Field(min_length=1)
    address: WarehouseAddressRequest
    is_default: bool


class Carrier(ApiModel):
    """A carrier whose ``name`` is the ``carrier_code`` to send; Kaufland spells the hauler flag
    ``isHauler`` (camelCase), exposed here as ``is_hauler``."""

    name: str
    is_hauler: bool | None = Field(default=None, alias="isHauler")


class Carriers(ApiModel):
    carriers: list[Carrier] = Field(default_factory=list)


class PackageMeasurements(RequestModel):
    weight_gram: int = Field(ge=1)
    width_cm: int = Field(ge=1)
    height_cm: int = Field(ge=1)
    length_cm: int = Field(ge=1)


class ShippingLabelRequest(RequestModel):
    """Body of ``POST /shipping-labels`` (Kaufland Shipment Solutions; only ``GLS`` so far)."""

    ids_order_units: list[int] = Field(min_length=1)
    carriers: list[str] = Field(min_length=1)
    package_measurements: PackageMeasurements


class ShippingLabel(ApiModel):
    """A created label; ``download_url`` stays valid for 7 days."""

    id: str
    tracking_number: str | None = None
    carrier: str | None = None
    download_url: str | None = None
