"""The outbox (see :mod:`kaufland_sync.store.models.outbox`): enqueue actions for Kaufland.

:func:`enqueue` is the one way to ask for an outgoing action. It is called inside the caller's
transaction, next to the local change the action belongs to, so both happen or neither does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kaufland_sync.store.base import utc_now
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage

__all__ = ["enqueue"]


def enqueue(
    session: Session,
    *,
    account_id: int,
    action: OutboxAction,
    target: str | int,
    payload: dict[str, Any] | None = None,
    order_id: int | None = None,
    attachment: bytes | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Add a pending message (flushed, so it has an id) and return it. With ``dedupe_key``, a
    message of the account with the same key is returned instead of adding a second one."""
    if dedupe_key is not None:
        found = session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.account_id == account_id, OutboxMessage.dedupe_key == dedupe_key
            )
        )
        if found is not None:
            return found
    message = OutboxMessage(
        account_id=account_id,
        order_id=order_id,
        action=action,
        target=str(target),
        payload=dict(payload or {}),
        attachment=attachment,
        dedupe_key=dedupe_key,
        next_attempt_at=now or utc_now(),
    )
    session.add(message)
    session.flush()
    return message
