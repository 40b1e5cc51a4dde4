"""Push-notification subscription models (``/subscriptions``)."""

from __future__ import annotations

import enum

from pydantic import Field, field_validator

from kaufland_sync.sellerapi.models.common import ApiModel, Lenient, RequestModel

__all__ = [
    "EventName",
    "Subscription",
    "SubscriptionCreateRequest",
    "SubscriptionUpdateRequest",
]


class EventName(enum.StrEnum):
    """Events a subscription can be for."""

    ORDER_NEW = "order_new"
    ORDER_UNIT_NEW = "order_unit_new"
    ORDER_UNIT_STATUS_CHANGED = "order_unit_status_changed"
    ITEM_CHANGED = "item_changed"
    CATEGORY_CHANGED = "category_changed"
    RETURN_NEW = "return_new"
    RETURN_STATUS_CHANGED = "return_status_changed"
    RETURN_UNIT_STATUS_CHANGED = "return_unit_status_changed"
    ITEM_UNIT_NEW = "item_unit_new"
    ITEM_UNIT_CHANGED = "item_unit_changed"
    ITEM_UNIT_DELETED = "item_unit_deleted"
    ITEM_UNIT_OUT_OF_STOCK = "item_unit_out_of_stock"
    ITEM_UNIT_NOT_AVAILABLE = "item_unit_not_available"
    ITEM_UNIT_AVAILABLE = "item_unit_available"


class Subscription(ApiModel):
    """``id_subscription`` is typed as a number in the spec; integral values become ``int``."""

    id_subscription: int
    callback_url: str | None = None
    fallback_email: str | None = None
    event_name: Lenient[EventName] | None = None
    is_active: bool | None = None
    storefront: str | None = None

    @field_validator("id_subscription", mode="before")
    @classmethod
    def _integral(cls, value: object) -> object:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value


class SubscriptionCreateRequest(RequestModel):
    """Body of ``POST /subscriptions``; Kaufland verifies ``callback_url`` (≤ 255 characters)
    with a challenge request before the subscription is created."""

    callback_url: str = Field(min_length=1, max_length=255)
    fallback_email: str = Field(min_length=3)
    event_name: EventName


class SubscriptionUpdateRequest(RequestModel):
    """Body of ``PATCH /subscriptions/{id}``: only the fields to change."""

    callback_url: str | None = Field(default=None, min_length=1, max_length=255)
    fallback_email: str | None = None
    event_name: EventName | None = None
    is_active: bool | None = None
    storefront: str | None = None
