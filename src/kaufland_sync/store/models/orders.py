"""Orders imported from Kaufland: customers, orders, order lines and the import cursors.

Identity is Kaufland's, enforced by unique keys so that an import killed and rerun, or two
imports at once, can never hold the same thing twice:

* :class:`Customer` — one per account and Kaufland ``id_buyer``;
* :class:`Order` — one per account and Kaufland ``id_order``;
* :class:`OrderLine` — one per Kaufland ``id_order_unit`` (Kaufland numbers order units across
  the whole marketplace, so the id alone is the key). Kaufland splits quantities: one line is
  one piece.

Money is in integer minor units of the order's ``currency``, as Kaufland sends it. The raw
payloads Kaufland sent are kept (``raw``) so an order can be mapped again after a mapping fix
without asking Kaufland.

A :class:`SyncCursor` is the bookmark of an incremental import: per account, storefront and
kind, the time up to which every change has been read. It only ever moves forward.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.base import Base, Timestamped
from kaufland_sync.store.types import ExactDecimal, StrEnumType

__all__ = ["Customer", "Order", "OrderLine", "SyncCursor"]


class Customer(Timestamped, Base):
    """A Kaufland buyer of one account. ``email`` is Kaufland's relay address; it is hidden
    (``None``) while the buyer's order units are ``open``."""

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("account_id", "id_buyer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    id_buyer: Mapped[int] = mapped_column(BigInteger)
    email: Mapped[str | None] = mapped_column(String(255), default=None)


class Order(Timestamped, Base):
    """One Kaufland order of one account.

    ``status`` summarises the lines' Kaufland statuses: the one status when all lines share it,
    else the distinct statuses in life-cycle order joined with ``,``. Addresses are ``None``
    while Kaufland hides them.
    """

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("account_id", "id_order"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    id_order: Mapped[str] = mapped_column(String(64))
    storefront: Mapped[Storefront] = mapped_column(StrEnumType(Storefront, 2))
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), default=None
    )
    ordered_at: Mapped[datetime | None] = mapped_column(default=None)  # ts_created_iso
    status: Mapped[str] = mapped_column(String(200), default="")
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The order-level part of Kaufland's payload (id, storefront, buyer, addresses, ...).
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id_order_unit", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"Order(id_order={self.id_order!r}, storefront={self.storefront!r})"


class OrderLine(Timestamped, Base):
    """One Kaufland order unit (one piece) of an order."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("id_order_unit"),
        Index("ix_order_lines_order_id", "order_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    id_order_unit: Mapped[int] = mapped_column(BigInteger)
    sku: Mapped[str | None] = mapped_column(String(255), default=None)  # Kaufland's id_offer
    status: Mapped[str] = mapped_column(String(32))  # Kaufland's order-unit status
    price: Mapped[int | None] = mapped_column(Integer, default=None)
    revenue_gross: Mapped[int | None] = mapped_column(Integer, default=None)
    revenue_net: Mapped[int | None] = mapped_column(Integer, default=None)
    shipping_rate: Mapped[int | None] = mapped_column(Integer, default=None)
    vat: Mapped[Decimal | None] = mapped_column(ExactDecimal(5, 2), default=None)  # percent
    delivery_time_expires_iso: Mapped[datetime | None] = mapped_column(default=None)
    ts_updated: Mapped[datetime | None] = mapped_column(default=None)
    # True while Kaufland hid the addresses when this line was last read (status ``open``).
    addresses_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    order: Mapped[Order] = relationship(back_populates="lines")

    def __repr__(self) -> str:
        return f"OrderLine(id_order_unit={self.id_order_unit!r}, status={self.status!r})"


class SyncCursor(Base):
    """Up to when changes of ``kind`` on one storefront have been imported for an account."""

    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("account_id", "storefront", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    storefront: Mapped[Storefront] = mapped_column(StrEnumType(Storefront, 2))
    kind: Mapped[str] = mapped_column(String(32))
    position: Mapped[datetime]
