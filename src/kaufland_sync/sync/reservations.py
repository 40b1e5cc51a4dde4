"""Stock reservations of order lines: what each imported order unit does to its SKU's stock.

Every order line has a :class:`~kaufland_sync.store.models.orders.StockState`:

* A **new** line fulfilled by the merchant (or without a fulfillment type) whose unit is
  ``open`` or ``need_to_be_sent`` is ``RESERVED``: one piece of its SKU is held back from every
  storefront's offered amount (the stock sync subtracts :func:`reserved_counts`) until the unit
  leaves the warehouse or is cancelled.
* A ``RESERVED`` line whose unit becomes ``sent``, ``sent_and_autopaid``, ``received``,
  ``returned`` or ``returned_paid`` is ``CONSUMED``: the piece left, so one piece is taken off
  the built-in catalogue's on-hand stock (see :meth:`StockKeeper.deduct` for which warehouse).
  The offered amount does not move: on hand and reserved both drop by one.
* A ``RESERVED`` line whose unit becomes ``cancelled`` is ``RELEASED``: nothing is deducted and
  the piece is offered again.
* Lines imported already shipped, cancelled or returned, lines fulfilled by Kaufland and lines
  without an ``id_offer`` are ``NONE``: they never touch local stock (the catalogue is assumed to
  know about them already, or Kaufland's warehouse holds the goods).

Every transition happens once. The move out of ``RESERVED`` is a conditional
``UPDATE … WHERE stock_state = 'reserved'`` in the import batch's transaction, and the deduction
happens only when that update changed the row: a rerun, or a second import running at the same
time, finds the line no longer reserved and deducts nothing. A ``CONSUMED`` line stays consumed
through returns (putting returned pieces back is the returns code's job).

``sent_at`` is set the first time a line is seen ``sent``, to the unit's ``ts_updated`` then
(the moment Kaufland recorded the send, as far as an import can tell). A line first seen past
``sent`` keeps ``sent_at`` unknown unless something else (our own confirmed send) sets it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from kaufland_sync.iterables import chunked
from kaufland_sync.sellerapi.models import FulfillmentType
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import AccountStorefront, WarehouseMapping
from kaufland_sync.store.models.catalog import Product, StockLevel, Warehouse
from kaufland_sync.store.models.orders import Order, OrderLine, StockState

__all__ = [
    "CONSUMING",
    "RESERVING",
    "StockKeeper",
    "Transition",
    "reservation_source",
    "reserved_counts",
]

_log = structlog.get_logger(__name__)

#: Unit statuses in which a new merchant-fulfilled line reserves a piece.
RESERVING = frozenset({"open", "need_to_be_sent"})
#: Unit statuses in which the piece has left the warehouse.
CONSUMING = frozenset({"sent", "sent_and_autopaid", "received", "returned", "returned_paid"})
_RELEASING = frozenset({"cancelled"})
#: Deduction attempts when a concurrent writer empties the chosen warehouse first.
_ATTEMPTS = 3
# SQLite refuses more than 32,766 bound parameters in one statement; stay well below.
_IN_CHUNK = 1000


class Transition(enum.StrEnum):
    """A change of a line's reservation (what the import summary counts)."""

    RESERVED = "reserved"
    CONSUMED = "consumed"
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class _Level:
    id: int
    code: str
    quantity: int


class StockKeeper:
    """Applies the reservation rules to the lines of one import batch (one session).

    The storefronts' warehouse mappings are read once per storefront and kept for the batch."""

    def __init__(self, session: Session, account_id: int, *, now: Callable[[], datetime]) -> None:
        self.session = session
        self.account_id = account_id
        self._now = now
        self._mapped: dict[Storefront, frozenset[str]] = {}

    def on_line(
        self,
        line: OrderLine,
        *,
        new: bool,
        storefront: Storefront,
        fulfillment_type: str | None,
    ) -> Transition | None:
        """Move ``line`` (its ``status``, ``sku`` and ``ts_updated`` already set from the
        unit) to the stock state the rules give; returns the transition made, if any.
        ``new`` says the line was created in this batch (not flushed yet, or just)."""
        if line.status == "sent" and line.sent_at is None:
            line.sent_at = line.ts_updated or self._now()
        by_kaufland = fulfillment_type == FulfillmentType.FULFILLED_BY_KAUFLAND.value
        if new:
            if line.sku and not by_kaufland and line.status in RESERVING:
                line.stock_state = StockState.RESERVED
                return Transition.RESERVED
            line.stock_state = StockState.NONE
            return None
        if line.stock_state is not StockState.RESERVED:
            return None
        if line.status in CONSUMING:
            target, transition = StockState.CONSUMED, Transition.CONSUMED
        elif line.status in _RELEASING:
            target, transition = StockState.RELEASED, Transition.RELEASED
        else:
            return None
        self.session.flush()  # the line's other changes first; the update below is conditional
        result = cast(
            CursorResult[Any],
            self.session.execute(
                update(OrderLine)
                .where(OrderLine.id == line.id, OrderLine.stock_state == StockState.RESERVED)
                .values(stock_state=target)
                .execution_options(synchronize_session=False)
            ),
        )
        # Another run moved it meanwhile: that run did the deduction. Either way the row now
        # holds a final state; tell the in-memory object without marking it dirty.
        set_committed_value(line, "stock_state", target)
        if result.rowcount != 1:
            return None
        if transition is Transition.CONSUMED and line.sku:
            self.deduct(line.sku, storefront)
        return transition

    def _warehouses(self, storefront: Storefront) -> frozenset[str]:
        found = self._mapped.get(storefront)
        if found is None:
            found = frozenset(
                self.session.scalars(
                    select(WarehouseMapping.local_warehouse)
                    .join(
                        AccountStorefront,
                        AccountStorefront.id == WarehouseMapping.account_storefront_id,
                    )
                    .where(
                        AccountStorefront.account_id == self.account_id,
                        AccountStorefront.storefront == storefront,
                    )
                )
            )
            self._mapped[storefront] = found
        return found

    def deduct(self, sku: str, storefront: Storefront) -> str | None:
        """Take one piece of ``sku`` off the built-in catalogue; returns the warehouse code.

        The warehouse: among those the storefront's offer counts (its mapped local warehouses,
        or every warehouse when it maps none), the one holding the most of this product, ties to
        the first code alphabetically: the same warehouse the offer names as its
        ``id_warehouse``, so the piece comes off where the sale was offered from. An SKU not in
        the catalogue, or without stock in those warehouses, is logged and skipped (the offered
        amount was already 0 there)."""
        session = self.session
        product_id = session.scalar(select(Product.id).where(Product.sku == sku))
        if product_id is None:
            _log.warning("reservations.sku_not_in_catalogue", sku=sku)
            return None
        mapped = self._warehouses(storefront)
        for _ in range(_ATTEMPTS):
            rows = session.execute(
                select(StockLevel.id, Warehouse.code, StockLevel.quantity)
                .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
                .where(StockLevel.product_id == product_id)
            )
            levels = [_Level(i, code, qty) for i, code, qty in rows]
            counted = [lv for lv in levels if lv.quantity > 0 and (not mapped or lv.code in mapped)]
            if not counted:
                break
            best = min(counted, key=lambda lv: (-lv.quantity, lv.code))
            result = cast(
                CursorResult[Any],
                session.execute(
                    update(StockLevel)
                    .where(StockLevel.id == best.id, StockLevel.quantity > 0)
                    .values(quantity=StockLevel.quantity - 1, updated_at=self._now())
                    .execution_options(synchronize_session=False)
                ),
            )
            if result.rowcount == 1:
                return best.code
        _log.warning("reservations.no_stock_to_deduct", sku=sku, storefront=storefront.value)
        return None


def reserved_counts(
    source: Session | sessionmaker[Session], account_id: int, skus: Iterable[str]
) -> dict[str, int]:
    """Pieces of each of ``skus`` reserved by ``account_id``'s open order lines; SKUs with
    nothing reserved are left out. Reservations are per account: an account's orders hold back
    its own offers (a playground account's test orders must not shrink production offers)."""
    wanted = list(dict.fromkeys(skus))
    if not wanted:
        return {}

    def count(session: Session) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in chunked(wanted, _IN_CHUNK):
            rows = session.execute(
                select(OrderLine.sku, func.count())
                .join(Order, Order.id == OrderLine.order_id)
                .where(
                    Order.account_id == account_id,
                    OrderLine.sku.in_(chunk),
                    OrderLine.stock_state == StockState.RESERVED,
                )
                .group_by(OrderLine.sku)
            )
            for sku, n in rows:
                if sku is not None:
                    found[sku] = int(n)
        return found

    if isinstance(source, Session):
        return count(source)
    with source() as session:
        return count(session)


def reservation_source(
    factory: sessionmaker[Session], account_id: int
) -> Callable[[Sequence[str]], Mapping[str, int]]:
    """:func:`reserved_counts` as the offers exporter's ``reservations`` hook."""

    def source(skus: Sequence[str]) -> Mapping[str, int]:
        return reserved_counts(factory, account_id, skus)

    return source
