"""Seller performance per storefront and period, from the store only.

Order lines (one Kaufland order unit, one piece) count in the period of their order's date
(``Order.ordered_at``, else the import time; UTC), tickets in the period they were opened
(``Ticket.ts_created``). Every rate comes with its numerator and denominator:

* **late shipment rate** — lines sent after their deadline (``sent_at >
  delivery_time_expires_iso``) over sent lines with a known send time and deadline. ``overdue``
  counts lines still to ship whose deadline has passed at report time (not in the rate: they
  are not sent yet).
* **seller-caused cancellation rate** — cancelled lines whose ``cancel_reason`` is one of
  :data:`SELLER_CANCEL_REASONS` over all lines of the period.
* **valid tracking rate** — sent lines whose ``send`` action went through our outbox
  (``OutboxMessage`` ``send``, state ``done``) with a carrier code and at least one tracking
  number, over sent lines whose send went through our outbox. Lines sent another way (the
  seller portal, another tool) are ``tracking_unknown``: we cannot see what was sent, so they
  are in neither number.
* **average handling time** — mean of ``sent_at - ordered_at`` over sent lines that have both.
* **return rate** — return units (``return_units``, matched to a line by ``order_line_id`` or
  ``id_order_unit``) over sent lines.
* **open tickets** — tickets with status ``opened``: how many, how many Kaufland marks as the
  seller's responsibility, the oldest age and the total age (for the average) at report time.

A line is *sent* when it has ``sent_at`` or a status after shipping (``sent``,
``sent_and_autopaid``, ``received``, ``returned``, ``returned_paid``); only lines with
``sent_at`` have a send time for the late and handling figures. ``sent_at`` is when the line
was first seen sent (Kaufland's update time then, or our confirmed send), so for lines shipped
outside this tool it is when the import noticed, which may be later than the real shipment.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kaufland_sync.reports._common import Ratio, report_storefronts, utc_date
from kaufland_sync.reports._period import DateRange, Period
from kaufland_sync.reports.commission import order_date_filter, order_day
from kaufland_sync.sellerapi.models.order_units import OrderUnitCancelReason, OrderUnitStatus
from kaufland_sync.sellerapi.models.tickets import TicketStatus
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import Order, OrderLine
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.store.models.returns import Return, ReturnUnit, Ticket

__all__ = [
    "SELLER_CANCEL_REASONS",
    "PerformanceFigures",
    "PerformanceReport",
    "PerformanceRow",
    "performance_report",
    "valid_tracking",
]

#: Cancel reasons that put the cancellation on the seller: no stock (``NoInventory``,
#: ``DelayedInventory``, and ``NoInventoryDelayedCheckout`` that one client lists), a wrong
#: price or wrong catalogue data in the offer. The buyer's own reasons (``BuyerCancelled``,
#: ``NoReactionBuyer``), the address or region (``ShippingAddressUndeliverable``,
#: ``UndeliverableRegion``), ``MerchandiseNotReceived`` and the unspecific
#: ``GeneralAdjustment`` are not counted. Kaufland does not publish its own list.
SELLER_CANCEL_REASONS = frozenset(
    {
        OrderUnitCancelReason.NO_INVENTORY.value,
        OrderUnitCancelReason.DELAYED_INVENTORY.value,
        OrderUnitCancelReason.WRONG_PRICE.value,
        OrderUnitCancelReason.WRONG_CATALOG_DATA.value,
        "NoInventoryDelayedCheckout",
    }
)

_AFTER_SHIPPING = frozenset(
    {
        OrderUnitStatus.SENT.value,
        OrderUnitStatus.SENT_AND_AUTOPAID.value,
        OrderUnitStatus.RECEIVED.value,
        OrderUnitStatus.RETURNED.value,
        OrderUnitStatus.RETURNED_PAID.value,
    }
)
_CANCELLED = OrderUnitStatus.CANCELLED.value
_HOURS = Decimal(3600)


def valid_tracking(payload: dict[str, Any]) -> bool:
    """Whether a ``send`` message's payload (Kaufland's send body: ``carrier_code`` and
    ``tracking_numbers``, one comma-separated string or a list) names a carrier and at least
    one tracking number. ``Other``/``Other Hauler`` without a number is not valid tracking."""
    carrier = payload.get("carrier_code")
    if not isinstance(carrier, str) or not carrier.strip():
        return False
    numbers = payload.get("tracking_numbers", payload.get("tracking_number"))
    if isinstance(numbers, str):
        numbers = numbers.split(",")
    if not isinstance(numbers, list):
        return False
    return any(isinstance(n, str) and n.strip() for n in numbers)


@dataclass(slots=True)
class PerformanceFigures:
    """Counts over a set of order lines and open tickets (ages and times in seconds)."""

    lines: int = 0
    cancelled: int = 0
    seller_cancelled: int = 0
    sent: int = 0
    sent_timed: int = 0  # sent lines with a send time and a deadline
    late: int = 0
    overdue: int = 0
    tracking_valid: int = 0
    tracking_invalid: int = 0
    tracking_unknown: int = 0
    handled: int = 0  # sent lines with an order time and a send time
    handling_seconds: int = 0
    returns: int = 0
    open_tickets: int = 0
    seller_responsible_tickets: int = 0
    ticket_age_seconds: int = 0
    oldest_ticket_age_seconds: int | None = None

    def merge(self, other: PerformanceFigures) -> None:
        for item in fields(self):
            if item.name == "oldest_ticket_age_seconds":
                continue
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))
        ages = (self.oldest_ticket_age_seconds, other.oldest_ticket_age_seconds)
        known = [age for age in ages if age is not None]
        self.oldest_ticket_age_seconds = max(known) if known else None

    @property
    def late_shipment(self) -> Ratio:
        return Ratio(self.late, self.sent_timed)

    @property
    def seller_cancellation(self) -> Ratio:
        return Ratio(self.seller_cancelled, self.lines)

    @property
    def valid_tracking(self) -> Ratio:
        return Ratio(self.tracking_valid, self.tracking_valid + self.tracking_invalid)

    @property
    def return_rate(self) -> Ratio:
        return Ratio(self.returns, self.sent)

    @property
    def average_handling_hours(self) -> Decimal | None:
        """Mean handling time in hours, two decimal places (half up); None without any."""
        if not self.handled:
            return None
        hours = Decimal(self.handling_seconds) / self.handled / _HOURS
        return hours.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def average_ticket_age_seconds(self) -> int | None:
        """Mean age of the open tickets, whole seconds (half up); None without any."""
        if not self.open_tickets:
            return None
        mean = Decimal(self.ticket_age_seconds) / self.open_tickets
        return int(mean.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def as_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {item.name: getattr(self, item.name) for item in fields(self)}
        hours = self.average_handling_hours
        values |= {
            "late_shipment_rate": self.late_shipment.as_dict(),
            "seller_cancellation_rate": self.seller_cancellation.as_dict(),
            "valid_tracking_rate": self.valid_tracking.as_dict(),
            "return_rate": self.return_rate.as_dict(),
            "average_handling_hours": None if hours is None else float(hours),
            "average_ticket_age_seconds": self.average_ticket_age_seconds,
        }
        return values


@dataclass(slots=True)
class PerformanceRow:
    """One storefront over one period (``period == "total"``: the whole range; ``storefront``
    None: every storefront together)."""

    storefront: Storefront | None
    period: str
    start: date | None
    end: date | None
    figures: PerformanceFigures = field(default_factory=PerformanceFigures)

    def as_dict(self) -> dict[str, Any]:
        return {
            "storefront": "all" if self.storefront is None else self.storefront.value,
            "period": self.period,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            **self.figures.as_dict(),
        }


@dataclass(slots=True)
class PerformanceReport:
    """``rows``: each storefront and period, empty periods included; ``totals``: each storefront
    over the range; ``total``: all storefronts over the range. ``unmatched_return_units``:
    return units of the account that match no imported line (per storefront code, ``?`` when
    unknown), which no return rate counts; ``unattributed_open_tickets``: open tickets of the
    range whose storefront is unknown (none given, no imported order unit), in no row. ``now``:
    the time ages and overdue lines are measured at."""

    account: str
    range: DateRange
    by: Period
    now: datetime
    rows: list[PerformanceRow]
    totals: list[PerformanceRow]
    total: PerformanceRow
    unmatched_return_units: dict[str, int]
    unattributed_open_tickets: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "from": None if self.range.first is None else self.range.first.isoformat(),
            "to": None if self.range.last is None else self.range.last.isoformat(),
            "by": self.by.value,
            "now": self.now.isoformat(),
            "rows": [row.as_dict() for row in self.rows],
            "totals": [row.as_dict() for row in self.totals],
            "total": self.total.as_dict(),
            "unmatched_return_units": self.unmatched_return_units,
            "unattributed_open_tickets": self.unattributed_open_tickets,
        }


def _seconds(later: datetime, earlier: datetime) -> int:
    return max(0, round((later - earlier).total_seconds()))


def performance_report(
    session: Session,
    account: Account,
    *,
    now: datetime,
    storefront: Storefront | None = None,
    span: DateRange | None = None,
    by: Period = Period.MONTH,
) -> PerformanceReport:
    """Seller-performance figures of ``account`` per storefront and ``by`` period of ``span``
    (open ends: the first/last order or ticket date found), measured at ``now``."""
    span = span or DateRange()
    cells: dict[tuple[Storefront, date], PerformanceFigures] = defaultdict(PerformanceFigures)

    sends: dict[str, bool] = {}
    for target, payload in session.execute(
        select(OutboxMessage.target, OutboxMessage.payload).where(
            OutboxMessage.account_id == account.id,
            OutboxMessage.action == OutboxAction.SEND,
            OutboxMessage.state == OutboxState.DONE,
        )
    ):
        sends[target] = sends.get(target, False) or valid_tracking(payload or {})

    # Return units count against their line: by the link the returns import set, else by
    # Kaufland's id_order_unit (a return imported before its order).
    returned_by_line: dict[int, int] = defaultdict(int)
    returned_by_unit: dict[int, int] = defaultdict(int)
    unlinked: list[tuple[int | None, str]] = []
    for line_id, id_order_unit, return_storefront in session.execute(
        select(ReturnUnit.order_line_id, ReturnUnit.id_order_unit, Return.storefront)
        .join(Return, Return.id == ReturnUnit.return_id)
        .where(Return.account_id == account.id)
    ):
        if line_id is not None:
            returned_by_line[line_id] += 1
            continue
        if id_order_unit is not None:
            returned_by_unit[id_order_unit] += 1
        unlinked.append((id_order_unit, return_storefront.value if return_storefront else "?"))

    where = [Order.account_id == account.id, order_date_filter(span)]
    if storefront is not None:
        where.append(Order.storefront == storefront)
    line_rows = session.execute(
        select(
            Order.storefront,
            Order.ordered_at,
            Order.created_at,
            OrderLine.id,
            OrderLine.id_order_unit,
            OrderLine.status,
            OrderLine.sent_at,
            OrderLine.delivery_time_expires_iso,
            OrderLine.cancel_reason,
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(*where)
    )
    for code, ordered_at, created_at, line_id, unit, status, sent_at, deadline, reason in line_rows:
        cell = cells[(code, order_day(ordered_at, created_at))]
        cell.lines += 1
        if status == _CANCELLED:
            cell.cancelled += 1
            cell.seller_cancelled += reason in SELLER_CANCEL_REASONS
            continue
        if sent_at is None and status not in _AFTER_SHIPPING:
            cell.overdue += deadline is not None and deadline < now
            continue
        cell.sent += 1
        cell.returns += returned_by_line.get(line_id, 0) + returned_by_unit.get(unit, 0)
        if sent_at is not None and deadline is not None:
            cell.sent_timed += 1
            cell.late += sent_at > deadline
        if sent_at is not None and ordered_at is not None:
            cell.handled += 1
            cell.handling_seconds += _seconds(sent_at, ordered_at)
        tracked = sends.get(str(unit))
        if tracked is None:
            cell.tracking_unknown += 1
        elif tracked:
            cell.tracking_valid += 1
        else:
            cell.tracking_invalid += 1

    # Return units with an id_order_unit that matches none of the account's lines.
    known_units = set(
        session.scalars(
            select(OrderLine.id_order_unit)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.account_id == account.id, OrderLine.id_order_unit.in_(returned_by_unit))
        )
    )
    unmatched: dict[str, int] = defaultdict(int)
    for id_order_unit, code_text in unlinked:
        if id_order_unit is None or id_order_unit not in known_units:
            unmatched[code_text] += 1

    ticket_rows = session.execute(
        select(
            Ticket.storefront,
            Ticket.ids_order_units,
            Ticket.ts_created,
            Ticket.created_at,
            Ticket.is_seller_responsible,
        ).where(Ticket.account_id == account.id, Ticket.status == TicketStatus.OPENED.value)
    )
    tickets = [
        (code, ids or [], ts_created or created_at, seller)
        for code, ids, ts_created, created_at, seller in ticket_rows
    ]
    # A ticket without a storefront takes the one of its first order unit we have.
    missing = {ids[0] for code, ids, _, _ in tickets if code is None and ids}
    line_storefront: dict[int, Storefront] = {
        unit: code
        for unit, code in session.execute(
            select(OrderLine.id_order_unit, Order.storefront)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.account_id == account.id, OrderLine.id_order_unit.in_(missing))
        )
    }
    unattributed = 0
    for own, ids, opened_at, seller in tickets:
        sold_on = own or (line_storefront.get(ids[0]) if ids else None)
        if sold_on is None:
            unattributed += span.contains(opened_at)
            continue
        if storefront is not None and sold_on != storefront:
            continue
        if not span.contains(opened_at):
            continue
        cell = cells[(sold_on, utc_date(opened_at))]
        age = _seconds(now, opened_at)
        cell.open_tickets += 1
        cell.seller_responsible_tickets += bool(seller)
        cell.ticket_age_seconds += age
        cell.oldest_ticket_age_seconds = max(cell.oldest_ticket_age_seconds or 0, age)

    span = span.closed_over(day for _, day in cells)
    rows: list[PerformanceRow] = []
    totals: list[PerformanceRow] = []
    total = PerformanceRow(None, "total", span.first, span.last)
    for code in report_storefronts(account, storefront, (code for code, _ in cells)):
        whole = PerformanceRow(code, "total", span.first, span.last)
        for bucket in span.buckets(by):
            row = PerformanceRow(code, bucket.label, bucket.start, bucket.end)
            for day in bucket.days():
                found = cells.get((code, day))
                if found is not None:
                    row.figures.merge(found)
            whole.figures.merge(row.figures)
            rows.append(row)
        totals.append(whole)
        total.figures.merge(whole.figures)
    return PerformanceReport(
        account=account.name,
        range=span,
        by=by,
        now=now,
        rows=rows,
        totals=totals,
        total=total,
        unmatched_return_units=dict(sorted(unmatched.items())),
        unattributed_open_tickets=unattributed,
    )
