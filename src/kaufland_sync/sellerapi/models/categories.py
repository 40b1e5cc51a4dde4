"""Category models (``/categories``)."""

from __future__ import annotations

import enum

from pydantic import Field

from kaufland_sync.sellerapi.models.attributes import Attribute
from kaufland_sync.sellerapi.models.common import ApiModel, RequestModel

__all__ = [
    "Category",
    "CategoryBasic",
    "CategoryDecideItem",
    "CategoryDecideRequest",
    "CategoryEmbeddable",
    "CategoryTree",
    "CategoryWithEmbedded",
]


class CategoryEmbeddable(enum.StrEnum):
    PARENT = "parent"
    CHILDREN = "children"
    REQUIRED_ATTRIBUTES = "required_attributes"
    OPTIONAL_ATTRIBUTES = "optional_attributes"


class CategoryBasic(ApiModel):
    """The short form of a category embedded in products (``category_basic``)."""

    id_category: int
    name: str | None = None
    title_singular: str | None = None
    title_plural: str | None = None
    level: float | None = None
    url: str | None = None
    is_leaf: bool | None = None


class Category(CategoryBasic):
    """A category with its fees; ``variable_fee``/``fixed_fee``/``vat`` are plain numbers."""

    id_parent_category: int | None = None
    shipping_category: str | None = None
    variable_fee: float | None = None
    fixed_fee: float | None = None
    vat: float | None = None


class CategoryTree(Category):
    """A node of ``GET /categories/tree`` with its children, recursively."""

    children: list[CategoryTree] = Field(default_factory=list)


class CategoryWithEmbedded(Category):
    """``GET /categories/{id}``; the embedded parts appear only when asked for."""

    parent: Category | None = None
    children: list[Category] | None = None
    required_attributes: list[Attribute] | None = None
    optional_attributes: list[Attribute] | None = None


class CategoryDecideItem(RequestModel):
    title: str
    description: str
    manufacturer: str


class CategoryDecideRequest(RequestModel):
    """Body of ``POST /categories/decide``: Kaufland guesses categories for a product.

    ``price`` is a number (the spec does not say minor units here).
    """

    item: CategoryDecideItem
    price: float
