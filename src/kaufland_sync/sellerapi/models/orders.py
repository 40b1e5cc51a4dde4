"""Order models (``/orders``). An order groups the order units one buyer bought at once."""

from __future__ import annotations

import enum

from pydantic import Field

from kaufland_sync.sellerapi.models.common import (
    Address,
    ApiModel,
    Buyer,
    FulfillmentType,
    Lenient,
    StorefrontValue,
    UtcDateTime,
)
from kaufland_sync.sellerapi.models.order_invoices import OrderInvoice
from kaufland_sync.sellerapi.models.order_units import Delivery, OrderUnit
from kaufland_sync.sellerapi.models.tickets import Ticket

__all__ = ["Order", "OrderDetails", "OrderDetailsUnit", "OrderEmbeddable"]


class OrderEmbeddable(enum.StrEnum):
    ORDER_INVOICES = "order_invoices"
    DELIVERY = "delivery"
    KSS_DELIVERY = "kss_delivery"


class Order(ApiModel):
    """An order as listed by ``GET /orders`` (no units; ``order_units_count`` says how many)."""

    id_order: str
    ts_created_iso: UtcDateTime | None = None
    ts_units_updated_iso: UtcDateTime | None = None
    is_marketplace_deemed_supplier: bool | None = None
    order_units_count: int | None = None
    storefront: StorefrontValue | None = None
    fulfillment_type: Lenient[FulfillmentType] | None = None


class OrderDetailsUnit(OrderUnit):
    """An order unit inside ``OrderDetails``; buyer and addresses sit on the order instead."""

    kss_eligible: bool | None = None
    tickets: list[Ticket] | None = None


class OrderDetails(ApiModel):
    """``GET /orders/{id_order}``: the order with all its units, buyer and addresses."""

    id_order: str
    ts_created_iso: UtcDateTime | None = None
    is_marketplace_deemed_supplier: bool | None = None
    storefront: StorefrontValue | None = None
    fulfillment_type: Lenient[FulfillmentType] | None = None
    order_units: list[OrderDetailsUnit] = Field(default_factory=list)
    billing_address: Address | None = None
    shipping_address: Address | None = None
    buyer: Buyer | None = None
    order_invoices: list[OrderInvoice] | None = None
    delivery: Delivery | None = None
