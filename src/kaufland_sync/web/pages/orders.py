"""The Orders pages: the list of imported orders, one order's detail, and the forms that ship,
cancel and attach an invoice to it.

Reading is for every signed-in user (viewer and up); the forms are for operators. Each form
goes through the same engine functions as ``kaufland-sync orders ship|cancel|invoice`` and the
REST API (:mod:`kaufland_sync.sync.fulfilment`): the order is checked and its outbox messages
written in one transaction, then an ``outbox`` job is submitted so a worker sends them in
moments. When a check fails nothing is queued and the page comes back (422) with the message
next to the field it is about, the operator's input kept.

An order is addressed as ``/orders/{id_order}?account=NAME``: Kaufland's ``id_order`` is unique
per seller only, so two accounts may hold the same one; without ``account`` the page finds the
only account holding it, or asks which one is meant.

The detail page's outbox panel reloads itself with htmx (``GET .../outbox``) every few seconds
while a message of the order is still on its way, so a shipment is seen going from ``pending``
to ``done`` (or ``failed`` with Kaufland's reason) without reloading the page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import String, cast, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from kaufland_sync.logging import get_logger
from kaufland_sync.reports.commission import line_commission
from kaufland_sync.sellerapi.models.order_units import OrderUnitCancelReason, OrderUnitStatus
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import (
    Customer,
    MappingKind,
    Order,
    OrderLine,
    OrderMapping,
)
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.store.models.returns import Refund
from kaufland_sync.store.models.users import Role, User
from kaufland_sync.sync import fulfilment
from kaufland_sync.sync.outbox import list_messages, payload_view
from kaufland_sync.web.api.orders import CARRIERS_STATE, CarrierSource
from kaufland_sync.web.deps import WebContext
from kaufland_sync.web.pages._common import (
    Context,
    CsrfChecked,
    Operator,
    Viewer,
    account_names,
    missing,
    page_count,
    submit_outbox,
)
from kaufland_sync.web.templating import templates

__all__ = ["OUTBOX_REFRESH_SECONDS", "PAGE_SIZE", "ListFilters", "router"]

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

#: Orders per page of the list.
PAGE_SIZE = 50
#: How often the detail page's outbox panel reloads while a message is on its way (seconds).
OUTBOX_REFRESH_SECONDS = 2
#: The longest search text and tracking text taken (more is a typo or an attack, not an order).
_MAX_SEARCH = 100
_MAX_TRACKING_TEXT = 2000


# Messages that are still on their way: the panel keeps polling while one of them is there.
_MOVING = frozenset({OutboxState.PENDING, OutboxState.SENDING})
_SHIPPABLE = frozenset({"need_to_be_sent", "sent", "sent_and_autopaid", "received"})
_CANCELLABLE = frozenset({"open", "need_to_be_sent"})
_NOT_SHIPPED = frozenset({"open", "need_to_be_sent"})

#: Kaufland's cancel reasons in words people read; the value sent is Kaufland's code.
CANCEL_REASON_LABELS: dict[OrderUnitCancelReason, str] = {
    OrderUnitCancelReason.NO_INVENTORY: "Out of stock",
    OrderUnitCancelReason.DELAYED_INVENTORY: "Stock delayed",
    OrderUnitCancelReason.BUYER_CANCELLED: "Buyer asked to cancel",
    OrderUnitCancelReason.WRONG_PRICE: "Wrong price",
    OrderUnitCancelReason.WRONG_CATALOG_DATA: "Wrong product data",
    OrderUnitCancelReason.SHIPPING_ADDRESS_UNDELIVERABLE: "Address undeliverable",
    OrderUnitCancelReason.UNDELIVERABLE_REGION: "No shipping to the region",
    OrderUnitCancelReason.NO_REACTION_BUYER: "Buyer does not answer",
    OrderUnitCancelReason.MERCHANDISE_NOT_RECEIVED: "Supplier did not deliver",
    OrderUnitCancelReason.GENERAL_ADJUSTMENT: "Other",
}


# --- small formatting helpers -----------------------------------------------------------------


def _money(minor: int | None, currency: str | None) -> str:
    if minor is None:
        return ""
    return fulfilment.format_amount(minor, currency, with_currency=True)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _person(address: dict[str, Any] | None) -> str:
    if not address:
        return ""
    parts = (address.get("first_name"), address.get("last_name"))
    return " ".join(str(p) for p in parts if p)


def _address_lines(address: dict[str, Any] | None) -> list[str]:
    """An address as the lines of a label; empty while Kaufland hides it."""
    if not address:
        return []
    street = " ".join(str(p) for p in (address.get("street"), address.get("house_number")) if p)
    town = " ".join(str(p) for p in (address.get("postcode"), address.get("city")) if p)
    lines = [
        _person(address),
        str(address.get("company_name") or ""),
        street,
        str(address.get("additional_field") or ""),
        town,
        str(address.get("country") or ""),
        str(address.get("phone") or ""),
    ]
    return [line for line in lines if line]


def _product(line: OrderLine) -> dict[str, Any]:
    raw = line.raw or {}
    product = raw.get("product")
    return product if isinstance(product, dict) else {}


# --- the list -------------------------------------------------------------------------------


@dataclass
class ListFilters:
    """The list's filters as read from the query, with an error per field that was not
    understood (the field is then ignored, and the page says so)."""

    account: str = ""
    storefront: str = ""
    status: str = ""
    local_status: str = ""
    q: str = ""
    date_from: str = ""
    date_to: str = ""
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, query: Any) -> ListFilters:
        found = cls(
            account=str(query.get("account", "")).strip()[:64],
            storefront=str(query.get("storefront", "")).strip().lower()[:2],
            status=str(query.get("status", "")).strip()[:32],
            local_status=str(query.get("local_status", "")).strip()[:64],
            q=str(query.get("q", "")).strip()[:_MAX_SEARCH],
            date_from=str(query.get("from", "")).strip()[:10],
            date_to=str(query.get("to", "")).strip()[:10],
        )
        if found.storefront and found.storefront not in {s.value for s in Storefront}:
            found.errors["storefront"] = f"{found.storefront!r} is not a storefront"
        if found.status and found.status not in {s.value for s in OrderUnitStatus}:
            found.errors["status"] = f"{found.status!r} is not a Kaufland status"
        for name in ("date_from", "date_to"):
            text = getattr(found, name)
            if text and found._date(text) is None:
                label = "from" if name == "date_from" else "to"
                found.errors[label] = f"{text!r} is not a date (YYYY-MM-DD)"
        start, end = found.start(), found.end()
        if start is not None and end is not None and start >= end:
            found.errors["to"] = "the end date is before the start date"
        try:
            found.page = max(1, min(int(str(query.get("page", "1"))), 100_000))
        except ValueError:
            found.page = 1
        return found

    @staticmethod
    def _date(text: str) -> date | None:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None

    def start(self) -> datetime | None:
        day = self._date(self.date_from) if self.date_from else None
        return datetime.combine(day, time(0), UTC) if day else None

    def end(self) -> datetime | None:
        """The first moment after the ``to`` day (the range includes the whole day)."""
        day = self._date(self.date_to) if self.date_to else None
        return datetime.combine(day + timedelta(days=1), time(0), UTC) if day else None

    def query_string(self, **changes: Any) -> str:
        values = {
            "account": self.account,
            "storefront": self.storefront,
            "status": self.status,
            "local_status": self.local_status,
            "q": self.q,
            "from": self.date_from,
            "to": self.date_to,
            "page": str(self.page) if self.page > 1 else "",
        }
        values.update({k: str(v) for k, v in changes.items()})
        if values["page"] == "1":
            values["page"] = ""
        return urlencode({k: v for k, v in values.items() if v})


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search(term: str) -> ColumnElement[bool]:
    """Orders whose id, buyer e-mail or buyer name (in either address) contains ``term``.

    Addresses are JSON; they are searched as their text. The store writes JSON with non-ASCII
    letters escaped (``\\u00fc``), so the escaped spelling of the term is tried as well."""
    spellings = {term, json.dumps(term)[1:-1]}
    conditions: list[ColumnElement[bool]] = [Order.id_order.ilike(_like(term), escape="\\")]
    for spelling in spellings:
        pattern = _like(spelling)
        conditions.append(cast(Order.shipping_address, String).ilike(pattern, escape="\\"))
        conditions.append(cast(Order.billing_address, String).ilike(pattern, escape="\\"))
    emails = select(Customer.id).where(Customer.email.ilike(_like(term), escape="\\"))
    conditions.append(Order.customer_id.in_(emails))
    return or_(*conditions)


def _list_orders(context: WebContext, filters: ListFilters) -> dict[str, Any]:
    """One page of orders matching ``filters``, newest first, and the filters' choices."""
    with context.factory() as session:
        accounts = account_names(session)
        local_statuses = sorted(
            s for s in session.scalars(select(OrderLine.local_status).distinct()) if s
        )
        query = select(Order, Account.name, Customer.email).join(
            Account, Account.id == Order.account_id
        )
        query = query.outerjoin(Customer, Customer.id == Order.customer_id)
        if filters.account:
            if filters.account not in accounts:
                filters.errors["account"] = f"there is no account named {filters.account!r}"
            query = query.where(Account.name == filters.account)
        if filters.storefront and "storefront" not in filters.errors:
            query = query.where(Order.storefront == Storefront(filters.storefront))
        line_of_order = OrderLine.order_id == Order.id
        if filters.status and "status" not in filters.errors:
            query = query.where(exists().where(line_of_order, OrderLine.status == filters.status))
        if filters.local_status:
            query = query.where(
                exists().where(line_of_order, OrderLine.local_status == filters.local_status)
            )
        if filters.q:
            query = query.where(_search(filters.q))
        if "from" not in filters.errors and (start := filters.start()) is not None:
            query = query.where(Order.ordered_at >= start)
        if "to" not in filters.errors and (end := filters.end()) is not None:
            query = query.where(Order.ordered_at < end)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        pages = page_count(total, PAGE_SIZE)
        filters.page = min(filters.page, pages)
        rows = list(
            session.execute(
                query.options(selectinload(Order.lines))
                .order_by(Order.ordered_at.desc(), Order.id.desc())
                .limit(PAGE_SIZE)
                .offset((filters.page - 1) * PAGE_SIZE)
            )
        )
        items = [_row(order, name, email) for order, name, email in rows]
    return {
        "orders": items,
        "total": total,
        "page_count": pages,
        "accounts": accounts,
        "storefronts": [s.value for s in Storefront],
        "statuses": [s.value for s in OrderUnitStatus],
        "local_statuses": local_statuses,
    }


def _row(order: Order, account: str, email: str | None) -> dict[str, Any]:
    buyer = _person(order.shipping_address) or _person(order.billing_address)
    total = sum((line.price or 0) + (line.shipping_rate or 0) for line in order.lines)
    return {
        "id_order": order.id_order,
        "account": account,
        "href": _detail_url(order.id_order, account),
        "storefront": order.storefront.value,
        "ordered_at": _when(order.ordered_at),
        "buyer": buyer,
        "email": email or "",
        "units": len(order.lines),
        "total": _money(total, order.currency) if order.lines else "",
        "status": order.status,
        "local_status": order.local_status,
    }


def _detail_url(id_order: str, account: str, **extra: str) -> str:
    from urllib.parse import quote

    query = urlencode({"account": account, **extra})
    return f"/orders/{quote(id_order, safe='')}?{query}"


@router.get("/orders", response_class=HTMLResponse)
def orders_page(request: Request, context: Context, user: Viewer) -> HTMLResponse:
    """The list of imported orders, newest first, filtered and paged from the query."""
    filters = ListFilters.parse(request.query_params)
    data = _list_orders(context, filters)
    return templates.TemplateResponse(
        request,
        "pages/orders_list.html",
        {"user": user, "filters": filters, **data},
    )


# --- one order ------------------------------------------------------------------------------


class _Lookup(Exception):
    """The order cannot be shown: not found (404) or held by several accounts (409)."""

    def __init__(self, status: int, message: str, choices: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.choices = list(choices)


def _owner(session: Session, id_order: str, account: str | None) -> Account:
    """The account holding ``id_order``: the one named, else the only one holding it."""
    query = (
        select(Account)
        .join(Order, Order.account_id == Account.id)
        .where(Order.id_order == id_order)
        .order_by(Account.name)
    )
    if account:
        query = query.where(Account.name == account)
    found = list(session.scalars(query))
    if not found:
        where = f" in account {account!r}" if account else ""
        raise _Lookup(404, f"There is no order {id_order!r}{where} in the local store.")
    if len(found) > 1:
        raise _Lookup(
            409,
            f"Order {id_order!r} exists in several accounts; choose one.",
            [a.name for a in found],
        )
    return found[0]


def _load_order(session: Session, owner: Account, id_order: str) -> Order:
    order = session.scalar(
        select(Order)
        .where(Order.account_id == owner.id, Order.id_order == id_order)
        .options(selectinload(Order.lines))
    )
    if order is None:  # deleted between the two queries
        raise _Lookup(404, f"There is no order {id_order!r} in the local store.")
    return order


def _message_row(message: OutboxMessage, currency: str | None) -> dict[str, Any]:
    """An outbox message as the panel shows it: what it does in a few words, never the
    attachment's bytes."""
    payload = payload_view(message)
    action = message.action
    if action is OutboxAction.SEND:
        what = f"{payload.get('carrier_code', '?')} {payload.get('tracking_numbers') or ''}"
    elif action is OutboxAction.ADD_SHIPMENT:
        what = f"{payload.get('carrier_code', '?')} {payload.get('tracking_number', '')}"
    elif action is OutboxAction.CANCEL:
        what = str(payload.get("reason", ""))
    elif action is OutboxAction.REFUND and isinstance(payload.get("amount"), int):
        what = f"{_money(payload['amount'], payload.get('currency') or currency)} "
        what += str(payload.get("reason", ""))
    elif action is OutboxAction.INVOICE:
        what = f"{payload.get('original_name', '?')} ({payload.get('attachment_bytes', 0)} bytes)"
    else:
        what = str(payload.get("message") or "")
    return {
        "id": message.id,
        "action": action.value,
        "target": message.target,
        "what": what.strip(),
        "state": message.state.value,
        "attempts": message.attempts,
        "created_at": _when(message.created_at),
        "done_at": _when(message.done_at),
        "last_error": message.last_error or "",
        "result": message.result or {},
    }


def _shipments(messages: Iterable[OutboxMessage], id_order_unit: int) -> list[dict[str, Any]]:
    """Carrier and tracking numbers sent or queued for one unit, oldest first (refused ones
    left out: they never reached the buyer)."""
    found = []
    for m in sorted(messages, key=lambda m: m.id):
        if m.target != str(id_order_unit) or m.state is OutboxState.FAILED:
            continue
        if m.action not in (OutboxAction.SEND, OutboxAction.ADD_SHIPMENT):
            continue
        numbers = str(m.payload.get("tracking_numbers") or m.payload.get("tracking_number") or "")
        found.append(
            {
                "carrier": m.payload.get("carrier_code") or "",
                "tracking": [n for n in numbers.split(",") if n],
                "state": m.state.value,
                "id": m.id,
            }
        )
    return found


#: How a unit's progress is told: (action, while on its way, once Kaufland accepted it).
_PROGRESS = (
    (
        OutboxAction.CANCEL,
        "being cancelled",
        "cancelled (the import after sending brings Kaufland's status)",
    ),
    (OutboxAction.SEND, "being sent", "sent (the import after sending brings Kaufland's status)"),
)


def _progress(messages: Iterable[OutboxMessage], id_order_unit: int) -> str:
    """What the outbox is doing to a unit that the last import cannot know yet: a cancel or a
    send queued or accepted (not refused). Such a unit is not offered again for the same
    action: the import the outbox job runs after sending brings Kaufland's new status."""
    live = [
        (m.action, m.state)
        for m in messages
        if m.target == str(id_order_unit) and m.state is not OutboxState.FAILED
    ]
    for action, moving, accepted in _PROGRESS:
        states = [state for kind, state in live if kind is action]
        if OutboxState.DONE in states:
            return accepted
        if states:
            return moving
    return ""


def _outbox_panel(session: Session, order: Order, account: str) -> dict[str, Any]:
    messages = list_messages(session, order_id=order.id)
    rows = [_message_row(m, order.currency) for m in messages]
    return {
        "outbox": rows,
        "outbox_moving": any(m.state in _MOVING for m in messages),
        "outbox_url": _detail_url(order.id_order, account).replace("?", "/outbox?", 1),
        "refresh_seconds": OUTBOX_REFRESH_SECONDS,
    }


def _order_view(context: WebContext, id_order: str, account: str | None) -> dict[str, Any]:
    """Everything the detail page shows about one order."""
    now = context.clock()
    with context.factory() as session:
        owner = _owner(session, id_order, account)
        order = _load_order(session, owner, id_order)
        customer = session.get(Customer, order.customer_id) if order.customer_id else None
        messages = list_messages(session, order_id=order.id)
        refunds = list(
            session.scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id))
        )
        states = {m.id: m.state.value for m in messages}
        lines = []
        commission_total = 0
        commission_known = False
        for line in sorted(order.lines, key=lambda line: line.id_order_unit):
            product = _product(line)
            eans = product.get("eans") or []
            deadline = line.delivery_time_expires_iso
            progress = _progress(messages, line.id_order_unit)
            commission = line_commission(line.price, line.shipping_rate, line.revenue_gross)
            if commission is not None and line.status != "cancelled":
                commission_total += commission
                commission_known = True
            lines.append(
                {
                    "id_order_unit": line.id_order_unit,
                    "sku": line.sku or "",
                    "ean": ", ".join(str(e) for e in eans) if isinstance(eans, list) else "",
                    "title": str(product.get("title") or ""),
                    "price": _money(line.price, order.currency),
                    "shipping": _money(line.shipping_rate, order.currency),
                    "commission": _money(commission, order.currency),
                    "status": line.status,
                    "local_status": line.local_status,
                    "deadline": _when(deadline),
                    "late": bool(deadline and line.status in _NOT_SHIPPED and deadline < now),
                    "sent_at": _when(line.sent_at),
                    "cancel_reason": line.cancel_reason or "",
                    "shipments": _shipments(messages, line.id_order_unit),
                    "progress": progress,
                    "can_ship": line.status in _SHIPPABLE and "cancel" not in progress,
                    "can_cancel": line.status in _CANCELLABLE and not progress,
                    "waiting": line.status == "need_to_be_sent" and not progress,
                }
            )
        invoices = [
            _message_row(m, order.currency)
            for m in sorted(messages, key=lambda m: m.id)
            if m.action is OutboxAction.INVOICE
        ]
        mapped_reasons = list(
            session.scalars(
                select(OrderMapping.source)
                .where(
                    OrderMapping.account_id == owner.id,
                    OrderMapping.kind == MappingKind.CANCEL_REASON,
                    OrderMapping.storefront.in_(["", order.storefront.value]),
                )
                .distinct()
                .order_by(OrderMapping.source)
            )
        )
        view = {
            "account": owner.name,
            "id_order": order.id_order,
            "storefront": order.storefront.value,
            "currency": order.currency or "",
            "ordered_at": _when(order.ordered_at),
            "status": order.status,
            "local_status": order.local_status,
            "payment_method": order.payment_method or "",
            "shipping_method": order.shipping_method or "",
            "buyer": _person(order.billing_address) or _person(order.shipping_address),
            "email": customer.email if customer and customer.email else "",
            "id_buyer": customer.id_buyer if customer else None,
            "shipping_address": _address_lines(order.shipping_address),
            "billing_address": _address_lines(order.billing_address),
            "lines": lines,
            "refunds": [
                {
                    "id_order_unit": r.id_order_unit,
                    "amount": _money(r.amount, r.currency),
                    "reason": r.reason,
                    "state": states.get(r.outbox_id, "") if r.outbox_id else "",
                    "created_at": _when(r.created_at),
                }
                for r in refunds
            ],
            "invoices": invoices,
            "commission": _money(commission_total, order.currency) if commission_known else "",
            "total": _money(
                sum((line.price or 0) + (line.shipping_rate or 0) for line in order.lines),
                order.currency,
            ),
            "mapped_reasons": mapped_reasons,
            "action_query": urlencode({"account": owner.name}),
            **_outbox_panel(session, order, owner.name),
        }
    return view


def _carrier_source(request: Request) -> CarrierSource:
    source: CarrierSource = getattr(request.app.state, CARRIERS_STATE)
    return source


Carriers = Annotated[CarrierSource, Depends(_carrier_source)]


async def _carriers(context: WebContext, carriers_for: CarrierSource, account: str) -> list[str]:
    """Kaufland's carrier names for the ship form (the same source the API checks against)."""

    def owner() -> Account:
        with context.factory() as session:
            found = session.scalar(select(Account).where(Account.name == account))
            if found is None:
                raise _Lookup(404, f"There is no account {account!r}.")
            return found

    return sorted(await carriers_for(context, await run_in_threadpool(owner)), key=str.lower)


def _can_act(user: User) -> bool:
    return user.role.allows(Role.OPERATOR)


def _problem_page(request: Request, user: User, problem: _Lookup, id_order: str) -> HTMLResponse:
    return missing(
        request,
        user,
        problem.message,
        title="Order",
        back=("/orders", "Back to the orders"),
        choices=[(f"In account {name}", _detail_url(id_order, name)) for name in problem.choices],
        status_code=problem.status,
    )


async def _render_detail(
    request: Request,
    context: WebContext,
    user: User,
    carriers_for: CarrierSource,
    id_order: str,
    account: str | None,
    *,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        view = await run_in_threadpool(_order_view, context, id_order, account)
    except _Lookup as problem:
        return _problem_page(request, user, problem, id_order)
    can_act = _can_act(user)
    carriers: list[str] = []
    shipping = (
        any(line["can_ship"] for line in view["lines"]) or (form or {}).get("action") == "ship"
    )
    if can_act and shipping:
        carriers = await _carriers(context, carriers_for, view["account"])
    notice = _notice(request.query_params) if form is None else ""
    return templates.TemplateResponse(
        request,
        "pages/orders_detail.html",
        {
            "user": user,
            "order": view,
            "can_act": can_act,
            "carriers": carriers,
            "cancel_reasons": [(r.value, label) for r, label in CANCEL_REASON_LABELS.items()],
            "form": form or {"action": "", "errors": {}, "input": {}},
            "notice": notice,
            "max_invoice_mb": fulfilment.MAX_INVOICE_BYTES // (1024 * 1024),
        },
        status_code=status_code,
    )


_NOTICES = {
    "ship": "Shipment queued",
    "cancel": "Cancellation queued",
    "invoice": "Invoice upload queued",
}


def _notice(query: Any) -> str:
    """The message after a form was accepted (the form redirects here with ``done=``)."""
    done = _NOTICES.get(str(query.get("done", "")))
    if done is None:
        return ""
    try:
        new, again = int(str(query.get("new", "0"))), int(str(query.get("again", "0")))
    except ValueError:
        return done + "."
    parts = []
    if new:
        parts.append(f"{new} new outbox message{'s' if new != 1 else ''}")
    if again:
        parts.append(f"{again} queued before (the same command was given already)")
    details = f": {', '.join(parts)}" if parts else ""
    return f"{done}{details}. The outbox below shows when Kaufland has accepted it."


@router.get("/orders/{id_order}", response_class=HTMLResponse)
async def order_page(
    request: Request,
    context: Context,
    user: Viewer,
    carriers_for: Carriers,
    id_order: str,
    account: str | None = None,
) -> HTMLResponse:
    """One order: buyer, addresses, lines, shipments, outbox, refunds, invoices and, for
    operators, the ship, cancel and invoice forms."""
    return await _render_detail(request, context, user, carriers_for, id_order[:64], account)


@router.get("/orders/{id_order}/outbox", response_class=HTMLResponse)
def outbox_fragment(
    request: Request, context: Context, user: Viewer, id_order: str, account: str | None = None
) -> HTMLResponse:
    """The detail page's outbox panel, for htmx to swap in while messages move, with the order
    units table (swapped out of band) whose tracking and progress notes follow the outbox."""
    try:
        view = _order_view(context, id_order[:64], account)
    except _Lookup as problem:
        return HTMLResponse(f"<p class='notice error'>{_escape(problem.message)}</p>", 404)
    return templates.TemplateResponse(request, "pages/orders_refresh.html", {"order": view})


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


# --- actions --------------------------------------------------------------------------------


def _queue(
    context: WebContext, make: Callable[[Session], list[fulfilment.Queued]]
) -> list[fulfilment.Queued]:
    """Run ``make`` in one transaction: every message it queues is written, or none."""
    with transaction(context.factory) as session:
        return make(session)


def _done(
    id_order: str, account: str, action: str, queued: Sequence[fulfilment.Queued]
) -> Response:
    new = sum(1 for q in queued if q.new)
    url = _detail_url(id_order, account, done=action, new=str(new), again=str(len(queued) - new))
    return RedirectResponse(url + "#outbox", status_code=303)


def _text(value: object, *, strip: bool = True) -> str:
    """A form field's text; a file sent where text belongs counts as nothing."""
    if not isinstance(value, str):
        return ""
    return value.strip() if strip else value


def _units(values: Sequence[Any]) -> tuple[list[int], str | None]:
    """The ticked order units as numbers, or the reason they are not."""
    units: list[int] = []
    for value in values:
        text = _text(value)
        if not text.isdigit() or len(text) > 20:
            return [], f"{text[:30]!r} is not an order unit id"
        units.append(int(text))
    if not units:
        return [], "tick at least one order unit"
    return units, None


@dataclass(frozen=True)
class _Posted:
    """What every order form's route is given: the request, the app's context, the operator
    (CSRF checked) and the carrier source of the ship form."""

    request: Request
    context: WebContext
    user: User
    carriers_for: CarrierSource


def _posted(
    request: Request, context: Context, user: Operator, _csrf: CsrfChecked, carriers_for: Carriers
) -> _Posted:
    return _Posted(request, context, user, carriers_for)


Posted = Annotated[_Posted, Depends(_posted)]


async def _act(
    posted: _Posted,
    id_order: str,
    account: str | None,
    action: str,
    values: dict[str, Any],
    run: Callable[[Session, Account, Order], list[fulfilment.Queued]],
    *,
    errors: dict[str, str] | None = None,
) -> Response:
    """Check and queue one form's action, or show the page again with the error by its
    field (422) and nothing queued."""
    request, context, user, carriers_for = (
        posted.request,
        posted.context,
        posted.user,
        posted.carriers_for,
    )
    id_order = id_order[:64]

    def owner() -> Account:
        with context.factory() as session:
            found = _owner(session, id_order, account)
            session.expunge(found)
            return found

    async def render_error(found: dict[str, str]) -> HTMLResponse:
        return await _render_detail(
            request,
            context,
            user,
            carriers_for,
            id_order,
            account,
            form={"action": action, "errors": found, "input": values},
            status_code=422,
        )

    try:
        holder = await run_in_threadpool(owner)
    except _Lookup as problem:
        return _problem_page(request, user, problem, id_order)
    if errors:
        return await render_error(errors)

    def make(session: Session) -> list[fulfilment.Queued]:
        order = fulfilment.find_order(session, holder.id, id_order)
        return run(session, holder, order)

    try:
        queued = await run_in_threadpool(_queue, context, make)
    except fulfilment.FulfilmentError as exc:
        log.info("order action refused", action=action, id_order=id_order, field=exc.field)
        return await render_error({exc.field: exc.message})
    await run_in_threadpool(submit_outbox, context, holder.id)
    log.info("order action queued", action=action, id_order=id_order, user=user.name)
    return _done(id_order, holder.name, action, queued)


@router.post("/orders/{id_order}/ship", response_class=HTMLResponse)
async def ship_form(posted: Posted, id_order: str, account: str | None = None) -> Response:
    """Ship the ticked units with a carrier and one tracking number per line of the box."""
    context = posted.context
    form = await posted.request.form()
    try:
        carrier = _text(form.get("carrier"))[:128]
        tracking_text = _text(form.get("tracking"), strip=False)
        units, unit_error = _units(form.getlist("units"))
    finally:
        await form.close()
    errors: dict[str, str] = {}
    if unit_error:
        errors["units"] = unit_error
    if len(tracking_text) > _MAX_TRACKING_TEXT:
        errors["tracking"] = f"at most {_MAX_TRACKING_TEXT} characters of tracking numbers"
    numbers = [n.strip() for n in tracking_text.splitlines() if n.strip()]
    values = {"carrier": carrier, "tracking": tracking_text[:_MAX_TRACKING_TEXT], "units": units}
    if not carrier:
        errors["carrier"] = "choose a carrier"
    names: list[str] = []
    if not errors:
        try:
            view_account = account
            if view_account is None:
                view_account = (await run_in_threadpool(_owner_name, context, id_order)) or ""
            names = await _carriers(context, posted.carriers_for, view_account)
        except _Lookup:
            names = []  # _act answers the missing order itself

    def run(session: Session, holder: Account, order: Order) -> list[fulfilment.Queued]:
        return fulfilment.ship(
            session,
            holder.id,
            order.id_order,
            carrier=carrier,
            tracking_numbers=numbers,
            carriers=names,
            units=units,
            now=context.clock(),
        )

    return await _act(posted, id_order, account, "ship", values, run, errors=errors)


def _owner_name(context: WebContext, id_order: str) -> str | None:
    with context.factory() as session:
        try:
            return _owner(session, id_order[:64], None).name
        except _Lookup:
            return None


@router.post("/orders/{id_order}/cancel", response_class=HTMLResponse)
async def cancel_form(posted: Posted, id_order: str, account: str | None = None) -> Response:
    """Cancel the ticked units with a reason (Kaufland's, or a word the account maps)."""
    context = posted.context
    form = await posted.request.form()
    try:
        reason = _text(form.get("reason"))[:128]
        units, unit_error = _units(form.getlist("units"))
    finally:
        await form.close()
    errors: dict[str, str] = {}
    if unit_error:
        errors["units"] = unit_error
    if not reason:
        errors["reason"] = "choose a reason"
    values = {"reason": reason, "units": units}

    def run(session: Session, holder: Account, order: Order) -> list[fulfilment.Queued]:
        return fulfilment.cancel(
            session, holder.id, order.id_order, reason=reason, units=units, now=context.clock()
        )

    return await _act(posted, id_order, account, "cancel", values, run, errors=errors)


@router.post("/orders/{id_order}/invoice", response_class=HTMLResponse)
async def invoice_form(posted: Posted, id_order: str, account: str | None = None) -> Response:
    """Attach an invoice PDF to the order (uploaded to Kaufland by the outbox)."""
    context = posted.context
    form = await posted.request.form()
    errors: dict[str, str] = {}
    content = b""
    name = ""
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors["file"] = "choose a PDF file"
        else:
            name = upload.filename
            # One byte more than allowed is enough to tell a file that is too large.
            content = await upload.read(fulfilment.MAX_INVOICE_BYTES + 1)
    finally:
        await form.close()

    def run(session: Session, holder: Account, order: Order) -> list[fulfilment.Queued]:
        return [
            fulfilment.invoice(
                session, holder.id, order.id_order, content=content, file_name=name,
                now=context.clock(),
            )
        ]  # fmt: skip

    return await _act(posted, id_order, account, "invoice", {"file": name}, run, errors=errors)
