"""Orders imported from Kaufland: customers, orders, order lines and the import cursors.

Identity is Kaufland's, enforced by unique keys so that an import killed and rerun, or two
imports at once, can never hold the same thing twice:

* :class:`Customer` — one per account and Kaufland ``id_buyer``;
* :class:`Order` — one per account and Kaufland ``id_order``;
* :class:`OrderLine` — one per Kaufland ``id_order_unit`` within its order (so per account:
  an account's playground and production twins, or two sandboxes, may reuse the same ids).
  Kaufland splits quantities: one line is one piece. One Kaufland seller is one account (the
  account repository refuses a second account with the same key on the same Kaufland), so an
  order unit is never imported twice.

Money is in integer minor units of the order's ``currency``, as Kaufland sends it. The raw
payloads Kaufland sent are kept (``raw``) so an order can be mapped again after a mapping fix
without asking Kaufland.

Each order and line also carries its *local* status (Kaufland's status through the account's
status mapping, :class:`OrderMapping`), and each line its stock reservation state
(:class:`StockState`): importing a line reserves one piece of its SKU until it is shipped
(consumed), cancelled or returned before shipping (released).

A :class:`SyncCursor` is the bookmark of an incremental import: per account, storefront and
kind, the time up to which every change has been read. It only ever moves forward.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    case,
    cast,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.base import Base, Timestamped
from kaufland_sync.store.types import ExactDecimal, StrEnumType, check_in

__all__ = [
    "Customer",
    "MappingKind",
    "Order",
    "OrderLine",
    "OrderMapping",
    "StockState",
    "SyncCursor",
    "day_of_order",
    "line_revenue",
]


class StockState(enum.StrEnum):
    """What an order line does to its SKU's stock."""

    RESERVED = "reserved"  # sold, not shipped yet: held back from every storefront's stock
    CONSUMED = "consumed"  # shipped: the piece left the warehouse (the back office's stock)
    RELEASED = "released"  # cancelled before shipping: the piece is free again
    NONE = "none"  # never reserved (e.g. imported already shipped, or fulfilled by Kaufland)


class MappingKind(enum.StrEnum):
    """What an :class:`OrderMapping` row translates (``source`` → ``target``)."""

    STATUS = "status"  # Kaufland order-unit status → local status
    PAYMENT = "payment"  # storefront's payment (Kaufland collects it) → local payment method
    SHIPPING = "shipping"  # Kaufland fulfillment type → local shipping method
    CARRIER = "carrier"  # local carrier name → Kaufland carrier code
    CANCEL_REASON = "cancel_reason"  # local reason → Kaufland cancel reason
    REFUND_REASON = "refund_reason"  # local reason → Kaufland refund reason


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
    __table_args__ = (
        UniqueConstraint("account_id", "id_order"),
        # The dashboard reads orders by date; the index covers every column it needs.
        Index(
            "ix_orders_ordered_at_dashboard",
            "ordered_at",
            "account_id",
            "storefront",
            "currency",
            "customer_id",
            "created_at",
            "id",
        ),
        # A customer's orders: the customer pages, and recomputing a customer's chain of order
        # days (customer_days).
        Index("ix_orders_customer_id", "customer_id"),
    )

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
    # The lines' local statuses (status mapping), summarised like ``status``.
    local_status: Mapped[str] = mapped_column(String(200), default="")
    payment_method: Mapped[str | None] = mapped_column(String(128), default=None)
    shipping_method: Mapped[str | None] = mapped_column(String(128), default=None)
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
        UniqueConstraint("order_id", "id_order_unit"),
        Index("ix_order_lines_id_order_unit", "id_order_unit"),
        CheckConstraint(check_in("stock_state", StockState), name="stock_state"),
        # "How many pieces of these SKUs are reserved" (the stock sync asks it per batch).
        Index("ix_order_lines_sku_stock_state", "sku", "stock_state"),
        # Revenue and the status doughnut per order, from the index alone.
        Index(
            "ix_order_lines_order_id_dashboard",
            "order_id",
            "status",
            "local_status",
            "price",
            "shipping_rate",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    id_order_unit: Mapped[int] = mapped_column(BigInteger)
    sku: Mapped[str | None] = mapped_column(String(255), default=None)  # Kaufland's id_offer
    status: Mapped[str] = mapped_column(String(32))  # Kaufland's order-unit status
    local_status: Mapped[str] = mapped_column(String(64), default="")
    stock_state: Mapped[StockState] = mapped_column(
        StrEnumType(StockState, 16), default=StockState.NONE
    )
    # When the line was first seen sent (Kaufland's ts_updated then, or our confirmed send).
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    cancel_reason: Mapped[str | None] = mapped_column(String(64), default=None)
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


class OrderMapping(Timestamped, Base):
    """One translation rule of an account: ``source`` → ``target`` for ``kind``.

    ``storefront`` is a storefront code, or ``""`` for every storefront; a storefront's own row
    wins over the ``""`` row. Without any row the built-in defaults apply (see
    :mod:`kaufland_sync.sync.order_mapping`).
    """

    __tablename__ = "order_mappings"
    __table_args__ = (
        UniqueConstraint("account_id", "storefront", "kind", "source"),
        CheckConstraint(check_in("kind", MappingKind), name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    storefront: Mapped[str] = mapped_column(String(2), default="")
    kind: Mapped[MappingKind] = mapped_column(StrEnumType(MappingKind, 16))
    source: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(String(128))


class SyncCursor(Base):
    """Up to when changes of ``kind`` on one storefront have been imported for an account."""

    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("account_id", "storefront", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    storefront: Mapped[Storefront] = mapped_column(StrEnumType(Storefront, 2))
    kind: Mapped[str] = mapped_column(String(32))
    position: Mapped[datetime]


def line_revenue() -> ColumnElement[Any]:
    """What one order line brought in, in its order's currency (minor units): ``price +
    shipping_rate``, or 0 once Kaufland cancelled it. The one definition the dashboard, its
    daily rollup and the customer pages add up, so they never disagree."""
    amount = func.coalesce(OrderLine.price, 0) + func.coalesce(OrderLine.shipping_rate, 0)
    return case((OrderLine.status == "cancelled", 0), else_=amount)


def day_of_order(dialect: str) -> ColumnElement[Any]:
    """SQL: an order's UTC day. SQLite keeps UTC text (``YYYY-MM-DD HH:MM:SS...``), so the
    prefix is the date as SQLite stores a ``Date``; PostgreSQL converts its ``timestamptz``
    in UTC whatever the session's time zone."""
    moment = func.coalesce(Order.ordered_at, Order.created_at)
    if dialect == "sqlite":
        return func.substr(moment, 1, 10)
    if dialect == "postgresql":
        return cast(func.timezone("UTC", moment), Date)
    raise NotImplementedError(f"no order day for the {dialect} dialect")
