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

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.models import Ticket as ApiTicket
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.returns import Ticket
from kaufland_sync.store.models.sync import SyncKind
from kaufland_sync.sync.importers._common import (
    OVERLAP,
    Cursor,
    ImportSummary,
    logged_run,
    write_counted,
)

__all__ = ["CURSOR_KIND", "OVERLAP", "TicketImportSummary", "import_tickets"]

CURSOR_KIND = "tickets"
BATCH = 200


@dataclass
class TicketImportSummary(ImportSummary):
    """What one :func:`import_tickets` call did, over all its storefronts."""

    RUN_COUNTS: ClassVar[tuple[str, str, str]] = ("new", "updated", "unchanged")

    new: int = 0
    updated: int = 0
    unchanged: int = 0

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


def _write(
    factory: sessionmaker[Session],
    account: Account,
    storefront: Storefront,
    tickets: list[ApiTicket],
    summary: TicketImportSummary,
) -> None:
    """Upsert one batch in one transaction, redone when a concurrent run got in the way."""

    def work(session: Session, scratch: TicketImportSummary) -> None:
        for ticket in sorted(tickets, key=lambda t: t.id_ticket):
            _upsert(session, account, storefront, ticket, scratch)

    write_counted(factory, summary, work)


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
        part = TicketImportSummary()
        cursor = Cursor(CURSOR_KIND, account.id, storefront)
        with logged_run(
            factory,
            kind=SyncKind.TICKETS,
            account_id=account.id,
            storefront=storefront,
            started=started,
            summary=part,
            clock=clock,
        ):
            pending: dict[str, ApiTicket] = {}
            async for ticket in client.tickets.iter_all(
                storefront=[storefront],
                ts_updated_from_iso=cursor.read_from(factory),
                sort="ts_updated_iso:desc",
            ):
                # Newest first: a ticket changed while we page may show twice; keep the first.
                pending.setdefault(ticket.id_ticket, ticket)
                if len(pending) >= BATCH:
                    _write(factory, account, storefront, list(pending.values()), part)
                    pending = {}
            if pending:
                _write(factory, account, storefront, list(pending.values()), part)
            cursor.advance(factory, started)
        summary.add(part)
    return summary
