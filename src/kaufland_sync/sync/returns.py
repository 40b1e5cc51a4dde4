"""Returns in our words: the seller's decisions, Kaufland's deadline, and restocking.

**Decisions.** :func:`queue_decision` checks a decision on a return unit locally, then queues it
in the outbox (:func:`kaufland_sync.sync.outbox.enqueue`) in the caller's transaction; the outbox
worker sends it (``PATCH /return-units/{id}/accept|reject|clarify|repair``). The local status is
*not* changed here: the next ``import returns`` reads what Kaufland made of it. Checks, each
refused with a :class:`ReturnDecisionError` that names the unit:

* the unit exists locally for the account (import returns first);
* its last imported status allows the decision. The rules mirror the sandbox (docs/sandbox.md,
  "Returns"): accept and reject from ``need_to_be_returned``, ``return_arrived``,
  ``return_in_clarification`` or ``return_in_repair``; clarify from ``need_to_be_returned``,
  ``return_arrived`` or ``return_in_repair``; repair from ``return_arrived`` or
  ``return_in_clarification`` (the item must be in hand);
* no *other* decision for the unit is still on its way (pending, sending or unknown in the
  outbox): Kaufland would refuse the second one once the first has moved the unit;
* reject and clarify carry a message (Kaufland opens a buyer ticket with it). The spec gives the
  body field no length; since it becomes the ticket's first message, the ticket-message limit
  of the spec (1-65535 characters, ``CreateTicketMessageRequest.text``) applies. Surrounding
  white space is removed; accept and repair take no message.

The same decision given twice for the same unit in the same status (a retried command) finds the
first outbox message (``dedupe_key``) instead of queueing a second one.

**Deadline.** Kaufland's seller guide (returns settings, "When is the refund to the customer
initiated?") says a return not processed within 3 working days of its receipt is confirmed
automatically. :func:`decide_by` is the unit's ``arrived_at`` plus 3 working days (Monday to
Friday, by UTC date, at the same time of day; public holidays are *not* counted as days off, so
the deadline shown is never later than Kaufland's). It applies only while the unit is
``return_arrived``: before the parcel is back there is no clock, and clarification or repair is
processing.

**Restock.** :func:`restock` puts one piece of an accepted return unit's SKU back into the
built-in catalogue's stock, at most once per unit (``ReturnUnit.restocked``, claimed with a
conditional update so two runs at once cannot both add it). Warehouse: see :func:`restock`.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import DEFAULT_WAREHOUSE, Product, StockLevel, Warehouse
from kaufland_sync.store.models.orders import Order, OrderLine
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.store.models.returns import Return, ReturnUnit
from kaufland_sync.sync.outbox import enqueue

__all__ = [
    "ALLOWED_FROM",
    "AWAITING_DECISION",
    "MESSAGE_MAX",
    "OPEN_STATUSES",
    "WORKING_DAYS_TO_DECIDE",
    "DecisionNotAllowedError",
    "QueuedDecision",
    "ReturnDecision",
    "ReturnDecisionError",
    "UnknownReturnUnitError",
    "add_working_days",
    "decide",
    "decide_by",
    "find_unit",
    "is_overdue",
    "queue_decision",
    "restock",
    "time_left",
]


class ReturnDecision(enum.StrEnum):
    """What the seller decides about a return unit."""

    ACCEPT = "accept"
    REJECT = "reject"
    CLARIFY = "clarify"
    REPAIR = "repair"

    @property
    def action(self) -> OutboxAction:
        return _ACTIONS[self]

    @property
    def needs_message(self) -> bool:
        return self in (ReturnDecision.REJECT, ReturnDecision.CLARIFY)


_ACTIONS = {
    ReturnDecision.ACCEPT: OutboxAction.RETURN_ACCEPT,
    ReturnDecision.REJECT: OutboxAction.RETURN_REJECT,
    ReturnDecision.CLARIFY: OutboxAction.RETURN_CLARIFY,
    ReturnDecision.REPAIR: OutboxAction.RETURN_REPAIR,
}

#: Statuses a unit may be in while it still waits for (or is in) the seller's processing.
OPEN_STATUSES = (
    "need_to_be_returned",
    "return_arrived",
    "return_in_clarification",
    "return_in_repair",
)
#: The one status in which Kaufland's 3-working-day clock runs.
AWAITING_DECISION = "return_arrived"
_DECIDABLE = OPEN_STATUSES
#: Statuses each decision may be given from (the sandbox's rules, see the module docstring).
ALLOWED_FROM: dict[ReturnDecision, tuple[str, ...]] = {
    ReturnDecision.ACCEPT: _DECIDABLE,
    ReturnDecision.REJECT: _DECIDABLE,
    ReturnDecision.CLARIFY: ("need_to_be_returned", "return_arrived", "return_in_repair"),
    ReturnDecision.REPAIR: ("return_arrived", "return_in_clarification"),
}
#: Longest reject/clarify message: the spec's limit for a ticket message, which it becomes.
MESSAGE_MAX = 65535
WORKING_DAYS_TO_DECIDE = 3
_IN_FLIGHT = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.UNKNOWN)


class ReturnDecisionError(ValueError):
    """A decision refused locally; nothing was queued."""


class UnknownReturnUnitError(ReturnDecisionError):
    def __init__(self, id_return_unit: int) -> None:
        super().__init__(
            f"return unit {id_return_unit} is not known locally for this account "
            "(run `kaufland-sync import returns` first)"
        )
        self.id_return_unit = id_return_unit


class DecisionNotAllowedError(ReturnDecisionError):
    """The unit's status (or a decision already on its way) does not allow this decision."""


# ---------------------------------------------------------------------------------------------
# deadline


class _HasArrival(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def arrived_at(self) -> datetime | None: ...


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` moved forward by ``days`` working days (Monday-Friday of its own date, same
    time of day). Weekends are skipped; public holidays are not known and count as working
    days. From a Saturday, 3 working days end on Wednesday at the same time."""
    if days < 0:
        raise ValueError("days must not be negative")
    moment = start
    left = days
    while left:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment


def decide_by(unit: _HasArrival) -> datetime | None:
    """When Kaufland accepts the unit on the seller's behalf: ``arrived_at`` + 3 working days,
    for a unit that is ``return_arrived``; ``None`` for any other status (no clock runs) or
    when the arrival time is unknown."""
    if unit.status != AWAITING_DECISION or unit.arrived_at is None:
        return None
    return add_working_days(unit.arrived_at, WORKING_DAYS_TO_DECIDE)


def time_left(unit: _HasArrival, now: datetime) -> timedelta | None:
    """Time until :func:`decide_by` (negative once it has passed); ``None`` when no deadline."""
    deadline = decide_by(unit)
    return None if deadline is None else deadline - now


def is_overdue(unit: _HasArrival, now: datetime) -> bool:
    """Whether the unit's deadline has passed (Kaufland has accepted it, or will any moment)."""
    left = time_left(unit, now)
    return left is not None and left <= timedelta(0)


# ---------------------------------------------------------------------------------------------
# decisions


@dataclass(frozen=True)
class QueuedDecision:
    """The outbox message that carries a decision (``created`` False: an earlier identical
    command's message was found instead)."""

    outbox_id: int
    id_return_unit: int
    decision: ReturnDecision
    state: OutboxState
    created: bool


def find_unit(session: Session, account_id: int, id_return_unit: int) -> ReturnUnit | None:
    """The account's return unit with Kaufland id ``id_return_unit``, or ``None``."""
    return session.scalar(
        select(ReturnUnit)
        .join(Return, ReturnUnit.return_id == Return.id)
        .where(Return.account_id == account_id, ReturnUnit.id_return_unit == id_return_unit)
    )


def _clean_message(decision: ReturnDecision, message: str | None) -> str | None:
    if not decision.needs_message:
        if message is not None and message.strip():
            raise ReturnDecisionError(f"{decision.value} takes no message")
        return None
    text = (message or "").strip()
    if not text:
        raise ReturnDecisionError(
            f"{decision.value} needs a message for the buyer (Kaufland opens a ticket with it)"
        )
    if len(text) > MESSAGE_MAX:
        raise ReturnDecisionError(
            f"the message has {len(text)} characters; Kaufland takes at most {MESSAGE_MAX}"
        )
    return text


def _dedupe_key(unit: ReturnUnit, decision: ReturnDecision, message: str | None) -> str:
    # The status is part of the key: the same decision is legitimately given again once the unit
    # moved on (clarify, repair, clarify again), while a retried command in the same status finds
    # its first message.
    digest = hashlib.sha256((message or "").encode("utf-8")).hexdigest()[:16]
    return f"return-{decision.value}:{unit.id_return_unit}:{unit.status}:{digest}"


def queue_decision(
    session: Session,
    *,
    account_id: int,
    id_return_unit: int,
    decision: ReturnDecision | str,
    message: str | None = None,
    now: datetime,
) -> QueuedDecision:
    """Check ``decision`` on the account's return unit and queue it in the outbox, inside the
    caller's transaction (see the module docstring for the checks). Raises
    :class:`ReturnDecisionError` (nothing queued) when a check fails."""
    chosen = ReturnDecision(decision)
    text = _clean_message(chosen, message)
    unit = find_unit(session, account_id, id_return_unit)
    if unit is None:
        raise UnknownReturnUnitError(id_return_unit)
    key = _dedupe_key(unit, chosen, text)
    in_flight = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.account_id == account_id,
            OutboxMessage.target == str(id_return_unit),
            OutboxMessage.action.in_([d.action for d in ReturnDecision]),
            OutboxMessage.state.in_(_IN_FLIGHT),
        )
    ).all()
    other = next((m for m in in_flight if m.dedupe_key != key), None)
    if other is not None:
        raise DecisionNotAllowedError(
            f"return unit {id_return_unit}: {other.action.value} (outbox #{other.id}) is still "
            f"{other.state.value}; wait for it (and the next import) before deciding again"
        )
    if unit.status not in ALLOWED_FROM[chosen]:
        raise DecisionNotAllowedError(
            f"return unit {id_return_unit} is {unit.status}; {chosen.value} is possible from "
            f"{', '.join(ALLOWED_FROM[chosen])}"
        )
    order_id = None
    if unit.order_line_id is not None:
        order_id = session.scalar(
            select(OrderLine.order_id).where(OrderLine.id == unit.order_line_id)
        )
    before = session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.account_id == account_id, OutboxMessage.dedupe_key == key
        )
    )
    message_row = enqueue(
        session,
        account_id=account_id,
        action=chosen.action,
        target=id_return_unit,
        payload={} if text is None else {"message": text},
        order_id=order_id,
        dedupe_key=key,
        now=now,
    )
    return QueuedDecision(
        outbox_id=message_row.id,
        id_return_unit=id_return_unit,
        decision=chosen,
        state=message_row.state,
        created=before is None,
    )


def decide(
    factory: sessionmaker[Session],
    *,
    account_id: int,
    id_return_unit: int,
    decision: ReturnDecision | str,
    message: str | None = None,
    clock: Callable[[], datetime],
) -> QueuedDecision:
    """:func:`queue_decision` in a transaction of its own."""
    with transaction(factory) as session:
        return queue_decision(
            session,
            account_id=account_id,
            id_return_unit=id_return_unit,
            decision=decision,
            message=message,
            now=clock(),
        )


# ---------------------------------------------------------------------------------------------
# restock


def _warehouse(session: Session, code: str) -> Warehouse:
    found = session.scalar(select(Warehouse).where(Warehouse.code == code))
    if found is None:
        found = Warehouse(code=code, name=code)
        session.add(found)
        session.flush()
    return found


def _restock_warehouse(
    session: Session, account: Account, product: Product, order: Order | None
) -> Warehouse:
    """Where a returned piece goes back:

    1. the order's storefront maps local warehouses → the mapped one holding the most of this
       product (ties: the first code alphabetically): the warehouse the offer is served from,
       so the piece counts on that storefront again (the offer mapper's own choice);
    2. no mapping → the warehouse already holding the most of the product (same tie rule);
    3. the product has no stock row anywhere → ``default``.
    """
    held = {
        code: quantity
        for code, quantity in session.execute(
            select(Warehouse.code, StockLevel.quantity)
            .join(StockLevel, StockLevel.warehouse_id == Warehouse.id)
            .where(StockLevel.product_id == product.id)
        )
    }
    settings = None if order is None else account.storefront(order.storefront)
    mapped = sorted(settings.warehouse_map()) if settings is not None else []
    candidates = mapped or sorted(held)
    if not candidates:
        return _warehouse(session, DEFAULT_WAREHOUSE)
    best = max(candidates, key=lambda code: held.get(code, 0))
    return _warehouse(session, best)


def restock(session: Session, account: Account, unit: ReturnUnit) -> str | None:
    """Put one piece of ``unit``'s SKU back into the catalogue's on-hand stock, once.

    Returns the SKU when this call added the piece, ``None`` when nothing was done: already
    restocked (by this or a concurrent run), no linked order line or SKU, or no catalogue
    product with that SKU. The unit must be flushed; the caller commits. ``account`` must have
    its storefronts (and their warehouse mappings) loaded.
    """
    if unit.restocked or unit.order_line_id is None:
        return None
    line = session.get(OrderLine, unit.order_line_id)
    if line is None or not line.sku:
        return None
    product = session.scalar(select(Product).where(Product.sku == line.sku))
    if product is None:
        return None
    # The claim is a conditional update: a concurrent run that claimed the unit first makes
    # this one match no row (PostgreSQL re-checks the condition after the other commits;
    # SQLite writers are serial), so the piece is added once.
    claimed = session.execute(
        update(ReturnUnit)
        .where(ReturnUnit.id == unit.id, ReturnUnit.restocked.is_(False))
        .values(restocked=True)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    set_committed_value(unit, "restocked", True)
    warehouse = _restock_warehouse(session, account, product, line.order)
    level = session.scalar(
        select(StockLevel).where(
            StockLevel.product_id == product.id, StockLevel.warehouse_id == warehouse.id
        )
    )
    if level is None:
        session.add(StockLevel(product_id=product.id, warehouse_id=warehouse.id, quantity=1))
        session.flush()
    else:
        # In SQL, not read-modify-write: a catalogue import changing the level meanwhile keeps
        # its change and ours.
        session.execute(
            update(StockLevel)
            .where(StockLevel.id == level.id)
            .values(quantity=StockLevel.quantity + 1)
            .execution_options(synchronize_session=False)
        )
        session.expire(level)
    return line.sku
