"""``import returns``: Kaufland's returns and return units → local :class:`Return` /
:class:`ReturnUnit` rows.

Contract of :func:`import_returns`, per storefront (one :class:`SyncRun` of kind ``returns``
each, counting return units):

* **What is read**, in three passes, so that a return unit's change is seen even when its
  return's ``ts_updated_iso`` does not move (Kaufland's return-unit list has no update time and
  no update filter):

  1. ``GET /returns`` with ``ts_updated_from_iso`` = the storefront's cursor (kind ``returns``)
     minus :data:`OVERLAP`, newest change first. Each listed return is read with its units
     (``GET /returns/{id}?embedded=return_units``).
  2. ``GET /return-units?status=…`` for the statuses in which a unit still waits for the seller
     (:data:`~kaufland_sync.sync.returns.OPEN_STATUSES`): every open unit, whatever its return
     did. A unit whose return is not known locally brings its return (pass 1's read).
  3. Every unit that is open *locally* but was in neither pass has left the open statuses
     (accepted, rejected, closed): it is read one by one (``GET /return-units/{id}
     ?embedded=return``). Only units that changed cost a call here.

* **Exactly once.** Returns are keyed by (account, ``id_return``), units by ``id_return_unit``
  (unique constraints). Each batch is one transaction that looks rows up before inserting; a
  concurrent run that inserted the same row first makes ours fail on the key, and the batch is
  rolled back and redone (then finds the row). A run killed at any point leaves whole batches and
  an unmoved cursor; the rerun reads the same again and updates in place.
* **Cursor.** Moves to the run's start only after the storefront's three passes succeeded, and
  never backwards.
* **Order lines.** A unit is linked to the local order line of its ``id_order_unit``; units
  whose order was not imported yet are linked by a later run (each run links what it can).
* **Times.** Kaufland gives a unit no arrival or decision time, so they are *estimated* when a
  status change is first seen, with the best bound known: the return's ``ts_updated_iso`` when
  it is later than the previous milestone (the unit's creation for the arrival, the arrival for
  the decision) and not in our future, else the run's start. ``arrived_at`` is set when a unit
  is first seen past ``need_to_be_returned`` (``return_arrived`` or, if the arrival was never
  seen, a later status: then it is the same estimate and only informational). ``decided_at``
  when it is first seen in ``return_accepted``, ``return_rejected``, ``return_in_repair``,
  ``return_in_clarification`` or ``return_closed``. How close the estimates are depends on how
  often imports run; the deadline (``sync.returns.decide_by``) follows from ``arrived_at``.
* **Restock.** With the account's ``restock_returns`` on, a unit that this import records as
  ``return_accepted`` (a status change, or its first link to an order line while accepted) puts
  one piece back into the catalogue, once (``sync.returns.restock``), in the same transaction as
  the change; the SKUs are reported (``restocked_skus``) so the caller can push stock.
* **Raw payloads.** Each row keeps Kaufland's JSON as received.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.errors import NotFoundError
from kaufland_sync.sellerapi.models import Return as ApiReturn
from kaufland_sync.sellerapi.models import ReturnUnit as ApiReturnUnit
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account, AccountStorefront
from kaufland_sync.store.models.orders import Order, OrderLine
from kaufland_sync.store.models.returns import Return, ReturnUnit
from kaufland_sync.store.models.sync import SyncKind
from kaufland_sync.sync.importers._common import (
    OVERLAP,
    Cursor,
    ImportSummary,
    logged_run,
    write_counted,
)
from kaufland_sync.sync.returns import OPEN_STATUSES, restock

__all__ = ["CURSOR_KIND", "OVERLAP", "ReturnImportSummary", "import_returns"]

CURSOR_KIND = "returns"
#: Returns written per transaction.
BATCH = 50

_NOT_YET_BACK = "need_to_be_returned"
_ACCEPTED = "return_accepted"
_DECIDED = frozenset(
    {
        "return_accepted",
        "return_rejected",
        "return_in_repair",
        "return_in_clarification",
        "return_closed",
    }
)


@dataclass
class ReturnImportSummary(ImportSummary):
    """What one :func:`import_returns` call did, over all its storefronts."""

    RUN_COUNTS: ClassVar[tuple[str, str, str]] = ("units_new", "units_updated", "unchanged")

    returns_new: int = 0
    returns_updated: int = 0
    units_new: int = 0
    units_updated: int = 0
    unchanged: int = 0  # units read again with nothing new
    arrived: int = 0  # units first seen back at the seller
    decided: int = 0  # units first seen decided
    linked: int = 0  # units linked to their order line
    #: One entry per piece put back into stock (a SKU twice: two pieces).
    restocked_skus: list[str] = field(default_factory=list)


@dataclass
class _Item:
    """One return to write: its payload (``None``: keep the stored row) and units read."""

    id_return: int
    ret: ApiReturn | None
    units: list[ApiReturnUnit]


def _return_raw(ret: ApiReturn) -> dict[str, Any]:
    """A return's own payload, without what ``GET /returns/{id}`` embeds (so a listed return
    and a read one compare equal when nothing changed)."""
    return ret.model_dump(mode="json", by_alias=True, exclude={"buyer", "return_units"})


def _estimate(ts_updated: datetime | None, after: datetime | None, now: datetime) -> datetime:
    """The best known time of a change first seen now (see the module docstring)."""
    if ts_updated is not None and ts_updated <= now and (after is None or ts_updated > after):
        return ts_updated
    return now


class _Writer:
    """Writes items in one session; counts into ``summary``."""

    def __init__(
        self,
        session: Session,
        account: Account,
        storefront: Storefront,
        summary: ReturnImportSummary,
        now: datetime,
    ) -> None:
        self.session = session
        self.account = account
        self.storefront = storefront
        self.summary = summary
        self.now = now
        fresh = session.get(Account, account.id)
        self.restock_on = bool(fresh is not None and fresh.restock_returns)

    def return_row(self, item: _Item) -> Return:
        row = self.session.scalar(
            select(Return).where(
                Return.account_id == self.account.id, Return.id_return == item.id_return
            )
        )
        if row is None:
            row = Return(account_id=self.account.id, id_return=item.id_return, raw={})
            self.session.add(row)
            self.summary.returns_new += 1
        elif item.ret is not None and row.raw != _return_raw(item.ret):
            self.summary.returns_updated += 1
        if item.ret is not None:
            ret = item.ret
            row.raw = _return_raw(ret)
            row.storefront = Storefront.parse(str(ret.storefront or self.storefront))
            row.status = None if ret.status is None else str(ret.status)
            row.tracking_provider = ret.tracking_provider
            row.tracking_code = ret.tracking_code
            row.ts_created = ret.ts_created_iso
            row.ts_updated = ret.ts_updated_iso
        elif row.storefront is None:
            row.storefront = self.storefront
        self.session.flush()
        return row

    def _line(self, id_order_unit: int | None) -> OrderLine | None:
        if id_order_unit is None:
            return None
        return self.session.scalar(
            select(OrderLine)
            .join(Order, OrderLine.order_id == Order.id)
            .where(Order.account_id == self.account.id, OrderLine.id_order_unit == id_order_unit)
        )

    def unit(self, row: Return, api: ApiReturnUnit) -> None:
        raw = api.model_dump(mode="json", by_alias=True)
        status = str(api.status) if api.status is not None else _NOT_YET_BACK
        unit = self.session.scalar(
            select(ReturnUnit).where(
                ReturnUnit.return_id == row.id, ReturnUnit.id_return_unit == api.id_return_unit
            )
        )
        previous: str | None = None
        if unit is None:
            unit = ReturnUnit(return_id=row.id, id_return_unit=api.id_return_unit, status=status)
            self.session.add(unit)
            self.summary.units_new += 1
        else:
            previous = unit.status
            if unit.raw == raw and unit.return_id == row.id:
                self.summary.unchanged += 1
                return
            self.summary.units_updated += 1
        unit.return_id = row.id
        unit.id_order_unit = api.id_order_unit
        unit.status = status
        unit.reason = None if api.reason is None else str(api.reason)
        unit.note = api.note
        unit.ts_created = api.ts_created_iso
        unit.raw = raw
        if unit.order_line_id is None:
            line = self._line(api.id_order_unit)
            if line is not None:
                unit.order_line_id = line.id
                self.summary.linked += 1
        changed = status != previous
        arrived_now = changed and status != _NOT_YET_BACK and unit.arrived_at is None
        if arrived_now:
            unit.arrived_at = _estimate(row.ts_updated, unit.ts_created, self.now)
            self.summary.arrived += 1
        if changed and status in _DECIDED and unit.decided_at is None:
            # Arrival and decision first seen together: one estimate for both.
            unit.decided_at = (
                unit.arrived_at
                if arrived_now
                else _estimate(row.ts_updated, unit.arrived_at, self.now)
            )
            self.summary.decided += 1
        self.session.flush()
        if changed and status == _ACCEPTED:
            self.restock(unit)

    def restock(self, unit: ReturnUnit) -> None:
        if not self.restock_on:
            return
        sku = restock(self.session, self.account, unit)
        if sku is not None:
            self.summary.restocked_skus.append(sku)

    def link_lines(self) -> None:
        """Link this account's unlinked units to order lines imported since; an accepted unit
        linked now is restocked (its acceptance could not be before, without a SKU)."""
        rows = self.session.execute(
            select(ReturnUnit, OrderLine)
            .join(Return, ReturnUnit.return_id == Return.id)
            .join(OrderLine, OrderLine.id_order_unit == ReturnUnit.id_order_unit)
            .join(Order, OrderLine.order_id == Order.id)
            .where(
                Return.account_id == self.account.id,
                Order.account_id == self.account.id,
                ReturnUnit.order_line_id.is_(None),
            )
        ).all()
        for unit, line in rows:
            unit.order_line_id = line.id
            self.summary.linked += 1
            self.session.flush()
            if unit.status == _ACCEPTED:
                self.restock(unit)


def _write(
    factory: sessionmaker[Session],
    account: Account,
    storefront: Storefront,
    items: list[_Item],
    summary: ReturnImportSummary,
    now: datetime,
) -> None:
    """Write one batch of returns in one transaction, redone when a concurrent run got in the
    way (only the committed attempt counts)."""

    def work(session: Session, scratch: ReturnImportSummary) -> None:
        writer = _Writer(session, account, storefront, scratch, now)
        for item in sorted(items, key=lambda i: i.id_return):
            row = writer.return_row(item)
            for api in sorted(item.units, key=lambda u: u.id_return_unit):
                writer.unit(row, api)

    if items:
        write_counted(factory, summary, work)


def _link(
    factory: sessionmaker[Session],
    account: Account,
    storefront: Storefront,
    summary: ReturnImportSummary,
    now: datetime,
) -> None:
    def work(session: Session, scratch: ReturnImportSummary) -> None:
        _Writer(session, account, storefront, scratch, now).link_lines()

    write_counted(factory, summary, work)


def _stored_returns(
    factory: sessionmaker[Session], account: Account, ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    """id_return → stored raw payload, for the given ids of the account."""
    wanted = list(ids)
    if not wanted:
        return {}
    with factory() as session:
        return {
            id_return: raw
            for id_return, raw in session.execute(
                select(Return.id_return, Return.raw).where(
                    Return.account_id == account.id, Return.id_return.in_(wanted)
                )
            )
        }


def _open_units(
    factory: sessionmaker[Session], account: Account, storefront: Storefront
) -> list[int]:
    with factory() as session:
        return list(
            session.scalars(
                select(ReturnUnit.id_return_unit)
                .join(Return, ReturnUnit.return_id == Return.id)
                .where(
                    Return.account_id == account.id,
                    Return.storefront == storefront,
                    ReturnUnit.status.in_(OPEN_STATUSES),
                )
                .order_by(ReturnUnit.id_return_unit)
            )
        )


class _StorefrontImport:
    """The three passes for one storefront (see the module docstring)."""

    def __init__(
        self,
        client: KauflandClient,
        factory: sessionmaker[Session],
        account: Account,
        storefront: Storefront,
        summary: ReturnImportSummary,
        now: datetime,
    ) -> None:
        self.client = client
        self.factory = factory
        self.account = account
        self.storefront = storefront
        self.summary = summary
        self.now = now
        self.seen_units: set[int] = set()
        self.read_returns: set[int] = set()
        self.pending: list[_Item] = []

    def flush(self, force: bool = False) -> None:
        if self.pending and (force or len(self.pending) >= BATCH):
            _write(
                self.factory, self.account, self.storefront, self.pending, self.summary, self.now
            )
            self.pending = []

    def add(self, item: _Item) -> None:
        self.seen_units.update(u.id_return_unit for u in item.units)
        self.pending.append(item)
        self.flush()

    async def read_return(self, id_return: int) -> None:
        """Pass 1's read: the return with all its units."""
        details = await self.client.returns.get(id_return, embedded=["return_units"])
        self.read_returns.add(id_return)
        self.add(_Item(id_return, details, list(details.return_units or [])))

    async def changed_returns(self, start: datetime | None) -> None:
        # Newest change first: a return changed while we page shows up twice, never not at all.
        listed: dict[int, ApiReturn] = {}
        async for ret in self.client.returns.iter_all(
            storefront=self.storefront, ts_updated_from_iso=start, sort="ts_updated:desc"
        ):
            listed.setdefault(ret.id_return, ret)
        # Every listed return is read with its units, even one that looks unchanged: Kaufland's
        # times have whole seconds, so a unit changed in the same second as our last read
        # leaves the return's payload as it was.
        for id_return in listed:
            await self.read_return(id_return)
        self.flush(force=True)  # what pass 1 read stays even if a later pass fails

    async def open_units(self) -> None:
        by_return: dict[int, list[ApiReturnUnit]] = {}
        async for unit in self.client.return_units.iter_all(
            storefront=self.storefront, status=list(OPEN_STATUSES)
        ):
            if unit.id_return_unit in self.seen_units or unit.id_return is None:
                continue
            by_return.setdefault(unit.id_return, []).append(unit)
        known = _stored_returns(self.factory, self.account, by_return)
        for id_return, units in sorted(by_return.items()):
            if id_return in self.read_returns:
                continue
            if id_return not in known:
                await self.read_return(id_return)
            else:
                self.add(_Item(id_return, None, units))

    async def left_open(self) -> None:
        self.flush(force=True)
        for id_return_unit in _open_units(self.factory, self.account, self.storefront):
            if id_return_unit in self.seen_units:
                continue
            try:
                details = await self.client.return_units.get(id_return_unit, embedded=["return"])
            except NotFoundError:
                continue  # no longer shown to this seller: keep the last known state
            id_return = details.id_return or (details.return_.id_return if details.return_ else 0)
            unit = ApiReturnUnit.model_validate(
                details.model_dump(
                    mode="json", by_alias=True, exclude={"return_", "order_unit", "tickets"}
                )
            )
            self.add(_Item(id_return, details.return_, [unit]))
        self.flush(force=True)


def _with_settings(factory: sessionmaker[Session], account: Account) -> Account:
    """The account with its storefronts and warehouse mappings loaded (restock needs them)."""
    with factory() as session:
        fresh = session.scalar(
            select(Account)
            .where(Account.id == account.id)
            .options(selectinload(Account.storefronts).selectinload(AccountStorefront.warehouses))
        )
        return account if fresh is None else fresh


async def import_returns(
    client: KauflandClient,
    factory: sessionmaker[Session],
    account: Account,
    storefronts: Iterable[Storefront | str],
    *,
    clock: Callable[[], datetime],
) -> ReturnImportSummary:
    """Import the returns and return units of ``account`` on each of ``storefronts`` (see the
    module docstring for the guarantees). ``clock`` gives aware UTC times: the run's start (the
    cursor's next position and the fallback for estimated times) and its end. Errors from
    Kaufland or the store propagate after the storefront's sync run is marked failed; batches
    written before stay, and that storefront's cursor does not move."""
    summary = ReturnImportSummary()
    settings = _with_settings(factory, account)
    for value in storefronts:
        storefront = Storefront.parse(value)
        started = clock()
        part = ReturnImportSummary()
        cursor = Cursor(CURSOR_KIND, account.id, storefront)
        with logged_run(
            factory,
            kind=SyncKind.RETURNS,
            account_id=account.id,
            storefront=storefront,
            started=started,
            summary=part,
            clock=clock,
        ):
            passes = _StorefrontImport(client, factory, settings, storefront, part, started)
            await passes.changed_returns(cursor.read_from(factory))
            await passes.open_units()
            await passes.left_open()
            _link(factory, settings, storefront, part, started)
            cursor.advance(factory, started)
        summary.add(part)
    return summary
