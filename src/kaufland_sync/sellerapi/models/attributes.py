"""Attribute models (``/attributes``)."""

from __future__ import annotations

from kaufland_sync.sellerapi.models.common import ApiModel

__all__ = ["Attribute", "SharedSetValue"]


class Attribute(ApiModel):
    """A product-data attribute; ``name`` is the key used in product-data bodies."""

    id: int
    name: str
    is_multiple: bool | None = None
    is_sharedset: bool | None = None
    explanation: str | None = None
    seller_instructions: str | None = None
    title: str | None = None
    type: str | None = None


class SharedSetValue(ApiModel):
    """One allowed value of a shared-set attribute."""

    label: str
    value: str
