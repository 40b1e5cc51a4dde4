"""``import orders``: Kaufland's order units → local customers, orders and order lines.

Contract of :func:`import_orders`, per storefront:

* **What is read.** ``GET /order-units`` sorted ``ts_updated:desc`` from the storefront's cursor
  (kind ``order_units``) or from ``since`` when given, minus :data:`OVERLAP` to absorb clock skew
  between us and Kaufland. Newest first is safe with offset paging while Kaufland keeps changing
  units: a change moves a unit to the front, which can show a unit twice but never skips one.
  Units changed after ``until`` are left out.
* **Exactly once.** Customers, orders and lines are keyed by Kaufland's ids (unique
  constraints). Each batch is one transaction that looks rows up before inserting them; if
  another run inserted the same row meanwhile, the unique key refuses ours, the batch is rolled
  back and redone, and then finds that row. A run killed at any point leaves whole batches and
  an unmoved cursor; the rerun reads the same units again and updates in place.
* **Cursor.** Moves to ``min(run start, until)`` only after the storefront's whole read
  succeeded, and never backwards. Capping at the run's start means changes made during the run
  are read again next time.
* **Hidden addresses.** While a unit is ``open`` Kaufland hides the buyer's e-mail and the
  addresses; such lines are marked ``addresses_hidden``. Every run re-reads the orders that still
  have hidden lines (``GET /orders/{id_order}``) and fills the addresses in once Kaufland shows
  them, whether or not the units changed since.
* **Raw payloads.** Each line keeps its unit's JSON as sent; each order the order-level part.
* **Mapping.** Each line gets its local status, each order its local status summary, payment and
  shipping method through the account's order mappings (:mod:`kaufland_sync.sync.order_mapping`,
  read once per batch); a cancelled line keeps Kaufland's cancel reason.
* **Stock.** Each new or changed line moves its stock reservation in the same transaction as
  the line itself (:mod:`kaufland_sync.sync.reservations`): reserved when it arrives unshipped,
  consumed (one piece off the catalogue) when shipped, released when cancelled, each once. The
  summary lists the SKUs whose reservation changed, for the stock push that follows an import.
* **Sync log.** One ``SyncRun`` (kind ``orders``) per storefront and run: order units created,
  updated and unchanged, outcome ``ok`` or ``failed`` with the error. A killed run leaves its
  row ``running``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.models import Address, Buyer, OrderUnit
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import Customer, Order, OrderLine, SyncCursor
from kaufland_sync.store.models.sync import RunOutcome, SyncKind, SyncRun
from kaufland_sync.sync.order_mapping import (
    OrderMappings,
    apply_to_order,
    load_mappings,
    status_summary,
)
from kaufland_sync.sync.reservations import StockKeeper, Transition

__all__ = ["CURSOR_KIND", "OVERLAP", "OrderImportSummary", "import_orders"]

CURSOR_KIND = "order_units"
#: Read this much before the cursor: a unit Kaufland stamped slightly before our clock said the
#: last run started is still read. Rereading is harmless (upserts).
OVERLAP = timedelta(minutes=5)
BATCH = 200
#: A batch that collided with a concurrent run is redone this many times before giving up.
ATTEMPTS = 5


@dataclass
class OrderImportSummary:
    """What one ``import_orders`` call did, over all its storefronts."""

    orders_new: int = 0
    orders_updated: int = 0
    lines_new: int = 0
    lines_updated: int = 0
    unchanged: int = 0  # lines read again with nothing new
    addresses_released: int = 0  # orders whose hidden addresses were filled in
    reserved: int = 0  # lines that reserved a piece
    consumed: int = 0  # reserved lines shipped: a piece taken off the catalogue
    released: int = 0  # reserved lines cancelled: the piece is free again
    #: SKUs whose reservation changed (reserved, consumed or released) in this run: the ones
    #: whose offered amount must be pushed to the storefronts now.
    stock_changed: set[str] = field(default_factory=set)

    def add(self, other: OrderImportSummary) -> None:
        """Add ``other``'s counts and SKUs to this summary."""
        for f in fields(self):
            if f.name == "stock_changed":
                self.stock_changed |= other.stock_changed
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def count(self, transition: Transition, sku: str | None) -> None:
        setattr(self, transition.value, getattr(self, transition.value) + 1)
        if sku:
            self.stock_changed.add(sku)

    def as_dict(self) -> dict[str, Any]:
        return {
            "orders_new": self.orders_new,
            "orders_updated": self.orders_updated,
            "lines_new": self.lines_new,
            "lines_updated": self.lines_updated,
            "unchanged": self.unchanged,
            "addresses_released": self.addresses_released,
            "reserved": self.reserved,
            "consumed": self.consumed,
            "released": self.released,
            "stock_changed": sorted(self.stock_changed),
        }


def _address(value: Address | None) -> dict[str, Any] | None:
    return None if value is None else value.model_dump(mode="json", exclude_none=True)


def _order_raw(unit: OrderUnit) -> dict[str, Any]:
    """The order-level part of a unit's payload."""
    payload = unit.model_dump(mode="json", by_alias=True)
    keys = ("id_order", "storefront", "currency", "ts_created_iso", "buyer")
    raw = {k: payload.get(k) for k in keys}
    raw["billing_address"] = payload.get("billing_address")
    raw["shipping_address"] = payload.get("shipping_address")
    return raw


class _Batch:
    """Writes one batch of units (grouped by order) in one session."""

    def __init__(
        self,
        session: Session,
        account: Account,
        summary: OrderImportSummary,
        *,
        clock: Callable[[], datetime],
        mappings: OrderMappings | None = None,
    ) -> None:
        self.session = session
        self.account = account
        self.summary = summary
        self.mappings = mappings if mappings is not None else load_mappings(session, account.id)
        self.stock = StockKeeper(session, account.id, now=clock)

    def customer(self, buyer: Buyer | None) -> Customer | None:
        if buyer is None:
            return None
        found = self.session.scalar(
            select(Customer).where(
                Customer.account_id == self.account.id, Customer.id_buyer == buyer.id_buyer
            )
        )
        if found is None:
            found = Customer(account_id=self.account.id, id_buyer=buyer.id_buyer, email=None)
            self.session.add(found)
            self.session.flush()
        if buyer.email and found.email != buyer.email:
            found.email = buyer.email
        return found

    def order(self, id_order: str, units: list[OrderUnit], storefront: Storefront) -> None:
        first = units[0]
        order = self.session.scalar(
            select(Order).where(Order.account_id == self.account.id, Order.id_order == id_order)
        )
        created = order is None
        if order is None:
            order = Order(
                account_id=self.account.id,
                id_order=id_order,
                storefront=Storefront(first.storefront or storefront),
                raw={},
            )
            self.session.add(order)
        before = (
            order.billing_address,
            order.shipping_address,
            order.customer_id,
            order.status,
            order.local_status,
        )
        customer = self.customer(next((u.buyer for u in units if u.buyer), None))
        if customer is not None:
            order.customer_id = customer.id
        order.currency = first.currency or order.currency
        order.ordered_at = first.ts_created_iso or order.ordered_at
        shown = next((u for u in units if u.billing_address or u.shipping_address), None)
        if shown is not None:
            order.billing_address = _address(shown.billing_address)
            order.shipping_address = _address(shown.shipping_address)
        if shown is not None or not order.raw:
            order.raw = _order_raw(shown or first)
        self.session.flush()

        lines_changed = False
        existing = {
            line.id_order_unit: line
            for line in self.session.scalars(
                select(OrderLine).where(
                    OrderLine.order_id == order.id,
                    OrderLine.id_order_unit.in_([u.id_order_unit for u in units]),
                )
            )
        }
        for unit in units:
            raw = unit.model_dump(mode="json", by_alias=True)
            line = existing.get(unit.id_order_unit)
            new = line is None
            if line is None:
                line = OrderLine(order_id=order.id, id_order_unit=unit.id_order_unit)
                self.session.add(line)
                self.summary.lines_new += 1
            elif line.raw == raw:
                self.summary.unchanged += 1
                continue
            else:
                self.summary.lines_updated += 1
            lines_changed = True
            line.sku = unit.id_offer
            line.status = str(unit.status)
            line.price = unit.price
            line.revenue_gross = unit.revenue_gross
            line.revenue_net = unit.revenue_net
            line.shipping_rate = unit.shipping_rate
            line.vat = None if unit.vat is None else Decimal(str(unit.vat))
            line.delivery_time_expires_iso = unit.delivery_time_expires_iso
            line.ts_updated = unit.ts_updated_iso
            line.addresses_hidden = unit.billing_address is None and unit.shipping_address is None
            line.cancel_reason = None if unit.cancel_reason is None else str(unit.cancel_reason)
            line.raw = raw
            transition = self.stock.on_line(
                line,
                new=new,
                storefront=order.storefront,
                fulfillment_type=None
                if unit.fulfillment_type is None
                else str(unit.fulfillment_type),
            )
            if transition is not None:
                self.summary.count(transition, line.sku)
        self.session.flush()
        if shown is not None:
            # The addresses are visible now: no line of this order needs a re-read any more.
            for line in self.session.scalars(
                select(OrderLine).where(
                    OrderLine.order_id == order.id, OrderLine.addresses_hidden.is_(True)
                )
            ):
                line.addresses_hidden = False
        all_lines = list(
            self.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
        )
        order.status = status_summary(line.status for line in all_lines)
        apply_to_order(order, all_lines, self.mappings)
        self.session.flush()
        after = (
            order.billing_address,
            order.shipping_address,
            order.customer_id,
            order.status,
            order.local_status,
        )
        if created:
            self.summary.orders_new += 1
        elif lines_changed or before != after:
            self.summary.orders_updated += 1


def _write(
    factory: sessionmaker[Session],
    account: Account,
    storefront: Storefront,
    units: list[OrderUnit],
    summary: OrderImportSummary,
    clock: Callable[[], datetime],
) -> None:
    """Upsert one batch in one transaction, redone when a concurrent run won a unique key."""
    by_order: dict[str, list[OrderUnit]] = {}
    for unit in units:
        by_order.setdefault(unit.id_order, []).append(unit)
    for attempt in range(1, ATTEMPTS + 1):
        # Count into a scratch summary: a rolled-back attempt must not count.
        scratch = OrderImportSummary()
        try:
            with transaction(factory) as session:
                batch = _Batch(session, account, scratch, clock=clock)
                for id_order in sorted(by_order):
                    batch.order(id_order, by_order[id_order], storefront)
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise
            continue
        summary.add(scratch)
        return


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
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction(factory) as session:
                cursor = _cursor(session, account, storefront)
                if cursor is None:
                    session.add(
                        SyncCursor(
                            account_id=account.id,
                            storefront=storefront,
                            kind=CURSOR_KIND,
                            position=to,
                        )
                    )
                elif to > cursor.position:
                    cursor.position = to
            return
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise


async def _release_addresses(
    client: KauflandClient,
    factory: sessionmaker[Session],
    account: Account,
    storefront: Storefront,
    summary: OrderImportSummary,
    clock: Callable[[], datetime],
) -> None:
    """Re-read the orders that still have hidden addresses; fill in those Kaufland now shows."""
    with factory() as session:
        hidden = sorted(
            set(
                session.scalars(
                    select(Order.id_order)
                    .join(OrderLine, OrderLine.order_id == Order.id)
                    .where(
                        Order.account_id == account.id,
                        Order.storefront == storefront,
                        OrderLine.addresses_hidden.is_(True),
                    )
                )
            )
        )
    for id_order in hidden:
        details = await client.orders.get(id_order)
        if details.billing_address is None and details.shipping_address is None:
            continue
        with transaction(factory) as session:
            order = session.scalar(
                select(Order).where(Order.account_id == account.id, Order.id_order == id_order)
            )
            if order is None:
                continue
            order.billing_address = _address(details.billing_address)
            order.shipping_address = _address(details.shipping_address)
            payload = details.model_dump(mode="json", by_alias=True)
            order.raw = {k: v for k, v in payload.items() if k != "order_units"}
            buyer = _Batch(
                session, account, summary, clock=clock, mappings=OrderMappings({})
            ).customer(details.buyer)
            if buyer is not None:
                order.customer_id = buyer.id
            for line in order.lines:
                line.addresses_hidden = False
        summary.addresses_released += 1


async def import_orders(
    client: KauflandClient,
    factory: sessionmaker[Session],
    account: Account,
    storefronts: Iterable[Storefront | str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    clock: Callable[[], datetime],
) -> OrderImportSummary:
    """Import the order units of ``account`` changed on each of ``storefronts`` (see the module
    docstring for the guarantees). ``since``/``until`` bound a history import; without ``since``
    the storefront's cursor decides (everything on the first run). ``clock`` gives the run's
    start time (aware UTC). Errors from Kaufland or the store propagate; the batches written
    before stay, and the cursor of the failing storefront does not move."""
    started = clock()
    cap = started if until is None else min(started, until)
    summary = OrderImportSummary()
    for value in storefronts:
        storefront = Storefront(value)
        part = OrderImportSummary()
        run_id = _start_run(factory, account, storefront, clock)
        try:
            await _import_storefront(
                client, factory, account, storefront, part, since=since, until=until, clock=clock
            )
            _advance(factory, account, storefront, cap)
        except Exception as error:
            _finish_run(factory, run_id, part, clock, error=error)
            raise
        _finish_run(factory, run_id, part, clock)
        summary.add(part)
    return summary


async def _import_storefront(
    client: KauflandClient,
    factory: sessionmaker[Session],
    account: Account,
    storefront: Storefront,
    summary: OrderImportSummary,
    *,
    since: datetime | None,
    until: datetime | None,
    clock: Callable[[], datetime],
) -> None:
    start = since
    if start is None:
        with factory() as session:
            cursor = _cursor(session, account, storefront)
            start = None if cursor is None else cursor.position - OVERLAP
    pending: list[OrderUnit] = []
    async for unit in client.order_units.iter_all(
        storefront=storefront,
        ts_updated_from_iso=start,
        sort="ts_updated:desc",
    ):
        if until is not None and unit.ts_updated_iso is not None and unit.ts_updated_iso > until:
            continue
        pending.append(unit)
        if len(pending) >= BATCH:
            _write(factory, account, storefront, pending, summary, clock)
            pending = []
    if pending:
        _write(factory, account, storefront, pending, summary, clock)
    await _release_addresses(client, factory, account, storefront, summary, clock)


def _start_run(
    factory: sessionmaker[Session],
    account: Account,
    storefront: Storefront,
    clock: Callable[[], datetime],
) -> int:
    with transaction(factory) as session:
        row = SyncRun(
            kind=SyncKind.ORDERS,
            account_id=account.id,
            storefront=storefront,
            started_at=clock(),
            outcome=RunOutcome.RUNNING,
        )
        session.add(row)
        session.flush()
        return row.id


def _finish_run(
    factory: sessionmaker[Session],
    run_id: int,
    part: OrderImportSummary,
    clock: Callable[[], datetime],
    *,
    error: BaseException | None = None,
) -> None:
    """Close the storefront's sync-log row: order units created, updated and read unchanged."""
    with transaction(factory) as session:
        row = session.get(SyncRun, run_id)
        if row is None:  # the account was removed meanwhile: nothing to log against
            return
        row.finished_at = clock()
        row.created, row.updated, row.unchanged = part.lines_new, part.lines_updated, part.unchanged
        if error is None:
            row.outcome = RunOutcome.OK
        else:
            row.outcome = RunOutcome.FAILED
            row.error_summary = f"{type(error).__name__}: {error}"[:2000]
