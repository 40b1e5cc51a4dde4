"""Outgoing order actions: ship, cancel, invoice, refund — checked here, sent by the outbox.

Each command validates everything against the local order first and then queues its outbox
messages with :func:`kaufland_sync.sync.outbox.enqueue` in the caller's transaction: when any
part is invalid a :class:`FulfilmentError` is raised before anything is queued, naming the field
and the record. The outbox worker (:func:`kaufland_sync.sync.outbox.run_outbox`) sends them.

Statuses are the local copy of Kaufland's (the last import). A line counts as *being sent* when
a ``send`` message for it is pending, sending or unknown, as *sent* once that message is done
(Kaufland accepted it, whatever the last import said), and as *being cancelled* when a
``cancel`` message for it is in one of those states; a ``failed`` message does not count
(Kaufland refused it).

**Same command twice.** Every message carries a dedupe key, so giving the same command again
(a retried CLI call, a double click) returns the messages of the first instead of queueing new
ones. Two commands are the same when they ask for the same effect:

* ``send``: the same order unit, carrier and tracking numbers (``send:{unit}:{carrier}:{numbers}``);
* ``add_shipment``: the same unit, carrier and tracking number — one parcel is one parcel;
* ``cancel``: the same unit (a unit is cancelled once, whatever the reason);
* ``invoice``: the same order and the same file content (SHA-256);
* ``refund``: the same unit, amount and reason on the same UTC day, unless the caller gives its
  own ``key`` (to refund the same amount again on purpose, pass a new key).

A ``failed`` message keeps its key: the same command again finds it (retry it with ``outbox
retry``); a corrected command (other tracking number, carrier, reason) is a new one.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Final, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.models import OrderUnitCancelReason, OrderUnitRefundReason
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.models.orders import MappingKind, Order, OrderLine, OrderMapping
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.store.models.returns import Refund
from kaufland_sync.sync.outbox import enqueue

__all__ = [
    "CANCEL_REASON_DEFAULTS",
    "MAX_INVOICE_BYTES",
    "NO_TRACKING_CARRIERS",
    "REFUND_REASON_DEFAULTS",
    "CarrierCache",
    "FulfilmentError",
    "Queued",
    "cancel",
    "carriers_used",
    "find_order",
    "format_amount",
    "invoice",
    "parse_amount",
    "refund",
    "refundable_left",
    "resolve_cancel_reason",
    "resolve_carrier",
    "resolve_refund_reason",
    "ship",
]

#: Carriers that may be sent without a tracking number (Kaufland's order-file guide).
NO_TRACKING_CARRIERS: Final = ("Other", "Other Hauler")
#: Largest invoice accepted (Kaufland's sandbox limit; real invoices are far smaller).
MAX_INVOICE_BYTES: Final = 10 * 1024 * 1024
_PDF_MAGIC: Final = b"%PDF-"

R = TypeVar("R", OrderUnitCancelReason, OrderUnitRefundReason)

_SENT = frozenset({"sent", "sent_and_autopaid", "received"})
_REFUNDABLE = frozenset({"sent", "sent_and_autopaid", "received", "returned", "returned_paid"})
_CANCELLABLE = frozenset({"open", "need_to_be_sent"})
_LIVE = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.UNKNOWN, OutboxState.DONE)
_DECIMALS: Final = 2  # of every Kaufland currency's major unit (EUR, CZK, PLN)


def format_amount(minor: int, currency: str | None, *, with_currency: bool = False) -> str:
    """``minor`` units as the major amount people type, exactly: ``format_amount(2500, "EUR")
    == "25.00"``, with ``with_currency`` ``"25.00 EUR"``. Kaufland's currencies (EUR, CZK,
    PLN) all have two decimals; an order without a currency is shown with two as well."""
    text = f"{Decimal(minor).scaleb(-_DECIMALS):.{_DECIMALS}f}"
    return f"{text} {currency}" if with_currency and currency else text


#: The largest amount a person may type (minor units): no order is worth more, and the store's
#: amount columns are 32-bit.
MAX_AMOUNT: Final = 2**31 - 1


def parse_amount(text: str, currency: str | None = None) -> int:
    """An amount typed by a person (``4.99`` or ``4,99``) as minor units, exactly: the inverse
    of :func:`format_amount`, shared by the command line (``orders refund --amount``) and the
    pages so both accept and refuse the same texts. Not a positive number, more decimals than
    the currency has, or more than :data:`MAX_AMOUNT` raises ``ValueError`` with the reason
    (``currency`` only names the currency in that reason)."""
    shown = text.strip()
    cleaned = shown.replace(",", ".")
    if not cleaned:
        raise ValueError("enter the amount, e.g. 4.99")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{shown!r} is not an amount; write it like 4.99") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{shown!r} must be more than 0")
    minor = value.scaleb(_DECIMALS)
    if minor != minor.to_integral_value():
        unit = f" ({currency})" if currency else ""
        raise ValueError(f"{shown!r} has more than {_DECIMALS} decimals{unit}")
    if minor > MAX_AMOUNT:
        raise ValueError(f"{shown!r} is more than any order could be worth")
    return int(minor)


def _words(text: str) -> str:
    """A reason or name compared loosely: lower case, ``-``/``_`` as spaces, single spaces."""
    return " ".join(re.sub(r"[-_]+", " ", text).lower().split())


#: Local words for Kaufland's cancel reasons (compared loosely, see ``_words``). Any exact
#: Kaufland reason is accepted too, in any case; OrderMapping rows (kind ``cancel_reason``)
#: override both.
CANCEL_REASON_DEFAULTS: Final[dict[str, OrderUnitCancelReason]] = {
    "out of stock": OrderUnitCancelReason.NO_INVENTORY,
    "no stock": OrderUnitCancelReason.NO_INVENTORY,
    "no inventory": OrderUnitCancelReason.NO_INVENTORY,
    "sold out": OrderUnitCancelReason.NO_INVENTORY,
    "delayed": OrderUnitCancelReason.DELAYED_INVENTORY,
    "delayed stock": OrderUnitCancelReason.DELAYED_INVENTORY,
    "back order": OrderUnitCancelReason.DELAYED_INVENTORY,
    "buyer request": OrderUnitCancelReason.BUYER_CANCELLED,
    "customer request": OrderUnitCancelReason.BUYER_CANCELLED,
    "buyer cancelled": OrderUnitCancelReason.BUYER_CANCELLED,
    "wrong price": OrderUnitCancelReason.WRONG_PRICE,
    "price error": OrderUnitCancelReason.WRONG_PRICE,
    "wrong data": OrderUnitCancelReason.WRONG_CATALOG_DATA,
    "catalog error": OrderUnitCancelReason.WRONG_CATALOG_DATA,
    "bad address": OrderUnitCancelReason.SHIPPING_ADDRESS_UNDELIVERABLE,
    "undeliverable address": OrderUnitCancelReason.SHIPPING_ADDRESS_UNDELIVERABLE,
    "undeliverable region": OrderUnitCancelReason.UNDELIVERABLE_REGION,
    "no shipping to region": OrderUnitCancelReason.UNDELIVERABLE_REGION,
    "no reply": OrderUnitCancelReason.NO_REACTION_BUYER,
    "buyer not responding": OrderUnitCancelReason.NO_REACTION_BUYER,
    "not received": OrderUnitCancelReason.MERCHANDISE_NOT_RECEIVED,
    "supplier did not deliver": OrderUnitCancelReason.MERCHANDISE_NOT_RECEIVED,
    "other": OrderUnitCancelReason.GENERAL_ADJUSTMENT,
    "adjustment": OrderUnitCancelReason.GENERAL_ADJUSTMENT,
}

#: Local words for Kaufland's refund reasons; as for cancel reasons (kind ``refund_reason``).
REFUND_REASON_DEFAULTS: Final[dict[str, OrderUnitRefundReason]] = {
    "damaged": OrderUnitRefundReason.DELIVERY_DAMAGE,
    "damaged in transit": OrderUnitRefundReason.DELIVERY_DAMAGE,
    "late": OrderUnitRefundReason.DELIVERY_DELAY,
    "late delivery": OrderUnitRefundReason.DELIVERY_DELAY,
    "delay": OrderUnitRefundReason.DELIVERY_DELAY,
    "incomplete": OrderUnitRefundReason.INCOMPLETE_DELIVERY,
    "missing parts": OrderUnitRefundReason.INCOMPLETE_DELIVERY,
    "wrong item": OrderUnitRefundReason.INCORRECT_DELIVERY,
    "wrong article": OrderUnitRefundReason.INCORRECT_DELIVERY,
    "shipping": OrderUnitRefundReason.REFUND_POSTAGE_FEE,
    "postage": OrderUnitRefundReason.REFUND_POSTAGE_FEE,
    "shipping cost": OrderUnitRefundReason.REFUND_POSTAGE_FEE,
    "return postage": OrderUnitRefundReason.REFUND_RETURN_POSTAGE_FEE,
    "return shipping": OrderUnitRefundReason.REFUND_RETURN_POSTAGE_FEE,
    "defective": OrderUnitRefundReason.DEFECT,
    "broken": OrderUnitRefundReason.DEFECT,
    "goodwill": OrderUnitRefundReason.OTHER_REFUND,
    "other": OrderUnitRefundReason.OTHER_REFUND,
}


class FulfilmentError(ValueError):
    """A command was refused before anything was queued. ``field`` names the input at fault
    (``carrier``, ``tracking``, ``units``, ``reason``, ``amount``, ``file``, ``id_order``)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Queued:
    """One message a command asked for. ``new`` is False when the same command had queued it
    before (dedupe) — then ``state`` may already be past ``pending``."""

    message_id: int
    action: OutboxAction
    target: str
    state: OutboxState
    new: bool


def _queue(
    session: Session,
    order: Order,
    action: OutboxAction,
    target: str | int,
    payload: dict[str, object],
    dedupe_key: str,
    now: datetime,
    attachment: bytes | None = None,
) -> tuple[OutboxMessage, Queued]:
    existing = session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.account_id == order.account_id, OutboxMessage.dedupe_key == dedupe_key
        )
    )
    message = existing or enqueue(
        session,
        account_id=order.account_id,
        action=action,
        target=target,
        payload=payload,
        order_id=order.id,
        attachment=attachment,
        dedupe_key=dedupe_key,
        now=now,
    )
    return message, Queued(message.id, message.action, message.target, message.state, not existing)


# ---------------------------------------------------------------------------------------------
# lookups


def find_order(session: Session, account_id: int, id_order: str) -> Order:
    """The account's order ``id_order`` (FulfilmentError when it was never imported)."""
    order = session.scalar(
        select(Order).where(Order.account_id == account_id, Order.id_order == id_order)
    )
    if order is None:
        raise FulfilmentError(
            "id_order", f"order {id_order} is not in the local store (import orders first)"
        )
    return order


def _mapped(session: Session, order: Order, kind: MappingKind, source: str) -> str | None:
    """The target of the account's mapping row for ``source`` (loosely compared): the order's
    storefront's own row first, then the all-storefront row ``""``."""
    rows = session.scalars(
        select(OrderMapping).where(
            OrderMapping.account_id == order.account_id,
            OrderMapping.kind == kind,
            OrderMapping.storefront.in_([order.storefront.value, ""]),
        )
    ).all()
    wanted = _words(source)
    for storefront in (order.storefront.value, ""):
        for row in rows:
            if row.storefront == storefront and _words(row.source) == wanted:
                return row.target
    return None


class CarrierCache:
    """Kaufland's carrier names (``GET /carriers``), fetched at most once per ``ttl`` seconds
    per API base URL: the list changes rarely and every ``ship`` needs it."""

    def __init__(self, ttl: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._lists: dict[str, tuple[float, list[str]]] = {}

    async def names(self, client: KauflandClient) -> list[str]:
        cached = self._lists.get(client.base_url)
        if cached is not None and self.clock() - cached[0] < self.ttl:
            return cached[1]
        names = [c.name for c in await client.carriers.list()]
        self._lists[client.base_url] = (self.clock(), names)
        return names


def carriers_used(session: Session, account_id: int) -> list[str]:
    """Carrier codes Kaufland accepted from this account before (``send``/``add_shipment``
    messages that are done), plus ``Other``/``Other Hauler``: a fallback for checking a carrier
    while ``GET /carriers`` cannot be reached."""
    rows = session.scalars(
        select(OutboxMessage.payload).where(
            OutboxMessage.account_id == account_id,
            OutboxMessage.state == OutboxState.DONE,
            OutboxMessage.action.in_([OutboxAction.SEND, OutboxAction.ADD_SHIPMENT]),
        )
    )
    used = {str(p.get("carrier_code")) for p in rows if p and p.get("carrier_code")}
    return sorted(used | set(NO_TRACKING_CARRIERS))


def resolve_carrier(session: Session, order: Order, name: str, carriers: Sequence[str]) -> str:
    """Kaufland's carrier code for a local carrier ``name``: the mapping row (kind ``carrier``)
    if any, else the name itself, matched case-insensitively against ``carriers``. An unknown
    carrier is refused with the closest valid names."""
    if not name.strip():
        raise FulfilmentError("carrier", "a carrier is required")
    mapped = _mapped(session, order, MappingKind.CARRIER, name)
    wanted = (mapped or name).strip()
    by_lower = {c.lower(): c for c in carriers}
    found = by_lower.get(wanted.lower())
    if found is not None:
        return found
    close = difflib.get_close_matches(wanted.lower(), list(by_lower), n=5, cutoff=0.5)
    via = f" (mapped from {name!r})" if mapped else ""
    hint = (
        "closest: " + ", ".join(by_lower[c] for c in close)
        if close
        else f"none is close; Kaufland knows {len(carriers)} carriers (GET /carriers)"
    )
    raise FulfilmentError(
        "carrier", f"unknown carrier {wanted!r}{via} for order {order.id_order}; {hint}"
    )


def _resolve_reason(
    session: Session,
    order: Order,
    reason: str,
    kind: MappingKind,
    enum: type[R],
    defaults: dict[str, R],
) -> R:
    if not reason.strip():
        raise FulfilmentError("reason", "a reason is required")
    exact = {m.value.lower(): m for m in enum}
    mapped = _mapped(session, order, kind, reason)
    if mapped is not None:
        hit = exact.get(mapped.strip().lower())
        if hit is None:
            raise FulfilmentError(
                "reason",
                f"the {kind.value} mapping of {reason!r} points to {mapped!r}, which is not a "
                f"Kaufland reason (valid: {', '.join(m.value for m in enum)})",
            )
        return hit
    hit = exact.get(reason.strip().lower()) or defaults.get(_words(reason))
    if hit is None:
        words = ", ".join(sorted(defaults))
        raise FulfilmentError(
            "reason",
            f"unknown reason {reason!r}; use a Kaufland reason ({', '.join(m.value for m in enum)})"
            f" or one of: {words} (or add a {kind.value} mapping)",
        )
    return hit


def resolve_cancel_reason(session: Session, order: Order, reason: str) -> OrderUnitCancelReason:
    """Kaufland's cancel reason for a local word: mapping row, exact Kaufland reason (any case),
    then :data:`CANCEL_REASON_DEFAULTS`."""
    return _resolve_reason(
        session,
        order,
        reason,
        MappingKind.CANCEL_REASON,
        OrderUnitCancelReason,
        CANCEL_REASON_DEFAULTS,
    )


def resolve_refund_reason(session: Session, order: Order, reason: str) -> OrderUnitRefundReason:
    """Kaufland's refund reason for a local word, like :func:`resolve_cancel_reason`."""
    return _resolve_reason(
        session,
        order,
        reason,
        MappingKind.REFUND_REASON,
        OrderUnitRefundReason,
        REFUND_REASON_DEFAULTS,
    )


def _messages_by_unit(
    session: Session, order: Order, actions: Iterable[OutboxAction]
) -> dict[str, list[OutboxMessage]]:
    """The order's messages of ``actions``, by target (id_order_unit as text), oldest first."""
    found: dict[str, list[OutboxMessage]] = {}
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.account_id == order.account_id,
            OutboxMessage.order_id == order.id,
            OutboxMessage.action.in_(list(actions)),
        )
        .order_by(OutboxMessage.id)
    )
    for message in rows:
        found.setdefault(message.target, []).append(message)
    return found


def _live(messages: Iterable[OutboxMessage], action: OutboxAction) -> list[OutboxMessage]:
    return [m for m in messages if m.action == action and m.state in _LIVE]


def _pick_lines(order: Order, units: Sequence[int] | None) -> list[OrderLine]:
    """The order's lines named in ``units`` (every unit must belong to the order)."""
    if units is None:
        return list(order.lines)
    by_id = {line.id_order_unit: line for line in order.lines}
    missing = [u for u in units if u not in by_id]
    if missing:
        raise FulfilmentError(
            "units",
            f"order unit(s) {', '.join(map(str, missing))} are not part of order "
            f"{order.id_order} (its units: {', '.join(map(str, sorted(by_id)))})",
        )
    return [by_id[u] for u in dict.fromkeys(units)]


# ---------------------------------------------------------------------------------------------
# ship


def _tracking_list(numbers: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for number in numbers:
        text = number.strip()
        if not text:
            continue
        if "," in text:
            # Kaufland joins several numbers with commas: a comma inside one would split it.
            raise FulfilmentError("tracking", f"tracking number {text!r} contains a comma")
        if len(text) > 100:
            raise FulfilmentError("tracking", f"tracking number {text[:20]!r}… is too long")
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def ship(
    session: Session,
    account_id: int,
    id_order: str,
    *,
    carrier: str,
    tracking_numbers: Sequence[str],
    carriers: Sequence[str],
    units: Sequence[int] | None = None,
    now: datetime | None = None,
) -> list[Queued]:
    """Queue the shipment of an order's units with ``carrier`` (a local name, resolved with
    :func:`resolve_carrier` against ``carriers``, the names of ``GET /carriers``).

    Lines in ``need_to_be_sent`` get one ``send`` carrying every tracking number (comma-joined,
    several parcels); lines already sent (or being sent) get one ``add_shipment`` per tracking
    number not yet recorded for that unit (extra parcels). ``units`` default: every line that
    can be sent; when there is none, the same command given before is found again, else an
    error asks to name the units (extra parcels are only added to named units). Tracking may
    be left out only for the carriers ``Other``/``Other Hauler``, and never for an extra
    parcel. Open lines are refused, as Kaufland refuses to send them: Kaufland releases an
    order unit (``need_to_be_sent``) once the buyer's payment and address are confirmed.
    """
    now = now or utc_now()
    order = find_order(session, account_id, id_order)
    code = resolve_carrier(session, order, carrier, carriers)
    numbers = _tracking_list(tracking_numbers)
    if not numbers and code not in NO_TRACKING_CARRIERS:
        raise FulfilmentError(
            "tracking",
            f"carrier {code!r} needs a tracking number (only {' and '.join(NO_TRACKING_CARRIERS)}"
            " may be sent without one)",
        )
    joined = ",".join(numbers)
    send_key = f"send:{{unit}}:{code}:{joined}"
    messages = _messages_by_unit(
        session, order, (OutboxAction.SEND, OutboxAction.ADD_SHIPMENT, OutboxAction.CANCEL)
    )

    def being_sent(line: OrderLine) -> list[OutboxMessage]:
        return _live(messages.get(str(line.id_order_unit), []), OutboxAction.SEND)

    def same_command(line: OrderLine) -> bool:
        key = send_key.format(unit=line.id_order_unit)
        return any(m.dedupe_key == key for m in being_sent(line))

    if units is None:
        lines = [
            line
            for line in order.lines
            if (line.status == "need_to_be_sent" and not being_sent(line)) or same_command(line)
        ]
        if not lines:
            summary = ", ".join(f"{line.id_order_unit} {line.status}" for line in order.lines)
            if any(line.status in _SENT or being_sent(line) for line in order.lines):
                raise FulfilmentError(
                    "units",
                    f"no line of order {order.id_order} is waiting to be sent ({summary}); "
                    "to add a parcel to a sent line, name it with --unit",
                )
            raise FulfilmentError(
                "units", f"no line of order {order.id_order} can be shipped ({summary})"
            )
    else:
        lines = _pick_lines(order, units)

    plan: list[tuple[OrderLine, OutboxAction, dict[str, object], str]] = []
    for line in lines:
        where = f"order unit {line.id_order_unit} of order {order.id_order}"
        unit_messages = messages.get(str(line.id_order_unit), [])
        if _live(unit_messages, OutboxAction.CANCEL):
            raise FulfilmentError("units", f"{where} is being cancelled")
        if same_command(line) or (line.status == "need_to_be_sent" and not being_sent(line)):
            payload: dict[str, object] = {"carrier_code": code, "tracking_numbers": joined}
            plan.append(
                (line, OutboxAction.SEND, payload, send_key.format(unit=line.id_order_unit))
            )
        elif line.status in _SENT or being_sent(line):
            if not numbers:
                raise FulfilmentError(
                    "tracking", f"{where} is already sent; an extra parcel needs a tracking number"
                )
            known = {
                str(m.payload.get("tracking_number"))
                for m in _live(unit_messages, OutboxAction.ADD_SHIPMENT)
            }
            for m in being_sent(line):
                known.update(str(m.payload.get("tracking_numbers") or "").split(","))
            for number in numbers:
                key = f"add_shipment:{line.id_order_unit}:{code}:{number}"
                if number in known and not any(m.dedupe_key == key for m in unit_messages):
                    continue  # already recorded for this unit: not another parcel
                payload = {"carrier_code": code, "tracking_number": number}
                plan.append((line, OutboxAction.ADD_SHIPMENT, payload, key))
        elif line.status == "open":
            raise FulfilmentError(
                "units",
                f"{where} is still open: Kaufland has not released it for shipping yet (wait "
                "until it is need_to_be_sent, then import orders again)",
            )
        else:
            raise FulfilmentError("units", f"{where} is {line.status} and cannot be shipped")
    if not plan:
        raise FulfilmentError(
            "tracking", "every tracking number given is already recorded for these units"
        )
    return [
        _queue(session, order, action, line.id_order_unit, payload, key, now)[1]
        for line, action, payload, key in plan
    ]


# ---------------------------------------------------------------------------------------------
# cancel


def cancel(
    session: Session,
    account_id: int,
    id_order: str,
    *,
    reason: str,
    units: Sequence[int] | None = None,
    now: datetime | None = None,
) -> list[Queued]:
    """Queue the cancellation of an order's units with a reason (resolved with
    :func:`resolve_cancel_reason`). ``units`` default: every line that is ``open`` or
    ``need_to_be_sent`` and not being sent, plus lines this or another cancel already queued
    (found again, not queued twice). Sent, returned and already cancelled lines are refused; a
    line whose ``send`` message is done counts as sent, one whose ``send`` is still on its way
    (pending, sending, unknown) as being sent."""
    now = now or utc_now()
    order = find_order(session, account_id, id_order)
    code = resolve_cancel_reason(session, order, reason)
    messages = _messages_by_unit(session, order, (OutboxAction.SEND, OutboxAction.CANCEL))

    def state_of(line: OrderLine) -> str:
        unit_messages = messages.get(str(line.id_order_unit), [])
        if _live(unit_messages, OutboxAction.CANCEL):
            return "being cancelled"
        sends = _live(unit_messages, OutboxAction.SEND)
        if any(m.state == OutboxState.DONE for m in sends):
            # Kaufland accepted the send: the unit is sent even while the local copy (imported
            # before) still says it waits to be sent.
            return "sent" if line.status in _CANCELLABLE else line.status
        if sends:
            return "being sent"
        return line.status

    if units is None:
        lines = [
            line
            for line in order.lines
            if state_of(line) in _CANCELLABLE or state_of(line) == "being cancelled"
        ]
        if not lines:
            summary = ", ".join(f"{line.id_order_unit} {state_of(line)}" for line in order.lines)
            raise FulfilmentError(
                "units", f"no line of order {order.id_order} can be cancelled ({summary})"
            )
    else:
        lines = _pick_lines(order, units)
    for line in lines:
        status = state_of(line)
        if status not in _CANCELLABLE and status != "being cancelled":
            hint = " (refund it or handle a return instead)" if status in _REFUNDABLE else ""
            raise FulfilmentError(
                "units",
                f"order unit {line.id_order_unit} of order {order.id_order} is {status} and "
                f"cannot be cancelled{hint}",
            )
    return [
        _queue(
            session,
            order,
            OutboxAction.CANCEL,
            line.id_order_unit,
            {"reason": code.value},
            f"cancel:{line.id_order_unit}",
            now,
        )[1]
        for line in lines
    ]


# ---------------------------------------------------------------------------------------------
# invoice


def invoice(
    session: Session,
    account_id: int,
    id_order: str,
    *,
    content: bytes,
    file_name: str,
    now: datetime | None = None,
) -> Queued:
    """Queue the upload of an invoice PDF for an order. The file must start like a PDF and be
    between 1 byte and :data:`MAX_INVOICE_BYTES`; the name Kaufland shows is the file name
    without folders. The bytes travel in the message's ``attachment`` (the worker base64-encodes
    them); the same file for the same order is queued once."""
    now = now or utc_now()
    order = find_order(session, account_id, id_order)
    name = PurePath(file_name.replace("\\", "/")).name.strip()
    if not name:
        raise FulfilmentError("file", "the invoice needs a file name")
    if len(name) > 255:
        raise FulfilmentError("file", f"file name {name[:40]!r}… is longer than 255 characters")
    if not content:
        raise FulfilmentError("file", f"{name} is empty")
    if len(content) > MAX_INVOICE_BYTES:
        raise FulfilmentError(
            "file", f"{name} has {len(content)} bytes; the limit is {MAX_INVOICE_BYTES}"
        )
    if not content.startswith(_PDF_MAGIC):
        raise FulfilmentError("file", f"{name} is not a PDF (it does not start with %PDF-)")
    digest = hashlib.sha256(content).hexdigest()
    payload: dict[str, object] = {"original_name": name, "mime_type": "application/pdf"}
    return _queue(
        session,
        order,
        OutboxAction.INVOICE,
        order.id_order,
        payload,
        f"invoice:{order.id_order}:{digest}",
        now,
        attachment=content,
    )[1]


# ---------------------------------------------------------------------------------------------
# refund


def refundable_left(session: Session, line: OrderLine) -> int:
    """What may still be refunded on a line: price + shipping rate minus the refunds recorded
    for it whose message did not fail (minor units)."""
    paid = (line.price or 0) + (line.shipping_rate or 0)
    rows = session.execute(
        select(Refund.amount, OutboxMessage.state)
        .outerjoin(OutboxMessage, OutboxMessage.id == Refund.outbox_id)
        .where(Refund.order_id == line.order_id, Refund.id_order_unit == line.id_order_unit)
    )
    spent = sum(amount for amount, state in rows if state != OutboxState.FAILED)
    return paid - spent


def refund(
    session: Session,
    account_id: int,
    id_order: str,
    *,
    id_order_unit: int,
    amount: int,
    reason: str,
    key: str | None = None,
    now: datetime | None = None,
) -> tuple[Queued, Refund]:
    """Queue a refund of ``amount`` minor units on one order unit and record it as a
    :class:`Refund` row linked to its message. The unit must be sent or returned (before it is
    sent, cancel it instead); ``amount`` must be positive and at most
    :func:`refundable_left`. ``key`` (default: the day) tells deliberate repeats from a
    repeated command."""
    now = now or utc_now()
    order = find_order(session, account_id, id_order)
    (line,) = _pick_lines(order, [id_order_unit])
    where = f"order unit {id_order_unit} of order {order.id_order}"
    code = resolve_refund_reason(session, order, reason)
    sends = _messages_by_unit(session, order, (OutboxAction.SEND,)).get(str(id_order_unit), [])
    if line.status not in _REFUNDABLE and not _live(sends, OutboxAction.SEND):
        raise FulfilmentError(
            "units",
            f"{where} is {line.status}; refunds need a sent or returned unit "
            "(cancel it instead if it was not shipped)",
        )
    dedupe = f"refund:{id_order_unit}:{amount}:{code.value}:{key or now.date().isoformat()}"
    existing = session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.account_id == order.account_id, OutboxMessage.dedupe_key == dedupe
        )
    )
    if existing is not None:
        row = session.scalar(select(Refund).where(Refund.outbox_id == existing.id))
        if row is not None:
            queued = Queued(existing.id, existing.action, existing.target, existing.state, False)
            return queued, row
    if amount <= 0:
        raise FulfilmentError("amount", f"the refund for {where} must be more than 0")
    left = refundable_left(session, line)
    if amount > left:
        raise FulfilmentError(
            "amount",
            f"{format_amount(amount, order.currency)} is more than what is left to refund on "
            f"{where}: {format_amount(left, order.currency, with_currency=True)} "
            "(price + shipping minus earlier refunds)",
        )
    message, queued = _queue(
        session,
        order,
        OutboxAction.REFUND,
        id_order_unit,
        {"amount": amount, "reason": code.value, "currency": order.currency},
        dedupe,
        now,
    )
    row = Refund(
        account_id=order.account_id,
        order_id=order.id,
        id_order_unit=id_order_unit,
        amount=amount,
        currency=order.currency,
        reason=code.value,
        outbox_id=message.id,
    )
    session.add(row)
    session.flush()
    return queued, row
