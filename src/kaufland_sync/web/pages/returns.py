"""The Returns pages: what buyers sent back, how long is left before Kaufland decides on the
seller's behalf, and the seller's decisions and refunds.

* ``GET /returns`` lists returns with their units (filters: account, storefront, unit status or
  ``open``, a search over ids, order, SKU and tracking code). The default order puts the most
  urgent first: the unit whose deadline is nearest (or passed longest ago), then returns still
  waiting for the seller, then the newest. The deadline is Python (working days,
  :func:`kaufland_sync.sync.returns.decide_by`), so the filtered rows are sorted and paged here
  rather than in SQL; returns are few next to orders, so that stays cheap.
* ``GET /returns/{id_return}?account=NAME`` shows one return (``account`` only matters when two
  accounts hold the same Kaufland id): units, their order lines, queued decisions and refunds.
* ``POST /returns/{id_return}/units/{id_return_unit}/{decision}`` (operator) gives a decision
  through :func:`kaufland_sync.sync.returns.decide`, the function behind ``kaufland-sync returns
  accept|reject|clarify|repair``; it checks the status and the message and queues the outbox
  message, or refuses and queues nothing.
* ``POST /returns/{id_return}/refund`` (operator) refunds an order unit of the return through
  :func:`kaufland_sync.sync.fulfilment.refund`, as ``kaufland-sync orders refund`` does.

Unlike the commands, which send at once and wait, a page does not hold the browser while
Kaufland answers: it queues an ``outbox`` job (as the REST API does) that a worker runs in
moments, and the detail page shows where each message stands. The unit's status itself changes
with the next returns import, which reads what Kaufland made of the decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from kaufland_sync.logging import get_logger
from kaufland_sync.sellerapi.models.order_units import OrderUnitRefundReason
from kaufland_sync.sellerapi.models.returns import ReturnUnitStatus
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import Order, OrderLine
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage
from kaufland_sync.store.models.returns import Refund, Return, ReturnUnit
from kaufland_sync.store.models.users import Role, User
from kaufland_sync.sync import fulfilment
from kaufland_sync.sync.fulfilment import parse_amount
from kaufland_sync.sync.returns import (
    ALLOWED_FROM,
    MESSAGE_MAX,
    OPEN_STATUSES,
    DecisionNotAllowedError,
    ReturnDecision,
    ReturnDecisionError,
    decide,
    decide_by,
    is_overdue,
    time_left,
)
from kaufland_sync.web.deps import WebContext
from kaufland_sync.web.pages._common import (
    Context,
    Csrf,
    Operator,
    Viewer,
    list_response,
    missing,
    paging,
    submit_outbox,
)
from kaufland_sync.web.templating import templates

__all__ = ["PAGE_SIZE", "ReturnRow", "UnitRow", "parse_amount", "plain_time_left", "router"]

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

#: Kaufland's ids are 64-bit: a larger number in a URL is refused before it reaches the store.
KaufId = Annotated[int, Path(ge=0, le=2**63 - 1)]

#: Returns per page of the list.
PAGE_SIZE = 50
#: The status filter's extra choice: every unit still waiting for (or in) the seller's hands.
OPEN = "open"
_UNIT_STATUSES = tuple(s.value for s in ReturnUnitStatus)
_SORTS = ("urgent", "newest")
_DECISION_ACTIONS = tuple(d.action for d in ReturnDecision)
_MAX_FIELD = 200
_BIG = 2**63 - 1


# ---------------------------------------------------------------------------------------------
# wording


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def plain_time_left(left: timedelta) -> str:
    """The time before Kaufland decides, in words a seller reads at a glance: ``2 days 4 h
    left``, ``5 h 10 min left``, ``12 min left``; once passed, ``overdue by 1 day 2 h`` (or
    ``overdue`` within the first minute). Whole minutes, rounded down, so the page never
    promises more time than there is."""
    seconds = int(left.total_seconds())
    late = seconds <= 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        text = f"{_plural(days, 'day')} {hours} h"
    elif hours:
        text = f"{hours} h {minutes} min"
    elif minutes:
        text = f"{minutes} min"
    else:
        text = ""
    if late:
        return f"overdue by {text}" if text else "overdue"
    return f"{text} left" if text else "less than a minute left"


# ---------------------------------------------------------------------------------------------
# what the templates show


@dataclass
class UnitRow:
    """One return unit as the pages show it."""

    id_return_unit: int
    status: str
    reason: str | None
    note: str | None
    id_order_unit: int | None
    id_order: str | None
    sku: str | None
    line_status: str | None
    price: str | None
    arrived_at: datetime | None
    decided_at: datetime | None
    decide_by: datetime | None
    left: timedelta | None
    overdue: bool
    restocked: bool
    allowed: tuple[str, ...]
    decisions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def left_text(self) -> str:
        if self.left is None:
            return ""
        return plain_time_left(self.left)

    @property
    def waiting(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass
class ReturnRow:
    """One return with its units."""

    account: str
    account_id: int
    id_return: int
    storefront: str | None
    status: str | None
    tracking_provider: str | None
    tracking_code: str | None
    ts_created: datetime | None
    ts_updated: datetime | None
    units: list[UnitRow]

    @property
    def left(self) -> timedelta | None:
        """The nearest deadline among the units (None: no clock runs)."""
        lefts = [u.left for u in self.units if u.left is not None]
        return min(lefts) if lefts else None

    @property
    def left_text(self) -> str:
        left = self.left
        return "" if left is None else plain_time_left(left)

    @property
    def overdue(self) -> bool:
        return any(u.overdue for u in self.units)

    @property
    def waiting(self) -> bool:
        return any(u.waiting for u in self.units)

    @property
    def orders(self) -> list[str]:
        return sorted({u.id_order for u in self.units if u.id_order})

    @property
    def link(self) -> str:
        return f"/returns/{self.id_return}?" + urlencode({"account": self.account})


def _lines(session: Session, units: Iterable[ReturnUnit]) -> dict[int, tuple[OrderLine, Order]]:
    ids = {u.order_line_id for u in units if u.order_line_id is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(OrderLine, Order)
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.id.in_(ids))
    )
    return {line.id: (line, order) for line, order in rows}


def _unit_row(
    unit: ReturnUnit, lines: dict[int, tuple[OrderLine, Order]], now: datetime
) -> UnitRow:
    found = None if unit.order_line_id is None else lines.get(unit.order_line_id)
    line, order = found if found is not None else (None, None)
    price = None
    if line is not None and order is not None and line.price is not None:
        price = fulfilment.format_amount(line.price, order.currency, with_currency=True)
    return UnitRow(
        id_return_unit=unit.id_return_unit,
        status=unit.status,
        reason=unit.reason,
        note=unit.note,
        id_order_unit=unit.id_order_unit,
        id_order=None if order is None else order.id_order,
        sku=None if line is None else line.sku,
        line_status=None if line is None else line.status,
        price=price,
        arrived_at=unit.arrived_at,
        decided_at=unit.decided_at,
        decide_by=decide_by(unit),
        left=time_left(unit, now),
        overdue=is_overdue(unit, now),
        restocked=unit.restocked,
        allowed=tuple(d.value for d in ReturnDecision if unit.status in ALLOWED_FROM[d]),
    )


def _return_rows(
    session: Session, found: Sequence[tuple[Return, str]], now: datetime
) -> list[ReturnRow]:
    lines = _lines(session, (u for ret, _ in found for u in ret.units))
    return [
        ReturnRow(
            account=name,
            account_id=ret.account_id,
            id_return=ret.id_return,
            storefront=None if ret.storefront is None else ret.storefront.value,
            status=ret.status,
            tracking_provider=ret.tracking_provider,
            tracking_code=ret.tracking_code,
            ts_created=ret.ts_created,
            ts_updated=ret.ts_updated,
            units=[_unit_row(u, lines, now) for u in ret.units],
        )
        for ret, name in found
    ]


def sort_urgent_first(rows: list[ReturnRow]) -> list[ReturnRow]:
    """Nearest (or most overdue) deadline first; then returns still waiting for the seller;
    then the newest. Returns without any running clock keep the newest-first order."""

    def created(row: ReturnRow) -> float:
        return row.ts_created.timestamp() if row.ts_created is not None else 0.0

    newest = sorted(rows, key=lambda r: (-created(r), -r.id_return))
    return sorted(
        newest,
        key=lambda r: (
            r.left is None,
            r.left.total_seconds() if r.left is not None else 0.0,
            not r.waiting,
        ),
    )


# ---------------------------------------------------------------------------------------------
# the list


def _search(text: str) -> ColumnElement[bool]:
    """Returns matching ``text``: an id (return, return unit, order unit), an order id, a SKU
    or a tracking code (parts of the last three)."""
    in_units = (
        select(ReturnUnit.id)
        .outerjoin(OrderLine, OrderLine.id == ReturnUnit.order_line_id)
        .outerjoin(Order, Order.id == OrderLine.order_id)
        .where(ReturnUnit.return_id == Return.id)
    )
    unit_terms: list[ColumnElement[bool]] = [
        OrderLine.sku.icontains(text, autoescape=True),
        Order.id_order.icontains(text, autoescape=True),
    ]
    terms: list[ColumnElement[bool]] = [Return.tracking_code.icontains(text, autoescape=True)]
    if text.isdigit() and int(text) <= _BIG:
        number = int(text)
        terms.append(Return.id_return == number)
        unit_terms += [ReturnUnit.id_return_unit == number, ReturnUnit.id_order_unit == number]
    terms.append(exists(in_units.where(or_(*unit_terms))))
    return or_(*terms)


def _accounts_and_storefronts(session: Session) -> tuple[list[str], list[str]]:
    accounts = list(session.scalars(select(Account).options(selectinload(Account.storefronts))))
    names = sorted(a.name for a in accounts)
    codes = sorted({s.storefront.value for a in accounts for s in a.storefronts})
    return names, codes


@router.get("/returns", response_class=HTMLResponse)
def returns_page(
    request: Request,
    context: Context,
    user: Viewer,
    account: Annotated[str, Query(max_length=64)] = "",
    storefront: Annotated[str, Query(max_length=8)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    q: Annotated[str, Query(max_length=_MAX_FIELD)] = "",
    sort: Annotated[str, Query(max_length=16)] = "urgent",
    page: Annotated[str, Query(max_length=8)] = "1",
) -> HTMLResponse:
    """The list. Unknown filter values are reported on the page (and ignored) rather than
    answered with an error page, so a stale bookmark still shows something useful. An htmx
    request (the filter form) gets only the results fragment."""
    now = context.clock()
    problems: list[str] = []
    text = q.strip()
    with context.factory() as session:
        names, codes = _accounts_and_storefronts(session)
        query = (
            select(Return, Account.name)
            .join(Account, Account.id == Return.account_id)
            .options(selectinload(Return.units))
        )
        if account:
            if account in names:
                query = query.where(Account.name == account)
            else:
                problems.append(f"Account: there is no account named {account!r}.")
                account = ""
        if storefront:
            if storefront in codes:
                query = query.where(Return.storefront == Storefront(storefront))
            else:
                problems.append(f"Storefront: no account sells on {storefront!r}.")
                storefront = ""
        if status:
            wanted: Sequence[str] | None = (
                OPEN_STATUSES if status == OPEN else (status,) if status in _UNIT_STATUSES else None
            )
            if wanted is None:
                problems.append(f"Status: {status!r} is not a return-unit status.")
                status = ""
            else:
                query = query.where(
                    exists(
                        select(ReturnUnit.id).where(
                            ReturnUnit.return_id == Return.id, ReturnUnit.status.in_(wanted)
                        )
                    )
                )
        if text:
            query = query.where(_search(text))
        rows = _return_rows(session, session.execute(query).all(), now)
    if sort not in _SORTS:
        problems.append(f"Sort: {sort!r} is not one of {', '.join(_SORTS)}.")
        sort = "urgent"
    if sort == "urgent":
        rows = sort_urgent_first(rows)
    else:
        rows.sort(
            key=lambda r: (r.ts_created.timestamp() if r.ts_created else 0.0, r.id_return),
            reverse=True,
        )
    filters = {
        "account": account,
        "storefront": storefront,
        "status": status,
        "q": text,
        "sort": sort,
    }
    pager = paging("/returns", filters, len(rows), page, PAGE_SIZE, defaults={"sort": "urgent"})
    context_values = {
        "user": user,
        "rows": pager.slice(rows),
        "total": len(rows),
        "waiting": sum(1 for r in rows if r.waiting),
        "overdue": sum(1 for r in rows if r.overdue),
        **pager.values(),
        "filters": filters,
        "accounts": names,
        "storefronts": codes,
        "statuses": _UNIT_STATUSES,
        "problems": problems,
        "now": now,
    }
    return list_response(request, "returns", context_values)


# ---------------------------------------------------------------------------------------------
# one return


class _NotFound(Exception):
    def __init__(self, message: str, choices: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.choices = list(choices)


def _find_return(session: Session, id_return: int, account: str) -> tuple[Return, str]:
    query = (
        select(Return, Account.name)
        .join(Account, Account.id == Return.account_id)
        .where(Return.id_return == id_return)
        .options(selectinload(Return.units))
    )
    if account:
        query = query.where(Account.name == account)
    found = session.execute(query).all()
    if not found:
        owner = f" of account {account!r}" if account else ""
        raise _NotFound(
            f"Return {id_return}{owner} is not in the local store (the returns import brings it)."
        )
    if len(found) > 1:
        raise _NotFound(
            f"Return {id_return} is held by several accounts; pick one.",
            sorted(name for _, name in found),
        )
    return found[0]


def _decisions(session: Session, account_id: int, units: Sequence[int]) -> dict[str, list[Any]]:
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.account_id == account_id,
            OutboxMessage.target.in_([str(u) for u in units]),
            OutboxMessage.action.in_(_DECISION_ACTIONS),
        )
        .order_by(OutboxMessage.id)
    )
    found: dict[str, list[Any]] = {}
    for message in rows:
        found.setdefault(message.target, []).append(_message_dict(message))
    return found


def _message_dict(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "action": message.action.value,
        "decision": message.action.value.removeprefix("return_"),
        "state": message.state.value,
        "attempts": message.attempts,
        "message": message.payload.get("message"),
        "last_error": message.last_error,
        "created_at": message.created_at,
        "done_at": message.done_at,
    }


@dataclass
class RefundTarget:
    """An order unit of the return that may be refunded, with what was refunded so far."""

    id_order_unit: int
    id_order: str
    sku: str | None
    status: str
    currency: str | None
    left: str
    refunds: list[dict[str, Any]]


def _refund_targets(session: Session, ret: Return) -> list[RefundTarget]:
    lines = _lines(session, ret.units)
    targets: list[RefundTarget] = []
    for line, order in sorted(lines.values(), key=lambda pair: pair[0].id_order_unit):
        rows = session.execute(
            select(Refund, OutboxMessage.state)
            .outerjoin(OutboxMessage, OutboxMessage.id == Refund.outbox_id)
            .where(Refund.order_id == order.id, Refund.id_order_unit == line.id_order_unit)
            .order_by(Refund.id)
        )
        refunds = [
            {
                "amount": fulfilment.format_amount(r.amount, r.currency, with_currency=True),
                "reason": r.reason,
                "state": None if state is None else state.value,
                "outbox_id": r.outbox_id,
                "created_at": r.created_at,
            }
            for r, state in rows
        ]
        targets.append(
            RefundTarget(
                id_order_unit=line.id_order_unit,
                id_order=order.id_order,
                sku=line.sku,
                status=line.status,
                currency=order.currency,
                left=fulfilment.format_amount(
                    fulfilment.refundable_left(session, line), order.currency, with_currency=True
                ),
                refunds=refunds,
            )
        )
    return targets


def _notice(session: Session, account_id: int, queued: int, row: ReturnRow) -> str | None:
    """What became of the message a just-submitted form queued (``?queued=ID``), in words; only
    for messages of this return's units, so the parameter cannot be used to peek elsewhere."""
    message = session.get(OutboxMessage, queued)
    if message is None or message.account_id != account_id:
        return None
    units = {str(u.id_return_unit) for u in row.units}
    order_units = {str(u.id_order_unit) for u in row.units if u.id_order_unit is not None}
    if message.action in _DECISION_ACTIONS and message.target in units:
        what = f"{message.action.value.removeprefix('return_')} of return unit {message.target}"
    elif message.action == OutboxAction.REFUND and message.target in order_units:
        amount = message.payload.get("amount")
        what = f"refund on order unit {message.target}"
        if isinstance(amount, int):
            currency = message.payload.get("currency")
            money = fulfilment.format_amount(amount, currency, with_currency=True)
            what = f"refund of {money} on order unit {message.target}"
    else:
        return None
    return (
        f"Queued: {what} (outbox #{message.id}, {message.state.value}). The outbox job sends it "
        "to Kaufland; the status shown here changes with the next returns import."
    )


def _detail(
    request: Request,
    context: WebContext,
    user: User,
    id_return: int,
    account: str,
    *,
    queued: int | None = None,
    error: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    now = context.clock()
    with context.factory() as session:
        try:
            ret, name = _find_return(session, id_return, account)
        except _NotFound as problem:
            return missing(
                request,
                user,
                problem.message,
                title=f"Return {id_return}",
                back=("/returns", "Back to the returns"),
                choices=[
                    (
                        f"Return {id_return} of {owner}",
                        f"/returns/{id_return}?" + urlencode({"account": owner}),
                    )
                    for owner in problem.choices
                ],
                status_code=409 if problem.choices else 404,
            )
        (row,) = _return_rows(session, [(ret, name)], now)
        decisions = _decisions(session, ret.account_id, [u.id_return_unit for u in row.units])
        for unit in row.units:
            unit.decisions = decisions.get(str(unit.id_return_unit), [])
        targets = _refund_targets(session, ret)
        notice = None if queued is None else _notice(session, ret.account_id, queued, row)
    return templates.TemplateResponse(
        request,
        "pages/returns_detail.html",
        {
            "user": user,
            "row": row,
            "can_act": user.role.allows(Role.OPERATOR),
            "needs_message": [d.value for d in ReturnDecision if d.needs_message],
            "message_max": MESSAGE_MAX,
            "refund_targets": targets,
            "refund_reasons": [r.value for r in OrderUnitRefundReason],
            "refund_words": sorted(fulfilment.REFUND_REASON_DEFAULTS),
            "notice": notice,
            "error": error,
            "now": now,
        },
        status_code=status_code,
    )


@router.get("/returns/{id_return}", response_class=HTMLResponse)
def return_page(
    request: Request,
    context: Context,
    user: Viewer,
    id_return: KaufId,
    account: Annotated[str, Query(max_length=64)] = "",
    queued: Annotated[int | None, Query(ge=1, le=_BIG)] = None,
) -> Response:
    """One return with its units, decisions and refunds; the forms for operators."""
    return _detail(request, context, user, id_return, account, queued=queued)


@dataclass(frozen=True)
class _Form:
    """A form posted on one return's page: what it needs to show that page again."""

    request: Request
    context: WebContext
    user: User
    id_return: int
    account: str

    def page(self, *, error: dict[str, Any] | None = None, status_code: int = 200) -> Response:
        """The return's page (with ``error`` next to the form, when refused)."""
        return _detail(
            self.request,
            self.context,
            self.user,
            self.id_return,
            self.account,
            error=error,
            status_code=status_code,
        )

    def find(self) -> tuple[Return, str, dict[int, tuple[OrderLine, Order]]] | None:
        """The return, its account's name and its units' order lines (None: not here, or held
        by several accounts; :meth:`page` then says which)."""
        with self.context.factory() as session:
            try:
                ret, name = _find_return(session, self.id_return, self.account)
            except _NotFound:
                return None
            return ret, name, _lines(session, ret.units)


def _posted_form(
    request: Request,
    context: Context,
    user: Operator,
    id_return: KaufId,
    account: Annotated[str, Form(max_length=64)] = "",
) -> _Form:
    return _Form(request, context, user, id_return, account)


#: A form posted on a return's page by an operator (the route also checks CSRF).
PostedForm = Annotated[_Form, Depends(_posted_form)]


def _back(id_return: int, account: str, queued: int, anchor: str) -> RedirectResponse:
    query = urlencode({"account": account, "queued": queued})
    return RedirectResponse(f"/returns/{id_return}?{query}#{anchor}", status_code=303)


@router.post(
    "/returns/{id_return}/units/{id_return_unit}/{decision}",
    response_class=HTMLResponse,
    dependencies=[Csrf],
)
def decide_unit(
    form: PostedForm,
    id_return_unit: KaufId,
    decision: str,
    message: Annotated[str, Form(max_length=MESSAGE_MAX + 1000)] = "",
) -> Response:
    """Accept, reject, clarify or repair one unit (operator). Every check is
    :func:`~kaufland_sync.sync.returns.queue_decision`'s; a refusal re-shows the page with the
    reason next to the unit and nothing queued."""

    context, id_return = form.context, form.id_return

    def refuse(field_name: str, text: str, status_code: int = 422) -> Response:
        return form.page(
            error={
                "unit": id_return_unit,
                "form": decision,
                "field": field_name,
                "text": text,
                "message": message,
            },
            status_code=status_code,
        )

    if decision not in {d.value for d in ReturnDecision}:
        return refuse(
            "decision",
            f"{decision!r} is not a decision; one of {', '.join(d.value for d in ReturnDecision)}",
        )
    found = form.find()
    if found is None:
        return form.page()
    ret, name, _ = found
    account_id = ret.account_id
    if id_return_unit not in {u.id_return_unit for u in ret.units}:
        return refuse("unit", f"return unit {id_return_unit} is not part of return {id_return}")
    try:
        queued = decide(
            context.factory,
            account_id=account_id,
            id_return_unit=id_return_unit,
            decision=decision,
            message=message or None,
            clock=context.clock,
        )
    except DecisionNotAllowedError as exc:
        return refuse("status", str(exc), 409)
    except ReturnDecisionError as exc:
        return refuse("message", str(exc))
    log.info(
        "return decision queued",
        user=form.user.name,
        decision=decision,
        id_return_unit=id_return_unit,
        outbox_id=queued.outbox_id,
        new=queued.created,
    )
    submit_outbox(context, account_id)
    return _back(id_return, name, queued.outbox_id, f"unit-{id_return_unit}")


#: Which form field a refusal of ``fulfilment.refund`` is about.
_REFUND_FIELDS = {"units": "id_order_unit", "id_order": "id_order_unit"}


@router.post(
    "/returns/{id_return}/refund",
    response_class=HTMLResponse,
    dependencies=[Csrf],
)
def refund_unit(
    form: PostedForm,
    id_order_unit: Annotated[str, Form(max_length=32)] = "",
    amount: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=_MAX_FIELD)] = "",
) -> Response:
    """Refund part or all of an order unit of this return (operator), through
    :func:`~kaufland_sync.sync.fulfilment.refund`: the unit must be sent or returned and the
    amount at most what is left to refund. A refusal re-shows the page naming the field."""
    values = {"id_order_unit": id_order_unit, "amount": amount, "reason": reason}

    context, id_return = form.context, form.id_return

    def refuse(field_name: str, text: str) -> Response:
        error = {"form": "refund", "field": field_name, "text": text, **values}
        return form.page(error=error, status_code=422)

    found = form.find()
    if found is None:
        return form.page()
    ret, name, lines = found
    account_id = ret.account_id
    orders = {line.id_order_unit: order.id_order for line, order in lines.values()}
    unit = int(id_order_unit) if id_order_unit.strip().isdigit() else None
    if unit is None or unit not in orders:
        known = ", ".join(str(u) for u in sorted(orders)) or "none imported"
        return refuse(
            "id_order_unit",
            f"choose an order unit of return {id_return} (its order units: {known})",
        )
    try:
        minor = fulfilment.parse_amount(amount)
    except ValueError as exc:
        return refuse("amount", str(exc))
    try:
        with transaction(context.factory) as session:
            queued, _ = fulfilment.refund(
                session,
                account_id,
                orders[unit],
                id_order_unit=unit,
                amount=minor,
                reason=reason,
                now=context.clock(),
            )
    except fulfilment.FulfilmentError as exc:
        return refuse(_REFUND_FIELDS.get(exc.field, exc.field), exc.message)
    log.info(
        "refund queued",
        user=form.user.name,
        id_order_unit=unit,
        amount=minor,
        outbox_id=queued.message_id,
        new=queued.new,
    )
    submit_outbox(context, account_id)
    return _back(id_return, name, queued.message_id, "refunds")
