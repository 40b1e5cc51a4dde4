"""Returns, return units, refunds and buyer tickets imported from (or sent to) Kaufland.

* :class:`Return` — one per account and Kaufland ``id_return`` (a buyer's parcel back);
* :class:`ReturnUnit` — one per Kaufland ``id_return_unit`` within its return (so per
  account, like order lines), one returned piece, linked to the
  local order line of its ``id_order_unit`` when that order was imported. ``arrived_at`` is when
  we first saw it ``return_arrived``: Kaufland accepts a return on the seller's behalf when it is
  not processed within 3 working days of its arrival (seller guide, returns settings), so
  ``decide_by`` is derived from it. ``restocked`` records that an accepted return was put back
  into stock (once);
* :class:`Refund` — a refund we asked Kaufland for (amount in minor units of the order's
  currency), with the outbox message that carries it;
* :class:`Ticket` — a buyer ticket (``GET /tickets``), kept for the seller-performance report
  (open tickets and their age, seller-caused tickets).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.base import Base, Timestamped
from kaufland_sync.store.types import StrEnumType

__all__ = ["Refund", "Return", "ReturnUnit", "Ticket"]


class Return(Timestamped, Base):
    __tablename__ = "returns"
    __table_args__ = (UniqueConstraint("account_id", "id_return"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    id_return: Mapped[int] = mapped_column(BigInteger)
    storefront: Mapped[Storefront | None] = mapped_column(StrEnumType(Storefront, 2), default=None)
    status: Mapped[str | None] = mapped_column(String(32), default=None)  # ReturnStatus
    tracking_provider: Mapped[str | None] = mapped_column(String(100), default=None)
    tracking_code: Mapped[str | None] = mapped_column(String(100), default=None)
    ts_created: Mapped[datetime | None] = mapped_column(default=None)
    ts_updated: Mapped[datetime | None] = mapped_column(default=None)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    units: Mapped[list[ReturnUnit]] = relationship(
        back_populates="return_", order_by="ReturnUnit.id_return_unit", passive_deletes=True
    )


class ReturnUnit(Timestamped, Base):
    __tablename__ = "return_units"
    __table_args__ = (
        UniqueConstraint("return_id", "id_return_unit"),
        Index("ix_return_units_id_return_unit", "id_return_unit"),
        Index("ix_return_units_id_order_unit", "id_order_unit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"))
    id_return_unit: Mapped[int] = mapped_column(BigInteger)
    id_order_unit: Mapped[int | None] = mapped_column(BigInteger, default=None)
    order_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_lines.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(32))  # ReturnUnitStatus
    reason: Mapped[str | None] = mapped_column(String(64), default=None)  # ReturnReason
    note: Mapped[str | None] = mapped_column(Text, default=None)
    ts_created: Mapped[datetime | None] = mapped_column(default=None)
    arrived_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    restocked: Mapped[bool] = mapped_column(Boolean, default=False)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    return_: Mapped[Return] = relationship(back_populates="units")


class Refund(Timestamped, Base):
    __tablename__ = "refunds"
    __table_args__ = (
        Index("ix_refunds_order_id", "order_id"),
        Index("ix_refunds_id_order_unit", "id_order_unit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    id_order_unit: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(Integer)  # minor units of currency
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    reason: Mapped[str] = mapped_column(String(32))  # OrderUnitRefundReason
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="SET NULL"), default=None
    )


class Ticket(Timestamped, Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("account_id", "id_ticket"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    id_ticket: Mapped[str] = mapped_column(String(64))
    storefront: Mapped[Storefront | None] = mapped_column(StrEnumType(Storefront, 2), default=None)
    status: Mapped[str] = mapped_column(String(40))  # TicketStatus
    open_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    topic: Mapped[str | None] = mapped_column(String(64), default=None)
    is_seller_responsible: Mapped[bool | None] = mapped_column(Boolean, default=None)
    ids_order_units: Mapped[list[int]] = mapped_column(JSON, default=list)
    ts_created: Mapped[datetime | None] = mapped_column(default=None)
    ts_updated: Mapped[datetime | None] = mapped_column(default=None)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
