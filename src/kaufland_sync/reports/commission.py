"""Commission Kaufland kept on the account's sales, per storefront and period.

Per order line (one Kaufland order unit, one piece), from the money fields Kaufland sends on it
(integer minor units of the order's currency)::

    commission = price + shipping_rate - revenue_gross

``price`` is what the buyer paid for the piece and ``shipping_rate`` the shipping charged on it
(Kaufland charges shipping on the first piece of an ordered line, 0 on the others);
``revenue_gross`` is what Kaufland pays the seller for it before VAT is taken out, and
``revenue_net`` the same without VAT. Kaufland's spec names these fields without defining
them; the formula is the one our sandbox implements (``sandbox/marketplace.py``,
``place_order``: ``revenue_gross = price + shipping - commission``, commission on the price
*including* shipping, as sellers' guides describe Kaufland's). See docs/reports.md.

Lines are counted by their Kaufland status:

* ``cancelled`` — no sale, no commission: counted in ``cancelled`` only;
* ``returned`` / ``returned_paid`` — the sale happened and Kaufland's fields still describe it,
  so the line stays in every total; ``returned`` and ``returned_commission`` show how much of
  the total such lines make up, for a reader who wants it out (whether Kaufland gives the
  commission back on a return is not documented);
* every other status (``open`` … ``received``) — a sale;
* a line without ``price`` or ``revenue_gross`` cannot be computed: counted in ``incomplete``.

Refunds (partial money back to a buyer, ``orders refund``) are not commission and change no
figure above; ``refunded`` sums those Kaufland accepted (outbox message done) for information.

A line belongs to the period of its order's date (``Order.ordered_at``, Kaufland's
``ts_created_iso``; the import time when missing), as a UTC date.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kaufland_sync.reports._common import Conversion, Ratio, report_storefronts, utc_date
from kaufland_sync.reports._period import DateRange, Period
from kaufland_sync.sellerapi.models.order_units import OrderUnitStatus
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import Order, OrderLine
from kaufland_sync.store.models.outbox import OutboxMessage, OutboxState
from kaufland_sync.store.models.returns import Refund

__all__ = [
    "CSV_COLUMNS",
    "CommissionFigures",
    "CommissionReport",
    "CommissionRow",
    "commission_csv",
    "commission_csv_records",
    "commission_report",
    "line_commission",
]

_RETURNED = frozenset({OrderUnitStatus.RETURNED.value, OrderUnitStatus.RETURNED_PAID.value})
_CANCELLED = OrderUnitStatus.CANCELLED.value
#: The figures that are money (minor units), converted to the base currency on request.
MONEY_FIELDS = (
    "sales",
    "price",
    "shipping",
    "revenue_gross",
    "revenue_net",
    "commission",
    "returned_commission",
    "refunded",
)


def line_commission(
    price: int | None, shipping_rate: int | None, revenue_gross: int | None
) -> int | None:
    """``price + shipping_rate - revenue_gross`` (minor units); None without a price or a gross
    revenue. A missing shipping rate is 0."""
    if price is None or revenue_gross is None:
        return None
    return price + (shipping_rate or 0) - revenue_gross


@dataclass(slots=True)
class CommissionFigures:
    """Sums over a set of order lines, in minor units of one currency (counts are lines)."""

    lines: int = 0  # lines that are sales (not cancelled, computable)
    cancelled: int = 0
    incomplete: int = 0
    returned: int = 0  # of ``lines``: returned ones
    price: int = 0
    shipping: int = 0
    revenue_gross: int = 0
    revenue_net: int = 0
    commission: int = 0
    returned_commission: int = 0
    refunded: int = 0

    @property
    def sales(self) -> int:
        """What buyers paid for the lines: ``price + shipping``."""
        return self.price + self.shipping

    @property
    def commission_rate(self) -> Ratio:
        """Commission over sales."""
        return Ratio(self.commission, self.sales)

    def add_line(
        self,
        status: str,
        price: int | None,
        shipping_rate: int | None,
        revenue_gross: int | None,
        revenue_net: int | None,
    ) -> None:
        if status == _CANCELLED:
            self.cancelled += 1
            return
        commission = line_commission(price, shipping_rate, revenue_gross)
        if commission is None or price is None or revenue_gross is None:
            self.incomplete += 1
            return
        self.lines += 1
        self.price += price
        self.shipping += shipping_rate or 0
        self.revenue_gross += revenue_gross
        self.revenue_net += revenue_net or 0
        self.commission += commission
        if status in _RETURNED:
            self.returned += 1
            self.returned_commission += commission

    def merge(self, other: CommissionFigures) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def as_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {item.name: getattr(self, item.name) for item in fields(self)}
        values["sales"] = self.sales
        values["commission_rate"] = self.commission_rate.as_dict()
        return values


@dataclass(slots=True)
class CommissionRow:
    """One storefront over one period (``period == "total"``: the whole range).

    ``base`` holds the money figures in the account's base currency (minor units), or is None
    when the storefront's amounts cannot be converted (no currency rate set).
    """

    storefront: Storefront
    period: str
    start: date | None
    end: date | None
    currency: str
    rate: Decimal | None
    figures: CommissionFigures = field(default_factory=CommissionFigures)
    base: dict[str, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "storefront": self.storefront.value,
            "period": self.period,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "currency": self.currency,
            **self.figures.as_dict(),
            "currency_rate": None if self.rate is None else f"{self.rate.normalize():f}",
            "base": self.base,
        }


@dataclass(slots=True)
class CommissionReport:
    """The commission report of one account.

    ``rows``: each storefront and period of the range, empty periods included (zeros);
    ``totals``: each storefront over the range; ``total``: every storefront together in the
    base currency (sums of the rows' converted figures, so the printed numbers add up);
    storefronts without a usable rate are left out of ``total`` and listed in ``unconverted``.
    """

    account: str
    base_currency: str
    range: DateRange
    by: Period
    rows: list[CommissionRow]
    totals: list[CommissionRow]
    total: dict[str, int]
    unconverted: list[Storefront]

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "base_currency": self.base_currency,
            "from": None if self.range.first is None else self.range.first.isoformat(),
            "to": None if self.range.last is None else self.range.last.isoformat(),
            "by": self.by.value,
            "rows": [row.as_dict() for row in self.rows],
            "totals": [row.as_dict() for row in self.totals],
            "total": self.total
            | {"commission_rate": Ratio(self.total["commission"], self.total["sales"]).as_dict()},
            "unconverted": [code.value for code in self.unconverted],
        }


def _in_range(moment: Any, fallback: Any, span: DateRange) -> ColumnElement[bool]:
    """SQL: the order date (``moment``, else ``fallback``) lies in ``span``. Spelled as plain
    column comparisons so each side binds through the column's UTC type on every backend."""

    def within(column: Any) -> list[ColumnElement[bool]]:
        parts: list[ColumnElement[bool]] = []
        if span.start is not None:
            parts.append(column >= span.start)
        if span.end is not None:
            parts.append(column < span.end)
        return parts

    return or_(
        and_(moment.is_not(None), *within(moment)),
        and_(moment.is_(None), *within(fallback)),
    )


def order_date_filter(span: DateRange) -> ColumnElement[bool]:
    """SQL condition: the order's date (``ordered_at``, else ``created_at``) is in ``span``."""
    return _in_range(Order.ordered_at, Order.created_at, span)


def order_day(ordered_at: datetime | None, created_at: datetime) -> date:
    """The UTC date an order counts on."""
    return utc_date(ordered_at or created_at)


def _money(figures: CommissionFigures) -> dict[str, int]:
    return {name: getattr(figures, name) for name in MONEY_FIELDS}


def commission_report(
    session: Session,
    account: Account,
    *,
    storefront: Storefront | None = None,
    span: DateRange | None = None,
    by: Period = Period.MONTH,
) -> CommissionReport:
    """Commission of ``account``'s order lines, per storefront and ``by`` period of ``span``
    (open ends: the first/last order date found). Reads the store only."""
    span = span or DateRange()
    conversion = Conversion(account)
    where = [Order.account_id == account.id, order_date_filter(span)]
    if storefront is not None:
        where.append(Order.storefront == storefront)

    # (storefront, currency, day) → figures
    cells: dict[tuple[Storefront, str, date], CommissionFigures] = defaultdict(CommissionFigures)
    line_rows = session.execute(
        select(
            Order.storefront,
            Order.currency,
            Order.ordered_at,
            Order.created_at,
            OrderLine.status,
            OrderLine.price,
            OrderLine.shipping_rate,
            OrderLine.revenue_gross,
            OrderLine.revenue_net,
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(*where)
    )
    for code, currency, ordered_at, created_at, status, price, ship, gross, net in line_rows:
        key = (code, currency or code.currency.value, order_day(ordered_at, created_at))
        cells[key].add_line(status, price, ship, gross, net)

    refunds = session.execute(
        select(Order.storefront, Order.currency, Order.ordered_at, Order.created_at, Refund.amount)
        .join(Refund, Refund.order_id == Order.id)
        .outerjoin(OutboxMessage, OutboxMessage.id == Refund.outbox_id)
        .where(
            *where,
            or_(Refund.outbox_id.is_(None), OutboxMessage.state == OutboxState.DONE),
        )
    )
    for code, currency, ordered_at, created_at, amount in refunds:
        key = (code, currency or code.currency.value, order_day(ordered_at, created_at))
        cells[key].refunded += amount

    span = span.closed_over(day for _, _, day in cells)
    codes = report_storefronts(account, storefront, (code for code, _, _ in cells))
    currencies: dict[Storefront, set[str]] = defaultdict(set)
    for code, currency, _ in cells:
        currencies[code].add(currency)

    rows: list[CommissionRow] = []
    totals: list[CommissionRow] = []
    total: dict[str, int] = dict.fromkeys(MONEY_FIELDS, 0) | {"lines": 0}
    unconverted: list[Storefront] = []
    for code in codes:
        for currency in sorted(currencies[code] or {code.currency.value}):
            rate = conversion.rate(code, currency)
            whole = CommissionRow(code, "total", span.first, span.last, currency, rate)
            whole.base = None if rate is None else dict.fromkeys(MONEY_FIELDS, 0)
            for bucket in span.buckets(by):
                row = CommissionRow(code, bucket.label, bucket.start, bucket.end, currency, rate)
                for day in bucket.days():
                    found = cells.get((code, currency, day))
                    if found is not None:
                        row.figures.merge(found)
                if rate is not None and whole.base is not None:
                    row.base = {
                        name: conversion.to_base(amount, code, currency) or 0
                        for name, amount in _money(row.figures).items()
                    }
                    for name, amount in row.base.items():
                        whole.base[name] += amount
                whole.figures.merge(row.figures)
                rows.append(row)
            totals.append(whole)
            if whole.base is None:
                if whole.figures.lines or whole.figures.refunded:
                    unconverted.append(code)
                continue
            for name, amount in whole.base.items():
                total[name] += amount
            total["lines"] += whole.figures.lines
    return CommissionReport(
        account=account.name,
        base_currency=conversion.base_currency,
        range=span,
        by=by,
        rows=rows,
        totals=totals,
        total=total,
        unconverted=unconverted,
    )


# -- CSV --------------------------------------------------------------------------------------

#: The columns of the commission CSV (``report commission --csv`` and the web app's export):
#: money in integer minor units of the row's currency, ``base_*`` in the base currency's.
CSV_COLUMNS: tuple[str, ...] = (
    "storefront",
    "period",
    "start",
    "end",
    "currency",
    "lines",
    "cancelled",
    "incomplete",
    "returned",
    "sales",
    "price",
    "shipping",
    "revenue_gross",
    "revenue_net",
    "commission",
    "commission_percent",
    "returned_commission",
    "refunded",
    "currency_rate",
    "base_currency",
    "base_sales",
    "base_revenue_gross",
    "base_revenue_net",
    "base_commission",
    "base_returned_commission",
    "base_refunded",
)


def commission_csv_records(report: CommissionReport) -> list[dict[str, Any]]:
    """One record per CSV line: every storefront and period, each storefront's total, and the
    total of all storefronts in the base currency (its own-currency columns stay empty)."""
    records: list[dict[str, Any]] = []
    for row in (*report.rows, *report.totals):
        values = row.as_dict()
        base = values.pop("base") or {}
        rate = values.pop("commission_rate")
        values["commission_percent"] = rate["percent"]
        values["base_currency"] = report.base_currency
        values.update({f"base_{name}": amount for name, amount in base.items()})
        records.append(values)
    whole = report.as_dict()
    records.append(
        {
            "storefront": "all",
            "period": "total",
            "start": whole["from"],
            "end": whole["to"],
            "lines": report.total["lines"],
            "base_currency": report.base_currency,
            **{f"base_{name}": amount for name, amount in report.total.items() if name != "lines"},
        }
    )
    return records


def commission_csv(report: CommissionReport) -> str:
    """The report as CSV text: a header line of :data:`CSV_COLUMNS`, then
    :func:`commission_csv_records` (``\\n`` line ends, empty cells for missing values)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in commission_csv_records(report):
        writer.writerow(["" if record.get(name) is None else record[name] for name in CSV_COLUMNS])
    return out.getvalue()
