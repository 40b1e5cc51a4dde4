"""Catalogue product models (``/products``, ``/buybox``, ``/assortment-coverage``)."""

from __future__ import annotations

import enum
from datetime import datetime

from kaufland_sync.sellerapi.models.categories import Category, CategoryBasic
from kaufland_sync.sellerapi.models.common import (
    ApiModel,
    CurrencyValue,
    FulfillmentType,
    Lenient,
    StorefrontValue,
    UnitCondition,
)

__all__ = [
    "AssortmentInsight",
    "BuyboxCondition",
    "BuyboxUnit",
    "OffersRankings",
    "Product",
    "ProductEmbeddable",
    "ProductUnitEmbedded",
    "ProductUnitSeller",
    "ProductWithEmbedded",
]


class ProductEmbeddable(enum.StrEnum):
    CATEGORY = "category"
    CATEGORY_BASIC = "category_basic"
    UNITS = "units"


class Product(ApiModel):
    """A catalogue product (Kaufland's, not the seller's offer)."""

    id_product: int
    storefront: StorefrontValue | None = None
    title: str | None = None
    eans: list[str] | None = None
    id_category: int | None = None
    main_picture: str | None = None
    manufacturer: str | None = None
    url: str | None = None
    age_rating: float | None = None
    is_valid: bool | None = None
    dangerous_goods_li_shipping: str | None = None
    danger_label_9A: str | None = None


class ProductUnitSeller(ApiModel):
    pseudonym: str | None = None


class ProductUnitEmbedded(ApiModel):
    """An offer (anyone's) embedded in a product with ``embedded=units``; older unit format."""

    id_unit: int
    id_product: int | None = None
    condition: Lenient[UnitCondition] | None = None
    location: str | None = None
    warehouse: str | None = None
    amount: int | None = None
    price: int | None = None
    delivery_time_min: int | None = None
    delivery_time_max: int | None = None
    shipping_group: str | None = None
    note: str | None = None
    seller: ProductUnitSeller | None = None
    reference_price: int | None = None
    shipping_rate: int | None = None
    # Not suffixed ``_iso`` and of unknown form on the real API: parsed when it is a date-time.
    date_inserted: datetime | str | None = None
    date_lastchange: datetime | str | None = None
    fulfillment_type: Lenient[FulfillmentType] | None = None


class ProductWithEmbedded(Product):
    """``GET /products/...``; ``category``, ``category_basic``, ``units`` only when embedded."""

    category: Category | None = None
    category_basic: CategoryBasic | None = None
    units: list[ProductUnitEmbedded] | None = None


class BuyboxCondition(enum.StrEnum):
    NEW = "new"
    USED = "used"
    USED_AS_NEW = "used - as new"
    USED_VERY_GOOD = "used - very good"
    USED_GOOD = "used - good"
    USED_ACCEPTABLE = "used - acceptable"
    REFURBISHED = "refurbished"
    REFURBISHED_AS_NEW = "refurbished - as new"
    REFURBISHED_VERY_GOOD = "refurbished - very good"
    REFURBISHED_GOOD = "refurbished - good"
    REFURBISHED_ACCEPTABLE = "refurbished - acceptable"


class BuyboxUnit(ApiModel):
    """A ranked offer; ``price``/``shipping_rate`` are minor units (typed as numbers in the spec);
    ``id_unit``/``id_offer`` are present only for the seller's own units."""

    buybox_rank: float
    seller: str | None = None
    price: float | None = None
    delivery_time_min: float | None = None
    delivery_time_max: float | None = None
    shipping_rate: float | None = None
    fulfillment_type: Lenient[FulfillmentType] | None = None
    id_unit: int | None = None
    id_offer: str | None = None


class OffersRankings(ApiModel):
    id_product: int
    condition: Lenient[BuyboxCondition] | None = None
    storefront: StorefrontValue | None = None
    num_units: float | None = None
    units: list[BuyboxUnit] = []


class AssortmentInsight(ApiModel):
    """One product the seller does not list yet, with demand and price signals (minor units)."""

    ean: str
    item_name: str | None = None
    brand: str | None = None
    category: str | None = None
    category_2: str | None = None
    buybox_price_l_90_day: int | None = None
    buybox_price_l_60_day: int | None = None
    buybox_price_l_30_day: int | None = None
    buybox_price_current: int | None = None
    sales_rank: int | None = None
    external_rank: int | None = None
    external_demand_indicator: str | None = None
    benchmark_price_min: int | None = None
    benchmark_price_max: int | None = None
    external_bestseller_missed: bool | None = None
    popular_product_bad_priced: bool | None = None
    kaufland_bestseller: bool | None = None
    currency: CurrencyValue | None = None
