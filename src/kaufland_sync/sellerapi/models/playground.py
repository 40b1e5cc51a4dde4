"""Playground-only models (``POST /playground/orders``, from older spec versions)."""

from __future__ import annotations

from pydantic import Field

from kaufland_sync.sellerapi.models.common import ApiModel, RequestModel

__all__ = ["PlaygroundOrder", "PlaygroundOrderItem", "PlaygroundOrdersRequest"]


class PlaygroundOrderItem(RequestModel):
    """One line of a test order; ``id_item_unit`` is the unit id, sent as text."""

    id_item_unit: str = Field(min_length=1)
    amount: int = Field(ge=1)


class PlaygroundOrdersRequest(RequestModel):
    data: list[PlaygroundOrderItem] = Field(min_length=1)


class PlaygroundOrder(ApiModel):
    id_order: str
