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
  back and redone, and then finds that row (:func:`~kaufland_sync.sync.importers._common.redone`).
  A run killed at any point leaves whole batches and an unmoved cursor; the rerun reads the same
  units again and updates in place. A unit listed twice (offset paging while Kaufland changes
  units) is written once, as last read.
* **Unchanged units cost one query per batch.** A batch first reads the stored payloads of its
  units (one ``IN`` query); units whose payload is the same as stored are counted
  ``unchanged`` and nothing else is done for them (no write, no lock). For the rest, the batch
  reads their orders with all their lines and their customers (one query each), changes the
  stored rows in memory and inserts new customers, orders and lines with one statement per
  table. The stored orders are locked (PostgreSQL) in ``id_order`` order and their lines are
  checked again after the writes, so an order's status summary covers the lines a concurrent
  run wrote meanwhile.
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
  updated and unchanged, outcome ``ok`` or ``failed`` with the error
  (:func:`~kaufland_sync.sync.importers._common.logged_run`). A killed process leaves its row
  ``running``.
* **Direction.** A storefront whose ``direction_orders`` is ``off`` (or ``to_kaufland``, which
  means nothing for orders) is not read: its run is logged ``skipped`` with the reason and its
  cursor stays, so switching the direction back imports what came meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.models import Address, Buyer, OrderUnit
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account, AccountStorefront, SyncDirection
from kaufland_sync.store.models.orders import Customer, Order, OrderLine
from kaufland_sync.store.models.sync import RunOutcome, SyncKind, SyncRun
from kaufland_sync.sync.importers._common import (
    OVERLAP,
    Cursor,
    ImportSummary,
    logged_run,
    write_counted,
)
from kaufland_sync.sync.order_mapping import (
    OrderMappings,
    apply_to_order,
    load_mappings,
    status_summary,
)
from kaufland_sync.sync.reservations import StockKeeper, Transition

__all__ = ["CURSOR_KIND", "OVERLAP", "OrderImportSummary", "import_orders"]

CURSOR_KIND = "order_units"
#: Order units written per transaction (two pages of Kaufland's listing).
BATCH = 200


@dataclass
class OrderImportSummary(ImportSummary):
    """What one ``import_orders`` call did, over all its storefronts."""

    RUN_COUNTS: ClassVar[tuple[str, str, str]] = ("lines_new", "lines_updated", "unchanged")

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

    def count(self, transition: Transition, sku: str | None) -> None:
        """Count one reservation change of a line of ``sku``."""
        setattr(self, transition.value, getattr(self, transition.value) + 1)
        if sku:
            self.stock_changed.add(sku)


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


def _shows_addresses(unit: OrderUnit) -> bool:
    return unit.billing_address is not None or unit.shipping_address is not None


@dataclass(frozen=True, slots=True)
class _Read:
    """One unit as read, with its payload as a line stores it (``OrderLine.raw``)."""

    unit: OrderUnit
    raw: dict[str, Any]

    @property
    def key(self) -> tuple[str, int]:
        return self.unit.id_order, self.unit.id_order_unit


def _customer(session: Session, account_id: int, buyer: Buyer | None) -> Customer | None:
    """The customer of ``buyer`` (looked up, else created and flushed), with the buyer's e-mail
    when Kaufland shows one."""
    if buyer is None:
        return None
    found = session.scalar(
        select(Customer).where(
            Customer.account_id == account_id, Customer.id_buyer == buyer.id_buyer
        )
    )
    if found is None:
        found = Customer(account_id=account_id, id_buyer=buyer.id_buyer, email=None)
        session.add(found)
        session.flush()
    if buyer.email and found.email != buyer.email:
        found.email = buyer.email
    return found


# The columns written for a new order and a new line. New rows are built in memory as unsaved
# ORM objects (the mapping and reservation rules work on those) and inserted with one statement
# per table: a flush would send one INSERT per row on SQLite, and tracking thousands of new
# objects costs more than the rows' values. ``created_at`` / ``updated_at`` take their column
# defaults.
_ORDER_COLUMNS = (
    "account_id",
    "id_order",
    "storefront",
    "currency",
    "customer_id",
    "ordered_at",
    "status",
    "local_status",
    "payment_method",
    "shipping_method",
    "billing_address",
    "shipping_address",
    "raw",
)
_LINE_COLUMNS = (
    "order_id",
    "id_order_unit",
    "sku",
    "status",
    "local_status",
    "stock_state",
    "sent_at",
    "cancel_reason",
    "price",
    "revenue_gross",
    "revenue_net",
    "shipping_rate",
    "vat",
    "delivery_time_expires_iso",
    "ts_updated",
    "addresses_hidden",
    "raw",
)


def _values(row: Order | OrderLine, columns: tuple[str, ...]) -> dict[str, Any]:
    """An unsaved object's column values (every one of them is set by the batch, or ``None``
    by default)."""
    return {name: getattr(row, name) for name in columns}


class _Batch:
    """Writes one batch of units in one session (one attempt of one transaction).

    Its statements, whatever the batch's size: the stored payloads of the batch's lines; then,
    only when some unit is new or changed, the account's mappings, the touched orders with
    their lines, their customers, one insert per table for new customers, orders and lines, the
    updates of stored rows, and a recheck of the stored orders' lines."""

    def __init__(
        self,
        session: Session,
        account_id: int,
        storefront: Storefront,
        summary: OrderImportSummary,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.session = session
        self.account_id = account_id
        self.storefront = storefront
        self.summary = summary
        self.stock = StockKeeper(session, account_id, now=clock)

    def write(self, reads: list[_Read]) -> None:
        """Upsert ``reads`` (at most one per order unit)."""
        stored = self._stored_payloads(reads)
        changed = [r for r in reads if stored.get(r.key) != r.raw]
        self.summary.unchanged += len(reads) - len(changed)
        if not changed:
            return
        # Every unit of a touched order counts for its order-level fields (the first one, the
        # first showing addresses), as when the order was written from the whole batch.
        touched = sorted({r.unit.id_order for r in changed})
        of_order: dict[str, list[OrderUnit]] = {id_order: [] for id_order in touched}
        for r in reads:
            if r.unit.id_order in of_order:
                of_order[r.unit.id_order].append(r.unit)
        changed_of: dict[str, list[_Read]] = {id_order: [] for id_order in touched}
        for r in changed:
            changed_of[r.unit.id_order].append(r)

        mappings = load_mappings(self.session, self.account_id)
        stored_orders = self._orders(touched)
        customers = self._customers(touched, of_order)

        new_orders: list[Order] = []
        new_lines: dict[str, list[OrderLine]] = {}  # id_order → its unsaved lines
        lines_of: dict[str, list[OrderLine]] = {}  # id_order → all its lines
        moves: list[tuple[OrderLine, Storefront, str | None]] = []
        for id_order in touched:
            units = of_order[id_order]
            order = stored_orders.get(id_order)
            if order is None:
                order = Order(
                    account_id=self.account_id,
                    id_order=id_order,
                    storefront=Storefront(units[0].storefront or self.storefront),
                    raw={},
                )
                new_orders.append(order)
                self.summary.orders_new += 1
                lines = []
            else:
                # Some unit of it is new or changed, so the order is written again.
                self.summary.orders_updated += 1
                lines = list(order.lines)
            # A stored order whose addresses Kaufland hid until now, shown by this batch.
            was_hidden = any(line.addresses_hidden for line in lines)
            self._order_fields(order, units, customers)
            by_unit = {line.id_order_unit: line for line in lines}
            for r in changed_of[id_order]:
                line = by_unit.get(r.unit.id_order_unit)
                if line is None:
                    line = self._new_line(order, r)
                    lines.append(line)
                    new_lines.setdefault(id_order, []).append(line)
                else:
                    moves.append(self._update_line(order, line, r))
            _summaries(order, lines, units, mappings)
            if was_hidden and not any(line.addresses_hidden for line in lines):
                self.summary.addresses_released += 1
            lines_of[id_order] = lines

        self._insert(new_orders, new_lines, stored_orders)
        self.session.flush()  # the stored rows' changes
        # Moves out of "reserved" are conditional updates of stored lines, after the writes.
        for line, storefront, fulfillment_type in moves:
            transition = self.stock.on_line(
                line, new=False, storefront=storefront, fulfillment_type=fulfillment_type
            )
            if transition is not None:
                self.summary.count(transition, line.sku)
        self._recheck(list(stored_orders.values()), lines_of, of_order, mappings)

    def _stored_payloads(self, reads: list[_Read]) -> dict[tuple[str, int], dict[str, Any]]:
        """(id_order, id_order_unit) → stored payload, for this account's lines of the batch's
        orders. Asked by order (the orders' unique key, then the lines' key within the order):
        asked by ``id_order_unit``, SQLite would walk every order of the account."""
        rows = self.session.execute(
            select(Order.id_order, OrderLine.id_order_unit, OrderLine.raw)
            .join(Order, OrderLine.order_id == Order.id)
            .where(
                Order.account_id == self.account_id,
                Order.id_order.in_(sorted({r.unit.id_order for r in reads})),
            )
        )
        return {(id_order, id_ou): raw for id_order, id_ou, raw in rows}

    def _orders(self, touched: list[str]) -> dict[str, Order]:
        """The stored orders among ``touched``, with all their lines. Locked in ``id_order``
        order on PostgreSQL (``FOR NO KEY UPDATE``; SQLite has no row locks): a concurrent
        import writing one of them waits until this batch committed, then sees its lines, while
        rows that merely refer to an order (its lines, outbox messages) can still be added."""
        found = self.session.scalars(
            select(Order)
            .where(Order.account_id == self.account_id, Order.id_order.in_(touched))
            .order_by(Order.id_order)
            .with_for_update(key_share=True)
            .options(selectinload(Order.lines))
        )
        return {order.id_order: order for order in found}

    def _customers(
        self, touched: list[str], of_order: dict[str, list[OrderUnit]]
    ) -> dict[int, int]:
        """id_buyer → customer id for the buyers of the touched orders. Each order's buyer (its
        first unit with one) sets the customer's e-mail when shown, in ``id_order`` order, as
        writing the orders one by one would; missing customers are inserted (one statement)."""
        emails: dict[int, str | None] = {}
        for id_order in touched:
            buyer = next((u.buyer for u in of_order[id_order] if u.buyer), None)
            if buyer is not None:
                emails[buyer.id_buyer] = buyer.email or emails.get(buyer.id_buyer)
        if not emails:
            return {}
        ids: dict[int, int] = {}
        for customer in self.session.scalars(
            select(Customer).where(
                Customer.account_id == self.account_id, Customer.id_buyer.in_(sorted(emails))
            )
        ):
            ids[customer.id_buyer] = customer.id
            email = emails[customer.id_buyer]
            if email and customer.email != email:
                customer.email = email
        missing = [
            {"account_id": self.account_id, "id_buyer": id_buyer, "email": emails[id_buyer]}
            for id_buyer in sorted(emails.keys() - ids.keys())
        ]
        if missing:
            made = self.session.execute(
                insert(Customer).returning(Customer.id_buyer, Customer.id), missing
            )
            ids.update((id_buyer, id_) for id_buyer, id_ in made)
        return ids

    @staticmethod
    def _order_fields(order: Order, units: list[OrderUnit], customers: dict[int, int]) -> None:
        first = units[0]
        buyer = next((u.buyer for u in units if u.buyer), None)
        if buyer is not None:
            order.customer_id = customers[buyer.id_buyer]
        order.currency = first.currency or order.currency
        order.ordered_at = first.ts_created_iso or order.ordered_at
        shown = next((u for u in units if _shows_addresses(u)), None)
        if shown is not None:
            order.billing_address = _address(shown.billing_address)
            order.shipping_address = _address(shown.shipping_address)
        if shown is not None or not order.raw:
            order.raw = _order_raw(shown or first)

    def _new_line(self, order: Order, read: _Read) -> OrderLine:
        """An unsaved line for a unit seen for the first time, reserving its piece if the rules
        say so (no store access: a new line only gets its first state)."""
        line = OrderLine(id_order_unit=read.unit.id_order_unit, sent_at=None)
        _copy(line, read)
        self.summary.lines_new += 1
        transition = self.stock.on_line(
            line, new=True, storefront=order.storefront, fulfillment_type=_fulfillment(read.unit)
        )
        if transition is not None:
            self.summary.count(transition, line.sku)
        return line

    def _update_line(
        self, order: Order, line: OrderLine, read: _Read
    ) -> tuple[OrderLine, Storefront, str | None]:
        """Copy a changed unit onto its stored line; returns the stock move to check once the
        batch's changes are written."""
        _copy(line, read)
        self.summary.lines_updated += 1
        return line, order.storefront, _fulfillment(read.unit)

    def _insert(
        self,
        orders: list[Order],
        lines: dict[str, list[OrderLine]],
        stored: dict[str, Order],
    ) -> None:
        """Insert the new orders, then every new line (of new and stored orders alike)."""
        ids = {order.id_order: order.id for order in stored.values()}
        if orders:
            made = self.session.execute(
                insert(Order).returning(Order.id_order, Order.id),
                [_values(order, _ORDER_COLUMNS) for order in orders],
            )
            ids.update((id_order, id_) for id_order, id_ in made)
        rows: list[dict[str, Any]] = []
        for id_order, new in lines.items():
            for line in new:
                line.order_id = ids[id_order]
                rows.append(_values(line, _LINE_COLUMNS))
        if rows:
            # With RETURNING, SQLAlchemy sends the rows as a few multi-row INSERTs
            # ("insertmanyvalues"); without, as one execution per row, which costs PostgreSQL
            # far more. The ids themselves are not needed.
            self.session.execute(insert(OrderLine).returning(OrderLine.id), rows)

    def _recheck(
        self,
        stored: list[Order],
        lines_of: dict[str, list[OrderLine]],
        of_order: dict[str, list[OrderUnit]],
        mappings: OrderMappings,
    ) -> None:
        """Summarise again the stored orders whose lines changed under us.

        The orders were read before this transaction wrote anything; on SQLite that read does
        not block a concurrent run, which may have added or changed lines of the same orders
        before we got the write lock (held now). One narrow query compares what the store holds
        with what the summaries used; the few orders that differ are reloaded."""
        if not stored:
            return
        by_id = {order.id: order for order in stored}
        held: dict[int, set[tuple[int, str]]] = {order_id: set() for order_id in by_id}
        for order_id, id_order_unit, status in self.session.execute(
            select(OrderLine.order_id, OrderLine.id_order_unit, OrderLine.status).where(
                OrderLine.order_id.in_(sorted(by_id))
            )
        ):
            held[order_id].add((id_order_unit, status))
        stale = [
            order
            for order in stored
            if held[order.id] != {(ln.id_order_unit, ln.status) for ln in lines_of[order.id_order]}
        ]
        if not stale:
            return
        fresh: dict[int, list[OrderLine]] = {order.id: [] for order in stale}
        for line in self.session.scalars(
            select(OrderLine)
            .where(OrderLine.order_id.in_(sorted(fresh)))
            .order_by(OrderLine.id_order_unit)
            .execution_options(populate_existing=True)
        ):
            fresh[line.order_id].append(line)
        for order in stale:
            set_committed_value(order, "lines", fresh[order.id])
            _summaries(order, fresh[order.id], of_order[order.id_order], mappings)
        self.session.flush()


def _fulfillment(unit: OrderUnit) -> str | None:
    return None if unit.fulfillment_type is None else str(unit.fulfillment_type)


def _copy(line: OrderLine, read: _Read) -> None:
    """Kaufland's values of the unit onto its line."""
    unit = read.unit
    line.sku = unit.id_offer
    line.status = str(unit.status)
    line.price = unit.price
    line.revenue_gross = unit.revenue_gross
    line.revenue_net = unit.revenue_net
    line.shipping_rate = unit.shipping_rate
    line.vat = None if unit.vat is None else Decimal(str(unit.vat))
    line.delivery_time_expires_iso = unit.delivery_time_expires_iso
    line.ts_updated = unit.ts_updated_iso
    line.addresses_hidden = not _shows_addresses(unit)
    line.cancel_reason = None if unit.cancel_reason is None else str(unit.cancel_reason)
    line.raw = read.raw


def _summaries(
    order: Order, lines: list[OrderLine], units: list[OrderUnit], mappings: OrderMappings
) -> None:
    """The order's status summaries from ``lines`` (all its lines); once the batch shows the
    addresses, no line of the order needs a re-read for them any more."""
    if any(_shows_addresses(u) for u in units):
        for line in lines:
            if line.addresses_hidden:
                line.addresses_hidden = False
    order.status = status_summary(line.status for line in lines)
    apply_to_order(order, lines, mappings)


def _reads(units: list[OrderUnit]) -> tuple[list[_Read], int]:
    """The batch's units, one per order unit (a unit listed twice counts as last read), and
    how many were dropped as repeats."""
    latest: dict[tuple[str, int], _Read] = {}
    for unit in units:
        read = _Read(unit, unit.model_dump(mode="json", by_alias=True))
        latest.pop(read.key, None)  # keep the listing order of the last reads
        latest[read.key] = read
    return list(latest.values()), len(units) - len(latest)


def _write(
    factory: sessionmaker[Session],
    account: Account,
    storefront: Storefront,
    units: list[OrderUnit],
    summary: OrderImportSummary,
    clock: Callable[[], datetime],
) -> None:
    """Upsert one batch in one transaction, redone when a concurrent run got in the way."""
    reads, repeats = _reads(units)

    def work(session: Session, scratch: OrderImportSummary) -> None:
        scratch.unchanged += repeats  # a repeat is a unit read again
        _Batch(session, account.id, storefront, scratch, clock=clock).write(reads)

    write_counted(factory, summary, work)


async def _release_addresses(
    client: KauflandClient,
    factory: sessionmaker[Session],
    account: Account,
    storefront: Storefront,
    summary: OrderImportSummary,
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
            buyer = _customer(session, account.id, details.buyer)
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
    on_progress: Callable[[Storefront, int], None] | None = None,
) -> OrderImportSummary:
    """Import the order units of ``account`` changed on each of ``storefronts`` (see the module
    docstring for the guarantees). ``since``/``until`` bound a history import; without ``since``
    the storefront's cursor decides (everything on the first run). ``clock`` gives the run's
    start time (aware UTC). ``on_progress(storefront, n)`` is told of every ``n`` units written
    (a progress bar for long history imports). Errors from Kaufland or the store propagate
    after the storefront's sync run is marked failed; the batches written before stay, and the
    cursor of the failing storefront does not move."""
    started = clock()
    cap = started if until is None else min(started, until)
    summary = OrderImportSummary()
    off = _orders_not_imported(factory, account.id)
    for value in storefronts:
        storefront = Storefront(value)
        if storefront in off:
            _skipped_run(factory, account.id, storefront, off[storefront], clock())
            continue
        part = OrderImportSummary()
        cursor = Cursor(CURSOR_KIND, account.id, storefront)
        with logged_run(
            factory,
            kind=SyncKind.ORDERS,
            account_id=account.id,
            storefront=storefront,
            started=clock(),
            summary=part,
            clock=clock,
        ):
            start = since if since is not None else cursor.read_from(factory)
            await _import_storefront(
                client,
                factory,
                account,
                storefront,
                part,
                start=start,
                until=until,
                clock=clock,
                on_progress=on_progress,
            )
            cursor.advance(factory, cap)
        summary.add(part)
    return summary


def _orders_not_imported(
    factory: sessionmaker[Session], account_id: int
) -> dict[Storefront, SyncDirection]:
    """The account's storefronts whose orders direction says not to import them (``off``, or
    ``to_kaufland``, which means nothing for orders), with that direction."""
    with factory() as session:
        rows = session.execute(
            select(AccountStorefront.storefront, AccountStorefront.direction_orders).where(
                AccountStorefront.account_id == account_id
            )
        ).all()
    return {
        Storefront(storefront): SyncDirection(direction)
        for storefront, direction in rows
        if direction not in (SyncDirection.FROM_KAUFLAND, SyncDirection.BOTH)
    }


def _skipped_run(
    factory: sessionmaker[Session],
    account_id: int,
    storefront: Storefront,
    direction: SyncDirection,
    now: datetime,
) -> None:
    """Log that the storefront's orders were not imported, and why (the cursor stays)."""
    with transaction(factory) as session:
        session.add(
            SyncRun(
                kind=SyncKind.ORDERS,
                account_id=account_id,
                storefront=storefront,
                started_at=now,
                finished_at=now,
                outcome=RunOutcome.SKIPPED,
                error_summary=f"orders direction is {direction.value}: orders are not imported",
            )
        )


async def _import_storefront(
    client: KauflandClient,
    factory: sessionmaker[Session],
    account: Account,
    storefront: Storefront,
    summary: OrderImportSummary,
    *,
    start: datetime | None,
    until: datetime | None,
    clock: Callable[[], datetime],
    on_progress: Callable[[Storefront, int], None] | None,
) -> None:
    def write(units: list[OrderUnit]) -> None:
        _write(factory, account, storefront, units, summary, clock)
        if on_progress is not None:
            on_progress(storefront, len(units))

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
            write(pending)
            pending = []
    if pending:
        write(pending)
    await _release_addresses(client, factory, account, storefront, summary)
