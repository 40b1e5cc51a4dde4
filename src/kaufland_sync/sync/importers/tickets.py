"""``import tickets``: Kaufland's buyer tickets (``GET /tickets``) → local :class:`Ticket` rows.

Tickets feed the seller-performance report (open tickets and their age, tickets the seller must
act on). Contract of :func:`import_tickets`, per storefront (one :class:`SyncRun` of kind
``tickets`` each):

* **What is read.** ``GET /tickets?storefront=<sf>`` sorted ``ts_updated_iso:desc`` from the
  storefront's cursor (kind ``tickets``) minus :data:`OVERLAP`; everything on the first run.
  Kaufland's ticket carries no storefront of its own, so asking per storefront is what tells it.
  A ticket's every change (status, a new message) moves its ``ts_updated_iso``.
* **Exactly once.** Tickets are keyed by (account, ``id_ticket``); each batch is one
  transaction, redone when a concurrent run inserted the same ticket first. A ticket read again
  is updated in place (only when its payload changed).
* **Cursor.** Moves to the run's start after the storefront's whole read, never backwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.models import Ticket as ApiTicket
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import SyncCursor
from kaufland_sync.store.models.returns import Ticket
from kaufland_sync.store.models.sync import RunOutcome, SyncKind, SyncRun

__all__ = ["CURSOR_KIND", "OVERLAP", "TicketImportSummary", "import_tickets"]

CURSOR_KIND = "tickets"
OVERLAP = timedelta(minutes=5)
BATCH = 200
ATTEMPTS = 5


@dataclass
class TicketImportSummary:
    """What one :func:`import_tickets` call did, over all its storefronts."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: TicketImportSummary) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged

    def as_dict(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged}


def _upsert(
    session: Session,
    account: Account,
    storefront: Storefront,
    ticket: ApiTicket,
    summary: TicketImportSummary,
) -> None:
    raw = ticket.model_dump(mode="json", by_alias=True)
    row = session.scalar(
        select(Ticket).where(Ticket.account_id == account.id, Ticket.id_ticket == ticket.id_ticket)
    )
    if row is None:
        row = Ticket(account_id=account.id, id_ticket=ticket.id_ticket, status="")
        session.add(row)
        summary.new += 1
    elif row.raw == raw and row.storefront == storefront:
        summary.unchanged += 1
        return
    else:
        summary.updated += 1
    row.storefront = storefront
    row.status = "" if ticket.status is None else str(ticket.status)
    row.open_reason = None if ticket.open_reason is None else str(ticket.open_reason)
    row.topic = None if ticket.topic is None else str(ticket.topic)
    row.is_seller_responsible = ticket.is_seller_responsible
    row.ids_order_units = list(ticket.ids_order_units)
    row.ts_created = ticket.ts_created_iso
    row.ts_updated = ticket.ts_updated_iso
    row.raw = raw
    session.flush()


def _redo(work: Callable[[TicketImportSummary], None], summary: TicketImportSummary) -> None:
    """Run ``work`` (one transaction) until it commits, redone when a concurrent run won a
    unique key; only the committed attempt counts."""
    for attempt in range(1, ATTEMPTS + 1):
        scratch = TicketImportSummary()
        try:
            work(scratch)
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS:
                raise
            continue
        summary.add(scratch)
        return


def _write(
    factory: sessionmaker[Session],
    account: Account,
    storefront: Storefront,
    tickets: list[ApiTicket],
    summary: TicketImportSummary,
) -> None:
    def work(scratch: TicketImportSummary) -> None:
        with transaction(factory) as session:
            for ticket in sorted(tickets, key=lambda t: t.id_ticket):
                _upsert(session, account, storefront, ticket, scratch)

    _redo(work, summary)


def _cursor(session: Session, account: Account, storefront: Storefront) -> SyncCursor | None:
    return session.scalar(
        select(SyncCursor).where(
            SyncCursor.account_id == account.id,
            SyncCursor.storefront == storefront,
            SyncCursor.kind == CURSOR_KIND,
        )
    )


def _advance(
    factory: sessionmaker[Session], account: Account, storefront: Storefront, to: datetime
) -> None:
    def work(_scratch: TicketImportSummary) -> None:
        with transaction(factory) as session:
            cursor = _cursor(session, account, storefront)
            if cursor is None:
                session.add(
                    SyncCursor(
                        account_id=account.id, storefront=storefront, kind=CURSOR_KIND, position=to
                    )
                )
            elif to > cursor.position:
                cursor.position = to

    _redo(work, TicketImportSummary())


def _finish(
    factory: sessionmaker[Session],
    run_id: int,
    part: TicketImportSummary,
    finished: datetime,
    error: BaseException | None,
) -> None:
    with transaction(factory) as session:
        run = session.get(SyncRun, run_id)
        if run is None:
            return
        run.finished_at = finished
        run.outcome = RunOutcome.OK if error is None else RunOutcome.FAILED
        run.created, run.updated, run.unchanged = part.new, part.updated, part.unchanged
        if error is not None:
            run.error_summary = f"{type(error).__name__}: {error}"[:2000]


async def import_tickets(
    client: KauflandClient,
    factory: sessionmaker[Session],
    account: Account,
    storefronts: Iterable[Storefront | str],
    *,
    clock: Callable[[], datetime],
) -> TicketImportSummary:
    """Import the buyer tickets of ``account`` changed on each of ``storefronts`` since the last
    run (see the module docstring). ``clock`` gives aware UTC times. Errors propagate after the
    storefront's sync run is marked failed; that storefront's cursor does not move."""
    summary = TicketImportSummary()
    for value in storefronts:
        storefront = Storefront.parse(value)
        started = clock()
        with transaction(factory) as session:
            run = SyncRun(
                kind=SyncKind.TICKETS,
                account_id=account.id,
                storefront=storefront,
                started_at=started,
            )
            session.add(run)
            session.flush()
            run_id = run.id
            cursor = _cursor(session, account, storefront)
            start = None if cursor is None else cursor.position - OVERLAP
        part = TicketImportSummary()
        try:
            pending: dict[str, ApiTicket] = {}
            async for ticket in client.tickets.iter_all(
                storefront=[storefront], ts_updated_from_iso=start, sort="ts_updated_iso:desc"
            ):
                # Newest first: a ticket changed while we page may show twice; keep the first.
                pending.setdefault(ticket.id_ticket, ticket)
                if len(pending) >= BATCH:
                    _write(factory, account, storefront, list(pending.values()), part)
                    pending = {}
            if pending:
                _write(factory, account, storefront, list(pending.values()), part)
            _advance(factory, account, storefront, started)
        except BaseException as exc:
            with contextlib.suppress(SQLAlchemyError):
                _finish(factory, run_id, part, clock(), exc)
            summary.add(part)
            raise
        _finish(factory, run_id, part, clock(), None)
        summary.add(part)
    return summary
