"""The Customers pages: the buyers behind the orders, for any signed-in user (viewer and up).

A customer is a :class:`~kaufland_sync.store.models.orders.Customer` row: one per account and
Kaufland ``id_buyer``, so the same buyer ordering twice is one customer (deduplicated by the
orders import). Kaufland gives a buyer no name of its own; the name shown (and searched) is the
one on their orders' billing and shipping addresses, which Kaufland hides while an order is
``open`` — a customer may therefore show no name yet.

* ``GET /customers`` — search (name on any of their orders' addresses, email, or ``id_buyer``),
  account filter, with order count, revenue per currency and last order date; newest buyers
  (by last order) first, paged in SQL.
* ``GET /customers/{id}`` — one customer (``id`` is our row id: ``id_buyer`` is only unique per
  account) with the addresses they used and their orders, each linking to the order page
  ``/orders/{id_order}?account=NAME``.

Revenue is counted as the dashboard counts it, by the one rule of
:func:`kaufland_sync.reports._common.revenue_sum`: price plus shipping of every order line
Kaufland has not cancelled; it is shown in each order's currency,
never converted, so a buyer of two storefronts shows two amounts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from kaufland_sync.reports._common import revenue_sum
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import Customer, Order, OrderLine
from kaufland_sync.sync.fulfilment import format_amount
from kaufland_sync.web.pages._common import (
    Context,
    Viewer,
    account_names,
    list_response,
    missing,
    paging,
)
from kaufland_sync.web.templating import templates

__all__ = ["PAGE_SIZE", "CustomerRow", "address_name", "router"]

router = APIRouter(include_in_schema=False)


#: Customers per page of the list.
PAGE_SIZE = 50
_BIG = 2**63 - 1


def address_name(address: dict[str, Any] | None) -> str:
    """The person (or company) an address names: ``Anna Novak``, ``Anna Novak (ACME)``."""
    if not address:
        return ""
    person = " ".join(
        str(address[key]).strip() for key in ("first_name", "last_name") if address.get(key)
    )
    company = str(address.get("company_name") or "").strip()
    if person and company:
        return f"{person} ({company})"
    return person or company


def _name_expression(column: Any) -> ColumnElement[str]:
    """An address's first name, last name and company as one string, in SQL (JSON fields read
    the same way on SQLite and PostgreSQL)."""
    parts = [
        func.coalesce(column[key].as_string(), "")
        for key in ("first_name", "last_name", "company_name")
    ]
    joined: ColumnElement[str] = parts[0] + " " + parts[1] + " " + parts[2]
    return joined


@dataclass
class CustomerRow:
    """One customer as the pages show them."""

    id: int
    account: str
    id_buyer: int
    email: str | None
    orders: int
    last_order: datetime | None
    name: str = ""
    revenue: list[str] = field(default_factory=list)

    @property
    def link(self) -> str:
        return f"/customers/{self.id}"


def _search(text: str) -> ColumnElement[bool]:
    """Customers whose email, or a name on one of their orders' addresses, contains ``text``
    (any case), or whose ``id_buyer`` is ``text``."""
    named = exists(
        select(Order.id).where(
            Order.customer_id == Customer.id,
            or_(
                _name_expression(Order.billing_address).icontains(text, autoescape=True),
                _name_expression(Order.shipping_address).icontains(text, autoescape=True),
            ),
        )
    )
    terms: list[ColumnElement[bool]] = [Customer.email.icontains(text, autoescape=True), named]
    if text.isdigit() and int(text) <= _BIG:
        terms.append(Customer.id_buyer == int(text))
    return or_(*terms)


def _fill(session: Session, rows: list[CustomerRow]) -> None:
    """Add each customer's name (from their newest order with an address) and revenue per
    currency: two queries for the whole page."""
    ids = [row.id for row in rows]
    if not ids:
        return
    by_id = {row.id: row for row in rows}
    money: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for customer_id, currency, storefront, amount in session.execute(
        select(Order.customer_id, Order.currency, Order.storefront, revenue_sum())
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.customer_id.in_(ids))
        .group_by(Order.customer_id, Order.currency, Order.storefront)
    ):
        code = currency or storefront.currency.value
        money[customer_id].append((code, int(amount or 0)))
    for customer_id, amounts in money.items():
        totals: dict[str, int] = defaultdict(int)
        for code, amount in amounts:
            totals[code] += amount
        by_id[customer_id].revenue = [
            format_amount(amount, code, with_currency=True)
            for code, amount in sorted(totals.items())
        ]
    moment = func.coalesce(Order.ordered_at, Order.created_at)
    for customer_id, billing, shipping in session.execute(
        select(Order.customer_id, Order.billing_address, Order.shipping_address)
        .where(
            Order.customer_id.in_(ids),
            or_(Order.billing_address.is_not(None), Order.shipping_address.is_not(None)),
        )
        .order_by(moment.desc(), Order.id.desc())
    ):
        row = by_id[customer_id]
        if not row.name:
            row.name = address_name(billing) or address_name(shipping)


@router.get("/customers", response_class=HTMLResponse)
def customers_page(
    request: Request,
    context: Context,
    user: Viewer,
    q: Annotated[str, Query(max_length=200)] = "",
    account: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[str, Query(max_length=8)] = "1",
) -> HTMLResponse:
    """The list, one page of :data:`PAGE_SIZE`. An htmx request (the search form) gets only
    the results fragment. An unknown account is reported and ignored."""
    text = q.strip()
    problems: list[str] = []
    moment = func.coalesce(Order.ordered_at, Order.created_at)
    stats = (
        select(
            Order.customer_id.label("customer_id"),
            func.count(Order.id).label("orders"),
            func.max(moment).label("last_order"),
        )
        .where(Order.customer_id.is_not(None))
        .group_by(Order.customer_id)
        .subquery()
    )
    with context.factory() as session:
        names = account_names(session)
        where: list[ColumnElement[bool]] = []
        if account:
            if account in names:
                where.append(Account.name == account)
            else:
                problems.append(f"Account: there is no account named {account!r}.")
                account = ""
        if text:
            where.append(_search(text))
        total = (
            session.scalar(
                select(func.count(Customer.id))
                .join(Account, Account.id == Customer.account_id)
                .where(*where)
            )
            or 0
        )
        filters = {"q": text, "account": account}
        pager = paging("/customers", filters, total, page, PAGE_SIZE)
        found = session.execute(
            select(
                Customer.id,
                Account.name,
                Customer.id_buyer,
                Customer.email,
                func.coalesce(stats.c.orders, 0),
                stats.c.last_order,
            )
            .join(Account, Account.id == Customer.account_id)
            .outerjoin(stats, stats.c.customer_id == Customer.id)
            .where(*where)
            .order_by(stats.c.last_order.desc().nulls_last(), Customer.id.desc())
            .limit(PAGE_SIZE)
            .offset(pager.offset)
        )
        rows = [
            CustomerRow(
                id=ident,
                account=name,
                id_buyer=id_buyer,
                email=email,
                orders=int(orders),
                last_order=_as_datetime(last),
            )
            for ident, name, id_buyer, email, orders, last in found
        ]
        _fill(session, rows)
    values = {
        "user": user,
        "rows": rows,
        "total": total,
        **pager.values(),
        "filters": filters,
        "accounts": names,
        "problems": problems,
    }
    return list_response(request, "customers", values)


def _as_datetime(value: Any) -> datetime | None:
    """``max()`` over the order dates: a datetime on PostgreSQL; SQLite may hand back the stored
    text, read here the way the column type stores it (ISO, UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(
    request: Request,
    context: Context,
    user: Viewer,
    customer_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    """One customer: the addresses they used (each once) and their orders, newest first."""
    moment = func.coalesce(Order.ordered_at, Order.created_at)
    with context.factory() as session:
        found = session.execute(
            select(Customer, Account.name)
            .join(Account, Account.id == Customer.account_id)
            .where(Customer.id == customer_id)
        ).first()
        if found is None:
            return missing(
                request,
                user,
                f"There is no customer {customer_id} in the local store; customers come with "
                "the orders import.",
                title="Customer not found",
                back=("/customers", "Back to the customers"),
            )
        customer, account = found
        orders = list(
            session.scalars(
                select(Order)
                .where(Order.customer_id == customer.id)
                .order_by(moment.desc(), Order.id.desc())
            )
        )
        totals = {
            order_id: (int(amount or 0), int(lines))
            for order_id, amount, lines in session.execute(
                select(Order.id, revenue_sum(), func.count(OrderLine.id))
                .join(OrderLine, OrderLine.order_id == Order.id)
                .where(Order.customer_id == customer.id)
                .group_by(Order.id)
            )
        }
        row = CustomerRow(
            id=customer.id,
            account=account,
            id_buyer=customer.id_buyer,
            email=customer.email,
            orders=len(orders),
            last_order=max(
                (o.ordered_at or o.created_at for o in orders if o.ordered_at or o.created_at),
                default=None,
            ),
        )
        _fill(session, [row])
    # Each address once; one used for billing and shipping says so.
    addresses: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for order in orders:
        for kind, address in (
            ("billing", order.billing_address),
            ("shipping", order.shipping_address),
        ):
            if not address:
                continue
            key = tuple(sorted((k, str(v)) for k, v in address.items() if v))
            seen = addresses.get(key)
            if seen is not None:
                if kind not in seen["kinds"]:
                    seen["kinds"].append(kind)
                continue
            addresses[key] = {
                "kinds": [kind],
                "name": address_name(address),
                "street": " ".join(
                    str(address[k]) for k in ("street", "house_number") if address.get(k)
                ),
                "extra": address.get("additional_field") or "",
                "city": " ".join(str(address[k]) for k in ("postcode", "city") if address.get(k)),
                "country": address.get("country") or "",
                "phone": address.get("phone") or "",
                "last_used": order.id_order,
            }
    order_rows = [
        {
            "id_order": order.id_order,
            "link": f"/orders/{quote(order.id_order, safe='')}?" + urlencode({"account": account}),
            "storefront": order.storefront.value,
            "date": order.ordered_at or order.created_at,
            "status": order.local_status or order.status,
            "lines": totals.get(order.id, (0, 0))[1],
            "revenue": format_amount(
                totals.get(order.id, (0, 0))[0],
                order.currency or order.storefront.currency.value,
                with_currency=True,
            ),
        }
        for order in orders
    ]
    return templates.TemplateResponse(
        request,
        "pages/customers_detail.html",
        {"user": user, "row": row, "addresses": list(addresses.values()), "orders": order_rows},
    )
