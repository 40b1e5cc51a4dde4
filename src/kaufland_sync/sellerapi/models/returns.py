"""Return and return-unit models (``/returns``, ``/return-units``)."""

from __future__ import annotations

import enum

from pydantic import Field

from kaufland_sync.sellerapi.models.common import (
    ApiModel,
    Buyer,
    FulfillmentType,
    Lenient,
    RequestModel,
    StorefrontValue,
    UtcDateTime,
)
from kaufland_sync.sellerapi.models.order_units import OrderUnit
from kaufland_sync.sellerapi.models.tickets import Ticket

__all__ = [
    "Return",
    "ReturnDetails",
    "ReturnEmbeddable",
    "ReturnItemRequest",
    "ReturnReason",
    "ReturnSort",
    "ReturnStatus",
    "ReturnUnit",
    "ReturnUnitDetails",
    "ReturnUnitEmbeddable",
    "ReturnUnitMessageRequest",
    "ReturnUnitStatus",
    "ReturnWithUnits",
]


class ReturnStatus(enum.StrEnum):
    RETURN_REQUESTED = "return_requested"
    LABEL_GENERATED = "label_generated"
    PACKAGE_SENT = "package_sent"
    PACKAGE_RECEIVED = "package_received"
    LABEL_DELETED = "label_deleted"


class ReturnUnitStatus(enum.StrEnum):
    NEED_TO_BE_RETURNED = "need_to_be_returned"
    RETURN_ARRIVED = "return_arrived"
    RETURN_ACCEPTED = "return_accepted"
    RETURN_REJECTED = "return_rejected"
    RETURN_CLOSED = "return_closed"
    RETURN_IN_REPAIR = "return_in_repair"
    RETURN_IN_CLARIFICATION = "return_in_clarification"


class ReturnReason(enum.StrEnum):
    ACCIDENTALLY_ORDERED = "accidentally_ordered"
    BAD_QUALITY = "bad_quality"
    BETTER_PRICE = "better_price"
    DEFECT = "defect"
    DELIVERED_DAMAGED = "delivered_damaged"
    DISLIKE = "dislike"
    MISLEADING_DESCRIPTION = "misleading_description"
    MISSING_PARTS = "missing_parts"
    NO_REASON = "no_reason"
    TOO_LATE = "too_late"
    WRONG_ARTICLE = "wrong_article"
    WRONG_SIZE = "wrong_size"


class ReturnEmbeddable(enum.StrEnum):
    BUYER = "buyer"
    RETURN_UNITS = "return_units"


class ReturnUnitEmbeddable(enum.StrEnum):
    RETURN = "return"
    ORDER_UNIT = "order_unit"
    TICKETS = "tickets"


class ReturnUnit(ApiModel):
    id_return_unit: int
    id_return: int | None = None
    id_order_unit: int | None = None
    ts_created_iso: UtcDateTime | None = None
    status: Lenient[ReturnUnitStatus] | None = None
    note: str | None = None
    reason: Lenient[ReturnReason] | None = None
    storefront: StorefrontValue | None = None
    fulfillment_type: Lenient[FulfillmentType] | None = None


class Return(ApiModel):
    id_return: int
    ts_created_iso: UtcDateTime | None = None
    ts_updated_iso: UtcDateTime | None = None
    storefront: StorefrontValue | None = None
    tracking_provider: str | None = None
    tracking_code: str | None = None
    status: Lenient[ReturnStatus] | None = None
    fulfillment_type: Lenient[FulfillmentType] | None = None


class ReturnDetails(Return):
    """``GET /returns/{id}``; ``buyer`` and ``return_units`` only when embedded."""

    buyer: Buyer | None = None
    return_units: list[ReturnUnit] | None = None


class ReturnWithUnits(Return):
    """The answer of ``POST /returns`` and ``PUT /returns/{id}`` (``InitializeReturn`` /
    ``UpdateReturn`` in the spec)."""

    return_units: list[ReturnUnit] = Field(default_factory=list)


class ReturnUnitDetails(ReturnUnit):
    """``GET /return-units/{id}``; ``return``, ``order_unit``, ``tickets`` when embedded."""

    return_: Return | None = Field(default=None, alias="return")
    order_unit: OrderUnit | None = None
    tickets: list[Ticket] | None = None


class ReturnItemRequest(RequestModel):
    """One order unit to return (``POST /returns``, ``PUT /returns/{id}``); ``note`` 5-100
    characters per the guide."""

    id_order_unit: int
    reason: ReturnReason
    note: str = Field(min_length=5, max_length=100)


class ReturnUnitMessageRequest(RequestModel):
    """Body of ``PATCH /return-units/{id}/reject`` and ``/clarify`` (opens a buyer ticket)."""

    message: str = Field(min_length=1)


class ReturnSort(enum.StrEnum):
    """Sort orders of ``GET /returns`` and ``GET /return-units``."""

    TS_CREATED_DESC = "ts_created:desc"
    TS_UPDATED_DESC = "ts_updated:desc"
