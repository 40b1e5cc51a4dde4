"""Order-unit models (``/order-units``, ``/shipments``).

An order unit is one item of one order; its money fields (``price``, ``revenue_gross``,
``revenue_net``, ``shipping_rate``, ``eco_fee``, ``packaging_fee``) are minor units of
``currency``; ``vat`` is a percentage.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from kaufland_sync.sellerapi.models.common import (
    Address,
    ApiModel,
    Buyer,
    CurrencyValue,
    FulfillmentType,
    Lenient,
    RequestModel,
    StorefrontValue,
    UtcDateTime,
)
from kaufland_sync.sellerapi.models.products import Product

if TYPE_CHECKING:
    # Resolved in models/__init__.py: returns and tickets themselves embed OrderUnit.
    from kaufland_sync.sellerapi.models.returns import ReturnUnit
    from kaufland_sync.sellerapi.models.tickets import Ticket

__all__ = [
    "AddShipmentRequest",
    "Delivery",
    "OrderUnit",
    "OrderUnitCancelReason",
    "OrderUnitCancelRequest",
    "OrderUnitDetails",
    "OrderUnitEmbeddable",
    "OrderUnitRefundReason",
    "OrderUnitRefundRequest",
    "OrderUnitSendRequest",
    "OrderUnitSort",
    "OrderUnitStatus",
    "PickupLocation",
    "ShipmentInformation",
]


class OrderUnitStatus(enum.StrEnum):
    OPEN = "open"
    NEED_TO_BE_SENT = "need_to_be_sent"
    SENT = "sent"
    SENT_AND_AUTOPAID = "sent_and_autopaid"
    RECEIVED = "received"
    CANCELLED = "cancelled"
    RETURNED = "returned"
    RETURNED_PAID = "returned_paid"


class OrderUnitCancelReason(enum.StrEnum):
    BUYER_CANCELLED = "BuyerCancelled"
    SHIPPING_ADDRESS_UNDELIVERABLE = "ShippingAddressUndeliverable"
    WRONG_CATALOG_DATA = "WrongCatalogData"
    GENERAL_ADJUSTMENT = "GeneralAdjustment"
    MERCHANDISE_NOT_RECEIVED = "MerchandiseNotReceived"
    NO_INVENTORY = "NoInventory"
    DELAYED_INVENTORY = "DelayedInventory"
    WRONG_PRICE = "WrongPrice"
    NO_REACTION_BUYER = "NoReactionBuyer"
    UNDELIVERABLE_REGION = "UndeliverableRegion"


class OrderUnitRefundReason(enum.StrEnum):
    DELIVERY_DAMAGE = "delivery_damage"
    DELIVERY_DELAY = "delivery_delay"
    INCOMPLETE_DELIVERY = "incomplete_delivery"
    INCORRECT_DELIVERY = "incorrect_delivery"
    REFUND_POSTAGE_FEE = "refund_postage_fee"
    DEFECT = "defect"
    OTHER_REFUND = "other_refund"
    REFUND_RETURN_POSTAGE_FEE = "refund_return_postage_fee"


class OrderUnitEmbeddable(enum.StrEnum):
    DELIVERY_ATTEMPT_TIMESTAMP_ISO = "delivery_attempt_timestamp_iso"
    RETURN_UNIT = "return_unit"
    TICKETS = "tickets"
    DELIVERY = "delivery"
    KSS_DELIVERY = "kss_delivery"


class OrderUnitSort(enum.StrEnum):
    TS_CREATED_DESC = "ts_created:desc"
    TS_UPDATED_DESC = "ts_updated:desc"


class PickupLocation(ApiModel):
    pickup_location_id: str | None = None
    provider: str | None = None
    carrier: str | None = None
    services: str | None = None
    dhl_post_number: str | None = None


class Delivery(ApiModel):
    """Where the buyer picks the parcel up (a parcel shop or locker), when not at home."""

    pickup_location: PickupLocation | None = None


class OrderUnit(ApiModel):
    """One item of an order as listed by ``GET /order-units``."""

    id_order_unit: int
    id_order: str
    status: Lenient[OrderUnitStatus]
    ts_created_iso: UtcDateTime | None = None
    ts_updated_iso: UtcDateTime | None = None
    storefront: StorefrontValue | None = None
    currency: CurrencyValue | None = None
    price: int | None = None
    revenue_gross: int | None = None
    revenue_net: int | None = None
    shipping_rate: int | None = None
    eco_fee: int | None = None
    packaging_fee: int | None = None
    vat: float | None = None
    id_offer: str | None = None
    note: str | None = None
    unit_condition: str | None = None
    delivery_time_min: int | None = None
    delivery_time_max: int | None = None
    delivery_time_expires_iso: UtcDateTime | None = None
    order_received_timestamp_iso: UtcDateTime | None = None
    cancel_reason: Lenient[OrderUnitCancelReason] | None = None
    fulfillment_type: Lenient[FulfillmentType] | None = None
    is_marketplace_deemed_supplier: bool | None = None
    buyer: Buyer | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    product: Product | None = None


class OrderUnitDetails(OrderUnit):
    """``GET /order-units/{id}``; the embedded parts appear only when asked for."""

    delivery_attempt_timestamp_iso: UtcDateTime | None = None
    tickets: list[Ticket] | None = None
    return_unit: ReturnUnit | None = None
    delivery: Delivery | None = None
    kss_eligible: bool | None = None


class OrderUnitSendRequest(RequestModel):
    """Body of ``PATCH /order-units/{id}/send``.

    ``tracking_numbers`` is one string; several numbers are comma-separated (a list given here
    is joined). ``carrier_code`` is the carrier's full name as in ``GET /carriers``.
    """

    carrier_code: str = Field(min_length=1)
    tracking_numbers: str

    @field_validator("tracking_numbers", mode="before")
    @classmethod
    def _join(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return ",".join(str(v).strip() for v in value if str(v).strip())
        return value


class OrderUnitCancelRequest(RequestModel):
    reason: OrderUnitCancelReason


class OrderUnitRefundRequest(RequestModel):
    """A partial refund; ``amount`` is in minor units of the order unit's currency."""

    amount: int = Field(ge=1)
    reason: OrderUnitRefundReason


class ShipmentInformation(RequestModel):
    carrier_code: str = Field(min_length=1)
    tracking_number: str = Field(min_length=1)


class AddShipmentRequest(RequestModel):
    """Body of ``POST /shipments``: one more parcel for an order unit that is already sent."""

    id_order_unit: int
    shipment_information: ShipmentInformation
