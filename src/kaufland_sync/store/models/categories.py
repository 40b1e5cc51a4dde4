"""Kaufland's category tree (cached), the mapping of local categories onto it, the seller's
extra product attributes, and the review status of product data sent to Kaufland.

Decisions recorded here because the schema carries them:

* **Category mappings are per storefront, not per account.** Kaufland's tree belongs to the
  storefront and is the same for every seller, so "Garden > Spades" → ``id_category`` 12345 on
  ``de`` holds for every account of this install. A mapping is one row per (storefront, local
  category): the chosen category plus the other guesses of ``POST /categories/decide`` in their
  order (``alternatives``), and whether a person chose it (``manual``, never overwritten by a
  new suggestion) or Kaufland guessed it (``suggested``).
* **The tree cache** (``kaufland_categories``) is a copy of ``GET /categories/tree`` per
  storefront, replaced as a whole by a refresh; fees are exact decimals (percent and major
  units) because they feed fee estimates.
* **Product-data status is per account, EAN and locale.** Kaufland keeps product data per
  seller ("your existing one"), so two accounts sending the same EAN are two submissions.
  ``payload_hash`` is the hash of the last attributes sent, so an unchanged product is not sent
  again.
* **Product attributes** (``product_attributes``) hold what the built-in catalogue has no
  column for but a Kaufland category requires (``colour``, ``material``…): attribute name →
  list of values, sent with the product data.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.base import Base, Timestamped, utc_now
from kaufland_sync.store.types import ExactDecimal, StrEnumType

__all__ = [
    "CategoryMapping",
    "CategorySource",
    "KauflandCategory",
    "ProductAttribute",
    "ProductDataStatus",
]

_STOREFRONTS_SQL = "storefront IN ('de', 'cz', 'sk', 'pl', 'at', 'fr', 'it')"


class CategorySource(enum.StrEnum):
    """Who chose a category mapping."""

    SUGGESTED = "suggested"  # Kaufland's best guess (POST /categories/decide)
    MANUAL = "manual"  # a person; suggestions never replace it


class KauflandCategory(Base):
    """One node of Kaufland's category tree on one storefront, as last fetched."""

    __tablename__ = "kaufland_categories"
    __table_args__ = (
        UniqueConstraint("storefront", "id_category"),
        CheckConstraint(_STOREFRONTS_SQL, name="storefront"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    storefront: Mapped[Storefront] = mapped_column(StrEnumType(Storefront, 2))
    id_category: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    # The storefront-language title (title_plural, else title_singular); what people read.
    title: Mapped[str | None] = mapped_column(String(255), default=None)
    id_parent_category: Mapped[int | None] = mapped_column(BigInteger, default=None)
    level: Mapped[int | None] = mapped_column(Integer, default=None)
    # Only leaves take products; Kaufland's tree omits is_leaf, so it is "has no children".
    is_leaf: Mapped[bool] = mapped_column(Boolean)
    variable_fee: Mapped[Decimal | None] = mapped_column(ExactDecimal(9, 4), default=None)
    fixed_fee: Mapped[Decimal | None] = mapped_column(ExactDecimal(12, 4), default=None)
    fetched_at: Mapped[datetime] = mapped_column(default=utc_now)

    def __repr__(self) -> str:
        return (
            f"KauflandCategory(storefront={self.storefront!r}, id_category={self.id_category!r}, "
            f"name={self.name!r})"
        )


class CategoryMapping(Timestamped, Base):
    """A local category (the catalogue's ``Product.category`` text) → a Kaufland category."""

    __tablename__ = "category_mappings"
    __table_args__ = (
        UniqueConstraint("storefront", "local_category"),
        CheckConstraint(_STOREFRONTS_SQL, name="storefront"),
        CheckConstraint("source IN ('suggested', 'manual')", name="source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    storefront: Mapped[Storefront] = mapped_column(StrEnumType(Storefront, 2))
    local_category: Mapped[str] = mapped_column(String(1000))
    id_category: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[CategorySource] = mapped_column(StrEnumType(CategorySource, 16))
    # The other guesses of /categories/decide, best first (rank 1, 2, …; the chosen one is 0).
    alternatives: Mapped[list[int]] = mapped_column(JSON, default=list)
    # The SKU of the product whose title/description the suggestion was asked for.
    sample_sku: Mapped[str | None] = mapped_column(String(255), default=None)

    def __repr__(self) -> str:
        return (
            f"CategoryMapping(storefront={self.storefront!r}, "
            f"local_category={self.local_category!r}, id_category={self.id_category!r})"
        )


class ProductAttribute(Base):
    """An extra Kaufland attribute of one product (name → values), sent with product data."""

    __tablename__ = "product_attributes"
    __table_args__ = (UniqueConstraint("product_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    values: Mapped[list[str]] = mapped_column(JSON, default=list)

    def __repr__(self) -> str:
        return f"ProductAttribute(product_id={self.product_id!r}, name={self.name!r})"


class ProductDataStatus(Base):
    """What we sent to ``PUT /product-data`` for one EAN and what Kaufland made of it."""

    __tablename__ = "product_data_statuses"
    __table_args__ = (UniqueConstraint("account_id", "ean", "locale"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    ean: Mapped[str] = mapped_column(String(15))
    locale: Mapped[str] = mapped_column(String(5))
    sku: Mapped[str | None] = mapped_column(String(255), default=None)
    # SHA-256 of the attributes last accepted by PUT /product-data (None: never sent).
    payload_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    # Kaufland's words: PENDING, IN_PROGRESS, SUCCESS, FAIL, ABORTED.
    update_status: Mapped[str | None] = mapped_column(String(32), default=None)
    product_ready: Mapped[bool] = mapped_column(Boolean, default=False)
    id_product: Mapped[int | None] = mapped_column(BigInteger, default=None)
    not_ready_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    fail_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    missing_attributes: Mapped[list[str]] = mapped_column(JSON, default=list)
    checked_at: Mapped[datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:
        return (
            f"ProductDataStatus(account_id={self.account_id!r}, ean={self.ean!r}, "
            f"locale={self.locale!r}, update_status={self.update_status!r})"
        )
