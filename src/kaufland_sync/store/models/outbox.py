"""The outbox: every action we send to Kaufland about orders and returns, as a durable row.

A command (``orders ship``, ``orders cancel``, a return decision, a refund, an invoice) writes
an :class:`OutboxMessage` in the same transaction as its local effect, and returns. A worker
sends pending messages in order, and keeps the row's state current, so an action is never lost
when Kaufland is down, a worker dies, or the network fails; it is retried with backoff, and its
state and last error are visible (``kaufland-sync outbox list``, the web app).

States (:class:`OutboxState`):

* ``pending`` — to send at or after ``next_attempt_at`` (first try, or a retry after a
  temporary failure);
* ``sending`` — claimed by a worker since ``claimed_at``; a claim older than the worker's lease
  is taken to be a dead worker's and the message is sent again (every action is either
  idempotent on Kaufland or checked before it is resent, see the worker);
* ``done`` — Kaufland accepted it (or it had already taken effect);
* ``failed`` — Kaufland refused it for good (4xx other than rate limiting); ``last_error``
  says why; a person may fix the cause and retry it;
* ``unknown`` — a non-replayable action (a refund) whose outcome was lost; it is not resent
  blindly: a person checks Kaufland and marks it done or retries it.

``dedupe_key`` makes enqueueing idempotent: the same command given twice (a retried CLI call,
a double click) finds the first row instead of adding a second.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kaufland_sync.store.base import Base, Timestamped, utc_now
from kaufland_sync.store.types import StrEnumType, check_in

__all__ = ["OutboxAction", "OutboxMessage", "OutboxState"]


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    FAILED = "failed"
    UNKNOWN = "unknown"


class OutboxAction(enum.StrEnum):
    """What a message asks Kaufland to do; ``target`` is the id the action is about."""

    SEND = "send"  # PATCH /order-units/{id}/send (target: id_order_unit)
    ADD_SHIPMENT = "add_shipment"  # POST /shipments, an extra parcel (target: id_order_unit)
    CANCEL = "cancel"  # PATCH /order-units/{id}/cancel (target: id_order_unit)
    REFUND = "refund"  # PATCH /order-units/{id}/refund (target: id_order_unit)
    INVOICE = "invoice"  # POST /order-invoices/{id_order} (target: id_order; PDF in attachment)
    RETURN_ACCEPT = "return_accept"  # PATCH /return-units/{id}/accept (target: id_return_unit)
    RETURN_REJECT = "return_reject"
    RETURN_CLARIFY = "return_clarify"
    RETURN_REPAIR = "return_repair"


class OutboxMessage(Timestamped, Base):
    """One action to send to Kaufland for an account."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("account_id", "dedupe_key"),
        CheckConstraint(check_in("state", OutboxState), name="state"),
        CheckConstraint(check_in("action", OutboxAction), name="action"),
        CheckConstraint("attempts >= 0", name="attempts"),
        # The worker's question: "what is due now?"
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_outbox_order_id", "order_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # The local order it belongs to (None for actions not tied to one, or once it is deleted).
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[OutboxAction] = mapped_column(StrEnumType(OutboxAction, 32))
    target: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    dedupe_key: Mapped[str | None] = mapped_column(String(255), default=None)
    state: Mapped[OutboxState] = mapped_column(
        StrEnumType(OutboxState, 16), default=OutboxState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utc_now)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # What Kaufland answered, when it answered with something worth keeping (an invoice id).
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    def __repr__(self) -> str:
        return (
            f"OutboxMessage(id={self.id!r}, action={self.action!r}, target={self.target!r}, "
            f"state={self.state!r})"
        )
