"""The outbox (see :mod:`kaufland_sync.store.models.outbox`): queue actions for Kaufland, send
them, and let a person see and steer what is stuck.

Queueing: :func:`enqueue` is the one way to ask for an outgoing action. It is called inside the
caller's transaction, next to the local change the action belongs to, so both happen or neither
does.

Sending: :func:`run_outbox` sends the due messages of one account through its
``KauflandClient``. Its contract:

* **Due.** A message is due when it is ``pending`` with ``next_attempt_at <= now``, or
  ``sending`` with a claim older than the lease (the worker that claimed it died or hung).
* **Claim.** A worker claims a message with one conditional ``UPDATE`` (compare-and-set on its
  state and claim time) committed before anything is sent. Two workers, in two processes or on
  two machines sharing PostgreSQL, can never both win the same claim, so a message is never
  sent by two workers at once. The outcome is written back only if the claim is still ours.
* **Order per target.** Messages about the same target (the same order unit, order or return
  unit) go in id order: a message waits while an earlier one for its target is ``pending``,
  ``sending`` or ``unknown``. A ``failed`` one does not hold the later ones back: Kaufland
  refused it for good and it is not sent again unless a person retries it.
* **Outcomes.** Success → ``done`` (with ``result`` when Kaufland answered with something worth
  keeping, such as an invoice id), and ``last_error`` of earlier attempts is cleared: a ``done``
  message has no error. A temporary failure (5xx, network error or timeout, 429 after
  the client's own retries, a used-up quota, a 401 that may be a clock or key problem) → back
  to ``pending`` after a capped exponential backoff with jitter (:class:`Backoff`), ``attempts``
  and ``last_error`` kept. A permanent refusal (other 4xx) → ``failed`` with Kaufland's
  reason — unless the action had in fact already taken effect (a ``send`` refused because the
  unit is already sent, a ``cancel`` of a cancelled unit, a return decision already made): the
  unit is read back and the message is ``done``.
* **Never twice blindly.** ``refund`` and ``add_shipment`` cannot be replayed safely (each call
  is another refund or another parcel) and their effect cannot be read back; when their outcome
  is unknown (a 5xx or dropped connection after sending, or a dead worker's claim) they become
  ``unknown`` and wait for a person. An ``invoice`` upload is checked instead: before sending it
  again after an earlier attempt, the order's invoices are read, and an invoice with the same
  file name means it arrived. ``send``, ``cancel`` and the return decisions move their object
  to one fixed state, so sending them again is harmless.

Operating: :func:`list_messages`, :func:`retry_message` (``failed``/``unknown`` → ``pending``
now), :func:`resolve_message` (``failed``/``unknown`` → ``done`` by hand, with a note) and
:func:`payload_view` (what a message carries, for people: never the attachment's bytes).

Nothing here logs payloads, attachments (invoice PDFs) or credentials: log lines name the
message id, action, target and state only.
"""

from __future__ import annotations

import logging
import random as random_module
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.errors import (
    ApiError,
    AuthenticationError,
    KauflandError,
    OutcomeUnknownError,
    QuotaExceededError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState

__all__ = [
    "DEFAULT_BACKOFF",
    "DEFAULT_LEASE",
    "Backoff",
    "OutboxError",
    "OutboxRunSummary",
    "enqueue",
    "list_messages",
    "payload_view",
    "resolve_message",
    "retry_message",
    "run_outbox",
    "target_kind",
]

logger = logging.getLogger("kaufland_sync.sync.outbox")

#: A claim older than this is taken to be a dead worker's. It must exceed the longest a send can
#: take with the client's own retries (timeouts and backoff: a few minutes at most).
DEFAULT_LEASE: Final = timedelta(minutes=15)

# Order-unit statuses that prove a unit was sent (it may have been returned since).
_SENT_OR_LATER = frozenset({"sent", "sent_and_autopaid", "received", "returned", "returned_paid"})
# States that hold back later messages about the same target.
_BLOCKING = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.UNKNOWN)
_MAX_ERROR = 2000


class OutboxError(Exception):
    """An operator request that cannot be done (no such message, wrong state)."""


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


# ---------------------------------------------------------------------------------------------
# targets and backoff


_TARGET_KINDS: Final[dict[OutboxAction, str]] = {
    OutboxAction.SEND: "order_unit",
    OutboxAction.ADD_SHIPMENT: "order_unit",
    OutboxAction.CANCEL: "order_unit",
    OutboxAction.REFUND: "order_unit",
    OutboxAction.INVOICE: "order",
    OutboxAction.RETURN_ACCEPT: "return_unit",
    OutboxAction.RETURN_REJECT: "return_unit",
    OutboxAction.RETURN_CLARIFY: "return_unit",
    OutboxAction.RETURN_REPAIR: "return_unit",
}


def target_kind(action: OutboxAction) -> str:
    """What ``target`` names for ``action``: ``order_unit``, ``order`` or ``return_unit``.
    Messages are ordered per (kind, target): ids of different kinds may coincide."""
    return _TARGET_KINDS[action]


@dataclass(frozen=True)
class Backoff:
    """Delay before the next attempt after ``attempts`` failed ones: capped exponential with
    equal jitter, ``c/2 + c/2 * draw`` where ``c = min(cap, base * 2**(attempts-1))`` and
    ``draw`` is in ``[0, 1)``. Jitter spreads the retries of many messages (and workers) so a
    recovering Kaufland is not hit by all of them at once."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)

    def delay(self, attempts: int, draw: float) -> timedelta:
        ceiling: timedelta = min(self.cap, self.base * (2 ** max(0, attempts - 1)))
        half: timedelta = ceiling / 2
        return half + half * min(max(draw, 0.0), 1.0)


DEFAULT_BACKOFF: Final = Backoff()


# ---------------------------------------------------------------------------------------------
# the actions


@dataclass(frozen=True)
class _Job:
    """A claimed message, detached from any session (sending happens outside transactions)."""

    id: int
    action: OutboxAction
    target: str
    payload: dict[str, Any]
    attachment: bytes | None
    claimed_at: datetime
    attempts_before: int  # sends tried before this claim (by us or a dead worker)
    stale: bool  # reclaimed from a worker whose lease ran out: it may have sent it

    @property
    def id_int(self) -> int:
        return int(self.target)


Result = dict[str, Any] | None
Sender = Callable[[KauflandClient, _Job], Awaitable[Result]]


@dataclass(frozen=True)
class _Handler:
    """How one action is sent and checked.

    ``replay_safe``: sending it twice has the effect of sending it once. ``already_done``: reads
    Kaufland and returns a result when the action's effect is already there (else None); used
    after a permanent refusal and, for actions that are not replay-safe, before sending again.
    """

    send: Sender
    replay_safe: bool
    already_done: Sender | None = None


async def _send_unit(client: KauflandClient, job: _Job) -> Result:
    await client.order_units.send(
        job.id_int,
        carrier_code=str(job.payload["carrier_code"]),
        tracking_numbers=str(job.payload.get("tracking_numbers") or ""),
    )
    return None


async def _unit_sent(client: KauflandClient, job: _Job) -> Result:
    unit = await client.order_units.get(job.id_int)
    status = str(unit.status) if unit.status is not None else ""
    return {"already": status} if status in _SENT_OR_LATER else None


async def _add_shipment(client: KauflandClient, job: _Job) -> Result:
    await client.shipments.add(
        job.id_int,
        carrier_code=str(job.payload["carrier_code"]),
        tracking_number=str(job.payload["tracking_number"]),
    )
    return None


async def _cancel(client: KauflandClient, job: _Job) -> Result:
    await client.order_units.cancel(job.id_int, str(job.payload["reason"]))
    return None


async def _unit_cancelled(client: KauflandClient, job: _Job) -> Result:
    unit = await client.order_units.get(job.id_int)
    return {"already": "cancelled"} if str(unit.status) == "cancelled" else None


async def _refund(client: KauflandClient, job: _Job) -> Result:
    await client.order_units.refund(
        job.id_int, amount=int(job.payload["amount"]), reason=str(job.payload["reason"])
    )
    return None


async def _invoice(client: KauflandClient, job: _Job) -> Result:
    if not job.attachment:
        raise ValueError("the invoice message has no file attached")
    invoice = await client.order_invoices.upload(
        job.target,
        original_name=str(job.payload["original_name"]),
        mime_type=str(job.payload.get("mime_type") or "application/pdf"),
        content=job.attachment,
    )
    return {"id_invoice": invoice.id_invoice, "original_name": invoice.original_name}


async def _invoice_there(client: KauflandClient, job: _Job) -> Result:
    details = await client.orders.get(job.target, embedded=["order_invoices"])
    name = str(job.payload["original_name"])
    for invoice in details.order_invoices or []:
        if invoice.original_name == name and not invoice.is_marketplace_deemed_supplier:
            return {"id_invoice": invoice.id_invoice, "original_name": name, "already": True}
    return None


def _return_decision(action: str) -> Sender:
    async def send(client: KauflandClient, job: _Job) -> Result:
        units = client.return_units
        if action == "accept":
            await units.accept(job.id_int)
        elif action == "repair":
            await units.repair(job.id_int)
        elif action == "reject":
            await units.reject(job.id_int, str(job.payload["message"]))
        else:
            await units.clarify(job.id_int, str(job.payload["message"]))
        return None

    return send


def _return_status_is(status: str) -> Sender:
    async def check(client: KauflandClient, job: _Job) -> Result:
        unit = await client.return_units.get(job.id_int)
        return {"already": status} if str(unit.status) == status else None

    return check


#: Every action the outbox knows how to send (a test checks it covers OutboxAction).
HANDLERS: Final[dict[OutboxAction, _Handler]] = {
    OutboxAction.SEND: _Handler(_send_unit, replay_safe=True, already_done=_unit_sent),
    OutboxAction.ADD_SHIPMENT: _Handler(_add_shipment, replay_safe=False),
    OutboxAction.CANCEL: _Handler(_cancel, replay_safe=True, already_done=_unit_cancelled),
    OutboxAction.REFUND: _Handler(_refund, replay_safe=False),
    OutboxAction.INVOICE: _Handler(_invoice, replay_safe=False, already_done=_invoice_there),
    OutboxAction.RETURN_ACCEPT: _Handler(
        _return_decision("accept"),
        replay_safe=True,
        already_done=_return_status_is("return_accepted"),
    ),
    OutboxAction.RETURN_REJECT: _Handler(
        _return_decision("reject"),
        replay_safe=True,
        already_done=_return_status_is("return_rejected"),
    ),
    OutboxAction.RETURN_CLARIFY: _Handler(
        _return_decision("clarify"),
        replay_safe=True,
        already_done=_return_status_is("return_in_clarification"),
    ),
    OutboxAction.RETURN_REPAIR: _Handler(
        _return_decision("repair"),
        replay_safe=True,
        already_done=_return_status_is("return_in_repair"),
    ),
}


# ---------------------------------------------------------------------------------------------
# the worker


@dataclass
class OutboxRunSummary:
    """What one :func:`run_outbox` call did. ``sent`` counts messages that ended ``done``
    (``already`` of them had already taken effect); ``retrying`` went back to ``pending``;
    ``lost_claims`` were finished by another worker first. ``processed`` lists message ids."""

    sent: int = 0
    already: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0
    lost_claims: int = 0
    processed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "already": self.already,
            "retrying": self.retrying,
            "failed": self.failed,
            "unknown": self.unknown,
            "lost_claims": self.lost_claims,
            "processed": list(self.processed),
        }


def _short(error: BaseException | str) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= _MAX_ERROR else text[: _MAX_ERROR - 1] + "…"


def _due_ids(
    session: Session, account_id: int, now: datetime, lease: timedelta, skip: Collection[int]
) -> list[int]:
    """Ids of the account's due messages whose target has no earlier unfinished message, in id
    order."""
    due = session.execute(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.account_id == account_id,
            or_(
                (OutboxMessage.state == OutboxState.PENDING)
                & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.state == OutboxState.SENDING)
                & (OutboxMessage.claimed_at < now - lease),
            ),
        )
        .order_by(OutboxMessage.id)
    ).scalars()
    wanted = [i for i in due if i not in skip]
    if not wanted:
        return []
    # The first unfinished message of each target is the only one that may go.
    first: dict[tuple[str, str], int] = {}
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.action, OutboxMessage.target)
        .where(OutboxMessage.account_id == account_id, OutboxMessage.state.in_(_BLOCKING))
        .order_by(OutboxMessage.id)
    )
    for ident, action, target in rows:
        first.setdefault((target_kind(action), target), ident)
    heads = set(first.values())
    return [i for i in wanted if i in heads]


def _claim(
    factory: sessionmaker[Session], ident: int, now: datetime, lease: timedelta
) -> _Job | None:
    """Claim one message (compare-and-set), committed before returning; None if another worker
    has it or it is no longer due."""
    with transaction(factory) as session:
        message = session.get(OutboxMessage, ident)
        if message is None:
            return None
        state, claimed_at, attempts = message.state, message.claimed_at, message.attempts
        condition = [OutboxMessage.id == ident, OutboxMessage.state == state]
        if state == OutboxState.PENDING:
            if message.next_attempt_at > now:
                return None
        elif state == OutboxState.SENDING and claimed_at is not None:
            if claimed_at >= now - lease:
                return None
            condition.append(OutboxMessage.claimed_at == claimed_at)
        else:
            return None
        condition.append(OutboxMessage.attempts == attempts)
        claimed = session.execute(
            update(OutboxMessage)
            .where(*condition)
            .values(state=OutboxState.SENDING, claimed_at=now, attempts=attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return _Job(
            id=ident,
            action=message.action,
            target=message.target,
            payload=dict(message.payload or {}),
            attachment=message.attachment,
            claimed_at=now,
            attempts_before=attempts,
            stale=state == OutboxState.SENDING,
        )


def _finish(factory: sessionmaker[Session], job: _Job, **values: Any) -> bool:
    """Write a claimed message's outcome, only if our claim still holds."""
    with transaction(factory) as session:
        written = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == job.id,
                OutboxMessage.state == OutboxState.SENDING,
                OutboxMessage.claimed_at == job.claimed_at,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(written.rowcount == 1)  # type: ignore[attr-defined]


_TEMPORARY: Final = (
    TransportError,
    ServerError,
    RateLimitedError,
    QuotaExceededError,
    # A 401 says nothing about the message: the key, the clock or the account is wrong and a
    # person fixes that; the message goes out once it is fixed.
    AuthenticationError,
)


async def _attempt(client: KauflandClient, job: _Job, handler: _Handler) -> tuple[str, Any]:
    """Send one job; returns (outcome, detail): ``done`` + result, ``retry`` / ``failed`` /
    ``unknown`` + error text."""
    if not handler.replay_safe and (job.stale or job.attempts_before > 0):
        # An earlier attempt may have reached Kaufland. Read back where we can; else stop.
        if handler.already_done is None:
            if job.stale:
                return "unknown", (
                    "a worker claimed this message and did not finish; it may or may not have "
                    "reached Kaufland. Check on Kaufland, then `outbox resolve` or `outbox retry`"
                )
        else:
            try:
                found = await handler.already_done(client, job)
            except KauflandError as exc:
                return "retry", f"checking whether an earlier attempt arrived: {_short(exc)}"
            if found is not None:
                return "done", found
    try:
        return "done", await handler.send(client, job)
    except OutcomeUnknownError as exc:
        if handler.replay_safe or handler.already_done is not None:
            return "retry", _short(exc)  # resent (or checked first) next time
        return "unknown", _short(exc)
    except _TEMPORARY as exc:
        return "retry", _short(exc)
    except ApiError as exc:
        if handler.already_done is not None:
            try:
                found = await handler.already_done(client, job)
            except KauflandError:
                found = None
            if found is not None:
                return "done", found
        return "failed", _short(exc)
    except (KeyError, ValueError, TypeError) as exc:
        # A malformed message (missing payload field, bad value): sending it again cannot help.
        return "failed", f"invalid message: {_short(exc) if str(exc) else type(exc).__name__}"


async def run_outbox(
    client: KauflandClient,
    factory: sessionmaker[Session],
    account_id: int,
    *,
    clock: Callable[[], datetime] = utc_now,
    random: Callable[[], float] = random_module.random,
    backoff: Backoff = DEFAULT_BACKOFF,
    lease: timedelta = DEFAULT_LEASE,
    limit: int | None = None,
) -> OutboxRunSummary:
    """Send the account's due messages through ``client`` (the account's client), one at a time
    in id order, until none is due (see the module docstring for the rules). ``limit`` caps the
    number of messages handled in this call. ``clock`` gives aware UTC datetimes; ``random``
    draws the backoff jitter in ``[0, 1)``. Never raises for a message's failure: outcomes are
    written to the messages and counted in the summary."""
    summary = OutboxRunSummary()
    tried: set[int] = set()
    while limit is None or len(tried) < limit:
        with factory() as session:
            ids = _due_ids(session, account_id, clock(), lease, tried)
        if not ids:
            break
        for ident in ids:
            if limit is not None and len(tried) >= limit:
                break
            tried.add(ident)
            job = _claim(factory, ident, clock(), lease)
            if job is None:
                continue
            await _handle(client, factory, job, summary, clock, random, backoff)
    return summary


async def _handle(
    client: KauflandClient,
    factory: sessionmaker[Session],
    job: _Job,
    summary: OutboxRunSummary,
    clock: Callable[[], datetime],
    random: Callable[[], float],
    backoff: Backoff,
) -> None:
    outcome, detail = await _attempt(client, job, HANDLERS[job.action])
    now = clock()
    attempts = job.attempts_before + 1
    values: dict[str, Any]
    if outcome == "done":
        # An error of an earlier attempt no longer describes the message: Kaufland accepted it.
        values = {"state": OutboxState.DONE, "done_at": now, "result": detail, "last_error": None}
    elif outcome == "retry":
        when = now + backoff.delay(attempts, random())
        values = {"state": OutboxState.PENDING, "next_attempt_at": when, "last_error": detail}
    elif outcome == "failed":
        values = {"state": OutboxState.FAILED, "last_error": detail}
    else:
        values = {"state": OutboxState.UNKNOWN, "last_error": detail}
    values["claimed_at"] = None
    if not _finish(factory, job, **values):
        summary.lost_claims += 1
        logger.warning("outbox message %d: claim lost before its outcome was written", job.id)
        return
    summary.processed.append(job.id)
    if outcome == "done":
        summary.sent += 1
        if isinstance(detail, dict) and detail.get("already"):
            summary.already += 1
    elif outcome == "retry":
        summary.retrying += 1
    elif outcome == "failed":
        summary.failed += 1
    else:
        summary.unknown += 1
    logger.info(
        "outbox message %d (%s %s): %s after %d attempt(s)",
        job.id,
        job.action.value,
        job.target,
        values["state"].value,
        attempts,
    )


# ---------------------------------------------------------------------------------------------
# operating


def list_messages(
    session: Session,
    *,
    account_id: int | None = None,
    states: Iterable[OutboxState] | None = None,
    order_id: int | None = None,
    limit: int | None = None,
) -> list[OutboxMessage]:
    """Messages, newest first, optionally of one account, in some states, of one local order."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if account_id is not None:
        query = query.where(OutboxMessage.account_id == account_id)
    wanted = list(states or [])
    if wanted:
        query = query.where(OutboxMessage.state.in_(wanted))
    if order_id is not None:
        query = query.where(OutboxMessage.order_id == order_id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def payload_view(message: OutboxMessage) -> dict[str, Any]:
    """What ``message`` asks Kaufland for, as shown to people (``outbox list --json``, ``orders
    show``): a copy of its payload (carrier and tracking numbers, reason, amount, file name,
    message to the buyer), plus ``attachment_bytes``, the size of the attached file, when there
    is one. The attachment's content is never included."""
    view = dict(message.payload or {})
    if message.attachment is not None:
        view["attachment_bytes"] = len(message.attachment)
    return view


def _get(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise OutboxError(f"no outbox message #{message_id}")
    return message


def retry_message(session: Session, message_id: int, *, now: datetime) -> OutboxMessage:
    """Make a ``failed`` or ``unknown`` message (or a ``pending`` one waiting for its backoff)
    due now. ``attempts`` and ``last_error`` are kept as history. Retrying an ``unknown``
    refund sends it again: do it only after checking Kaufland did not apply it."""
    message = _get(session, message_id)
    if message.state not in (OutboxState.FAILED, OutboxState.UNKNOWN, OutboxState.PENDING):
        raise OutboxError(
            f"outbox message #{message_id} is {message.state.value}; only failed, unknown or "
            "pending messages can be retried"
        )
    message.state = OutboxState.PENDING
    message.next_attempt_at = now
    message.claimed_at = None
    session.flush()
    return message


def resolve_message(
    session: Session, message_id: int, *, note: str, now: datetime
) -> OutboxMessage:
    """Mark a ``failed`` or ``unknown`` message ``done`` by hand (a person checked Kaufland or
    handled it elsewhere); ``note`` is kept in ``result`` as ``resolved_by_hand``. Its
    ``last_error`` is kept too: it is why a person had to step in."""
    if not note.strip():
        raise OutboxError("a note saying how the message was handled is required")
    message = _get(session, message_id)
    if message.state not in (OutboxState.FAILED, OutboxState.UNKNOWN):
        raise OutboxError(
            f"outbox message #{message_id} is {message.state.value}; only failed or unknown "
            "messages can be resolved by hand"
        )
    message.result = {**(message.result or {}), "resolved_by_hand": note.strip()}
    message.state = OutboxState.DONE
    message.done_at = now
    message.claimed_at = None
    session.flush()
    return message
