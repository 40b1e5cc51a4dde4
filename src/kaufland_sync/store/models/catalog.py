"""The built-in catalogue: products, local warehouses and stock levels (our vocabulary).

Money is an integer count of minor units (cents, hellers, grosze) with its ISO 4217 currency.
``condition`` and ``vat_indicator`` hold Kaufland's own values (``UnitCondition`` and the writable
``VatIndicator``): both are storefront-independent, so one product record serves every storefront.
A VAT *percentage* is deliberately not stored: the same product is 19 % in Germany and 21 % in
Czechia, and Kaufland takes the indicator (``standard_rate``, ``reduced_rate_1`` …) anyway.

Change detection: ``Product.updated_at`` and ``StockLevel.updated_at`` move only when the content
really changes (the importer compares ``content_hash`` / the quantity before writing), and both
are indexed, so "what changed since T" is an index range scan.

Stock levels are *on hand*. Reservations by open orders are not stored here; the sync engine
subtracts them when it computes the offered amount.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kaufland_sync.store.base import Base, Timestamped, utc_now
from kaufland_sync.store.types import StrEnumType, check_in

__all__ = [
    "CONTENT_FIELDS",
    "DEFAULT_WAREHOUSE",
    "Condition",
    "Currency",
    "Product",
    "StockLevel",
    "VatIndicator",
    "Warehouse",
    "content_hash",
]

#: Code of the warehouse a stock quantity goes to when the import names none.
DEFAULT_WAREHOUSE = "default"


class Currency(enum.StrEnum):
    """Currencies of Kaufland's storefronts (EUR: de, at, sk, fr, it; CZK: cz; PLN: pl). All three
    have two decimal places, so ``price_minor = price * 100``."""

    EUR = "EUR"
    CZK = "CZK"
    PLN = "PLN"


class Condition(enum.StrEnum):
    """A product's condition, spelled as Kaufland's ``UnitCondition``."""

    NEW = "NEW"
    USED_AS_NEW = "USED___AS_NEW"
    USED_VERY_GOOD = "USED___VERY_GOOD"
    USED_GOOD = "USED___GOOD"
    USED_ACCEPTABLE = "USED___ACCEPTABLE"
    REFURBISHED_AS_NEW = "REFURBISHED___AS_NEW"
    REFURBISHED_VERY_GOOD = "REFURBISHED___VERY_GOOD"
    REFURBISHED_GOOD = "REFURBISHED___GOOD"
    REFURBISHED_ACCEPTABLE = "REFURBISHED___ACCEPTABLE"


class VatIndicator(enum.StrEnum):
    """Kaufland's writable VAT indicators; the rate behind each depends on the storefront."""

    STANDARD_RATE = "standard_rate"
    REDUCED_RATE_1 = "reduced_rate_1"
    REDUCED_RATE_2 = "reduced_rate_2"
    SUPER_REDUCED_RATE = "super_reduced_rate"
    ZERO_RATE = "zero_rate"


class Product(Timestamped, Base):
    """One product of the seller's catalogue, identified by its SKU.

    The SKU is unique; the EAN is not (Kaufland allows several SKUs on one EAN, e.g. a new and a
    used offer), but one SKU always keeps one EAN: the importer refuses to change it.
    """

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint(check_in("currency", Currency), name="currency"),
        CheckConstraint(check_in("condition", Condition), name="condition"),
        CheckConstraint(
            f"vat_indicator IS NULL OR {check_in('vat_indicator', VatIndicator)}",
            name="vat_indicator",
        ),
        CheckConstraint("price_minor >= 0", name="price_minor"),
        CheckConstraint("weight_grams IS NULL OR weight_grams >= 0", name="weight_grams"),
        CheckConstraint(
            "handling_time IS NULL OR (handling_time >= 0 AND handling_time <= 100)",
            name="handling_time",
        ),
        Index("ix_products_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(255), unique=True)
    # Digits only: EAN-13 (EAN-8 and UPC-A are zero-padded to 13) or a GTIN-14 that does not
    # start with 0; see kaufland_sync.backoffice.csv_import.normalise_ean.
    ean: Mapped[str] = mapped_column(String(14), index=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    brand: Mapped[str | None] = mapped_column(String(255), default=None)
    # The seller's own category path ("Garden > Tools > Spades"); mapped per storefront later.
    category: Mapped[str | None] = mapped_column(String(1000), default=None)
    image_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[Currency] = mapped_column(StrEnumType(Currency, 3))
    condition: Mapped[Condition] = mapped_column(StrEnumType(Condition, 32), default=Condition.NEW)
    vat_indicator: Mapped[VatIndicator | None] = mapped_column(
        StrEnumType(VatIndicator, 32), default=None
    )
    weight_grams: Mapped[int | None] = mapped_column(Integer, default=None)
    # Days; overrides the storefront setting for this product when set.
    handling_time: Mapped[int | None] = mapped_column(Integer, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # SHA-256 of the product's content (everything above but the SKU): cheap "did it change?".
    content_hash: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"Product(id={self.id!r}, sku={self.sku!r}, ean={self.ean!r})"


class Warehouse(Timestamped, Base):
    """A local warehouse of the seller, named by a short code (``default``, ``prague``…)."""

    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))

    def __repr__(self) -> str:
        return f"Warehouse(id={self.id!r}, code={self.code!r})"


class StockLevel(Base):
    """Quantity on hand of one product in one local warehouse."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("product_id", "warehouse_id"),
        CheckConstraint("quantity >= 0", name="quantity"),
        Index("ix_stock_levels_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(
        ForeignKey("warehouses.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    def __repr__(self) -> str:
        return (
            f"StockLevel(product_id={self.product_id!r}, warehouse_id={self.warehouse_id!r}, "
            f"quantity={self.quantity!r})"
        )


#: The product columns that make up its content (everything a sync may send, not the SKU).
CONTENT_FIELDS = (
    "ean",
    "title",
    "description",
    "brand",
    "category",
    "image_urls",
    "price_minor",
    "currency",
    "condition",
    "vat_indicator",
    "weight_grams",
    "handling_time",
    "active",
)


def content_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a product's content, from a mapping holding every ``CONTENT_FIELDS`` key.

    Every writer of products stores this in ``Product.content_hash`` and moves ``updated_at`` only
    when it changes, which is what makes ``changed_since`` queries exact.
    """
    canonical = json.dumps(
        [values[name] for name in CONTENT_FIELDS], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
