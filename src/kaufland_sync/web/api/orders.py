"""``/orders`` and ``/returns``: imported orders and returns, and shipping or cancelling order
units.

Ship and cancel call the same engine functions as ``kaufland-sync orders ship|cancel``
(:func:`kaufland_sync.sync.fulfilment.ship` / ``cancel``): everything is checked against the
local order and queued in the outbox in one transaction, or nothing is queued and the problem
names the field. Instead of sending at once as the command does, the API answers 202 and queues
an ``outbox`` job, which a worker runs in moments (and the scheduled outbox run would anyway).

An order is named by Kaufland's ``id_order``; when two accounts hold the same id (two sellers,
one buyer order), ``?account=`` picks one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from starlette.concurrency import run_in_threadpool

from kaufland_sync.logging import get_logger
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.jobs import JobKind, JobTrigger
from kaufland_sync.store.models.orders import Order, OrderLine
from kaufland_sync.store.models.returns import Return
from kaufland_sync.sync import fulfilment
from kaufland_sync.web.api._common import (
    DEFAULT_LIMIT,
    ApiError,
    Limit,
    Offset,
    Operator,
    Viewer,
    account_by_name,
    not_found,
    responses,
)
from kaufland_sync.web.api.schemas import (
    CancelIn,
    OrderDetail,
    OrderLineOut,
    OrderOut,
    OrderPage,
    QueuedAction,
    QueuedActions,
    ReturnOut,
    ReturnPage,
    ReturnUnitOut,
    ShipmentIn,
)
from kaufland_sync.web.deps import WebContext, get_context

__all__ = ["CARRIERS_STATE", "CarrierSource", "KauflandCarriers", "router"]

log = get_logger(__name__)

router = APIRouter()

Context = Annotated[WebContext, Depends(get_context)]
IdOrder = Annotated[str, Path(min_length=1, max_length=64, description="Kaufland's id_order.")]
AccountQuery = Annotated[
    str | None,
    Query(max_length=64, description="The account holding the order (when several do)."),
]

#: Where the app keeps its :data:`CarrierSource` (``app.state.<name>``).
CARRIERS_STATE = "kaufland_api_carriers"

#: Kaufland's carrier names for an account (what ``fulfilment.ship`` checks a carrier against).
CarrierSource = Callable[[WebContext, Account], Awaitable[list[str]]]


class KauflandCarriers:
    """The default :data:`CarrierSource`: ``GET /carriers`` through the account's client,
    cached an hour (:class:`~kaufland_sync.sync.fulfilment.CarrierCache`). When Kaufland cannot
    be asked (network, key), the carriers Kaufland accepted from the account before, as
    ``orders ship`` does."""

    def __init__(self) -> None:
        self.cache = fulfilment.CarrierCache()

    async def __call__(self, context: WebContext, account: Account) -> list[str]:
        from kaufland_sync.clients import client_for_account
        from kaufland_sync.secrets import MasterKeyError, SecretDecryptionError
        from kaufland_sync.sellerapi import RetryPolicy
        from kaufland_sync.sellerapi.errors import KauflandError

        try:
            secret = context.secret_box().decrypt(
                account.secret_key_encrypted, account=account.name
            )
            # Give up quickly: the caller waits; the fallback below is good enough.
            quick = RetryPolicy(max_attempts=2, base_delay=0.2, max_delay=1.0)
            async with client_for_account(context.settings, account, secret, retry=quick) as client:
                return await self.cache.names(client)
        except (KauflandError, MasterKeyError, SecretDecryptionError) as exc:
            log.warning("carrier list unavailable", account=account.name, error=str(exc))
            return await run_in_threadpool(_carriers_used, context, account.id)


def _carriers_used(context: WebContext, account_id: int) -> list[str]:
    with context.factory() as session:
        return fulfilment.carriers_used(session, account_id)


# --- lookups --------------------------------------------------------------------------------


def _order_account(session: Session, id_order: str, account: str | None) -> Account:
    """The account holding ``id_order``: ``account`` if given, else the only one that does."""
    if account is not None:
        return account_by_name(session, account)
    found = list(
        session.scalars(
            select(Account)
            .join(Order, Order.account_id == Account.id)
            .where(Order.id_order == id_order)
            .order_by(Account.name)
        )
    )
    if not found:
        raise not_found(f"order {id_order!r}")
    if len(found) > 1:
        names = ", ".join(a.name for a in found)
        raise ApiError(
            409,
            "Ambiguous order",
            f"order {id_order} exists in several accounts ({names}); add ?account=NAME",
        )
    return found[0]


def _line(line: OrderLine) -> OrderLineOut:
    return OrderLineOut(
        id_order_unit=line.id_order_unit,
        sku=line.sku,
        status=line.status,
        local_status=line.local_status,
        stock_state=line.stock_state,
        price=line.price,
        revenue_gross=line.revenue_gross,
        revenue_net=line.revenue_net,
        shipping_rate=line.shipping_rate,
        vat=None if line.vat is None else str(line.vat),
        sent_at=line.sent_at,
        cancel_reason=line.cancel_reason,
        delivery_time_expires_iso=line.delivery_time_expires_iso,
    )


def _summary(order: Order, account: str, units: int) -> dict[str, object]:
    return {
        "account": account,
        "id_order": order.id_order,
        "storefront": order.storefront.value,
        "currency": order.currency,
        "ordered_at": order.ordered_at,
        "status": order.status,
        "local_status": order.local_status,
        "payment_method": order.payment_method,
        "shipping_method": order.shipping_method,
        "units": units,
    }


# --- orders ---------------------------------------------------------------------------------


@router.get(
    "/orders", response_model=OrderPage, responses=responses(403, 404, 422), tags=["orders"]
)
def list_orders(
    _: Viewer,
    context: Context,
    account: Annotated[str | None, Query(max_length=64, description="Account name.")] = None,
    status: Annotated[
        str | None, Query(max_length=200, description="Kaufland's order status.")
    ] = None,
    since: Annotated[
        datetime | None, Query(description="Only orders placed at or after this time.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> OrderPage:
    """Imported orders, newest first."""
    units = (
        select(OrderLine.order_id, func.count(OrderLine.id).label("units"))
        .group_by(OrderLine.order_id)
        .subquery()
    )
    query = (
        select(Order, Account.name, func.coalesce(units.c.units, 0))
        .join(Account, Account.id == Order.account_id)
        .outerjoin(units, units.c.order_id == Order.id)
    )
    with context.factory() as session:
        if account is not None:
            query = query.where(Order.account_id == account_by_name(session, account).id)
        if status is not None:
            query = query.where(Order.status == status)
        if since is not None:
            query = query.where(Order.ordered_at >= since)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.execute(
            query.order_by(Order.ordered_at.desc(), Order.id_order).limit(limit).offset(offset)
        )
        items = [OrderOut.model_validate(_summary(o, name, n)) for o, name, n in rows]
    return OrderPage(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/orders/{id_order}",
    response_model=OrderDetail,
    responses=responses(403, 404, 409, 422),
    tags=["orders"],
)
def get_order(
    _: Viewer, context: Context, id_order: IdOrder, account: AccountQuery = None
) -> OrderDetail:
    """One order with its lines (id_order_unit, statuses, prices in minor units)."""
    with context.factory() as session:
        owner = _order_account(session, id_order, account)
        order = session.scalar(
            select(Order)
            .where(Order.account_id == owner.id, Order.id_order == id_order)
            .options(selectinload(Order.lines))
        )
        if order is None:
            raise not_found(f"order {id_order!r} of account {owner.name!r}")
        return OrderDetail.model_validate(
            {
                **_summary(order, owner.name, len(order.lines)),
                "shipping_address": order.shipping_address,
                "lines": [_line(line) for line in order.lines],
            }
        )


_FIELDS = {"tracking": "tracking_numbers"}


def _queue_action(
    context: WebContext,
    id_order: str,
    account: str | None,
    make: Callable[[Session, int, list[str]], list[fulfilment.Queued]],
    carriers: list[str] | None,
) -> tuple[int, list[fulfilment.Queued]]:
    with context.factory() as session:
        account_id = _order_account(session, id_order, account).id
    try:
        with transaction(context.factory) as session:
            return account_id, make(session, account_id, carriers or [])
    except fulfilment.FulfilmentError as exc:
        if exc.field == "id_order":
            raise not_found(f"order {id_order!r}") from None
        field = _FIELDS.get(exc.field, exc.field)
        raise ApiError(
            422,
            "Refused",
            f"nothing queued: {exc.message}",
            errors=[{"field": f"body.{field}", "message": exc.message}],
        ) from None


def _submit_outbox(context: WebContext, account_id: int) -> int | None:
    try:
        return context.queue.submit(
            account_id=account_id, kind=JobKind.OUTBOX, trigger=JobTrigger.MANUAL
        ).job_id
    except Exception as exc:  # the messages are queued; the scheduled outbox run sends them
        log.warning("outbox job not queued", account_id=account_id, error=str(exc))
        return None


def _answer(
    context: WebContext, account_id: int, queued: Sequence[fulfilment.Queued]
) -> QueuedActions:
    job_id = _submit_outbox(context, account_id) if queued else None
    return QueuedActions(
        messages=[
            QueuedAction(
                message_id=q.message_id,
                action=q.action,
                target=q.target,
                state=q.state,
                new=q.new,
            )
            for q in queued
        ],
        job_id=job_id,
    )


def _carrier_source(request: Request) -> CarrierSource:
    source: CarrierSource = getattr(request.app.state, CARRIERS_STATE)
    return source


@router.post(
    "/orders/{id_order}/shipments",
    response_model=QueuedActions,
    status_code=202,
    responses=responses(400, 403, 404, 409, 422),
    tags=["orders"],
)
async def ship_order(
    _: Operator,
    context: Context,
    carriers_for: Annotated[CarrierSource, Depends(_carrier_source)],
    id_order: IdOrder,
    body: ShipmentIn,
    account: AccountQuery = None,
) -> QueuedActions:
    """Ship order units with a carrier and tracking numbers (operator), as ``kaufland-sync
    orders ship``: lines waiting to be sent get a ``send``, lines already sent an extra parcel.
    Answers 202 with the outbox messages; an ``outbox`` job sends them. An unknown carrier is
    refused (422) with the closest names."""
    owner = await run_in_threadpool(_owner, context, id_order, account)
    carriers = await carriers_for(context, owner)
    account_id, queued = await run_in_threadpool(
        _queue_action,
        context,
        id_order,
        owner.name,
        lambda session, account_id, names: fulfilment.ship(
            session,
            account_id,
            id_order,
            carrier=body.carrier,
            tracking_numbers=body.tracking_numbers,
            carriers=names,
            units=body.units or None,
            now=context.clock(),
        ),
        carriers,
    )
    return await run_in_threadpool(_answer, context, account_id, queued)


def _owner(context: WebContext, id_order: str, account: str | None) -> Account:
    with context.factory() as session:
        return _order_account(session, id_order, account)


@router.post(
    "/orders/{id_order}/cancel",
    response_model=QueuedActions,
    status_code=202,
    responses=responses(400, 403, 404, 409, 422),
    tags=["orders"],
)
def cancel_order(
    _: Operator,
    context: Context,
    id_order: IdOrder,
    body: CancelIn,
    account: AccountQuery = None,
) -> QueuedActions:
    """Cancel order units not shipped yet (operator), as ``kaufland-sync orders cancel``.
    Answers 202 with the outbox messages; an ``outbox`` job sends them."""
    account_id, queued = _queue_action(
        context,
        id_order,
        account,
        lambda session, account_id, _carriers: fulfilment.cancel(
            session,
            account_id,
            id_order,
            reason=body.reason,
            units=body.units or None,
            now=context.clock(),
        ),
        None,
    )
    return _answer(context, account_id, queued)


# --- returns --------------------------------------------------------------------------------


def _return(item: Return, account: str) -> ReturnOut:
    return ReturnOut(
        account=account,
        id_return=item.id_return,
        storefront=item.storefront.value if item.storefront else None,
        status=item.status,
        tracking_provider=item.tracking_provider,
        tracking_code=item.tracking_code,
        ts_created=item.ts_created,
        ts_updated=item.ts_updated,
        units=[ReturnUnitOut.model_validate(unit) for unit in item.units],
    )


@router.get(
    "/returns", response_model=ReturnPage, responses=responses(403, 404, 422), tags=["returns"]
)
def list_returns(
    _: Viewer,
    context: Context,
    account: Annotated[str | None, Query(max_length=64, description="Account name.")] = None,
    status: Annotated[
        str | None, Query(max_length=32, description="Kaufland's return status.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> ReturnPage:
    """Imported returns with their units, newest first."""
    query = select(Return, Account.name).join(Account, Account.id == Return.account_id)
    with context.factory() as session:
        if account is not None:
            query = query.where(Return.account_id == account_by_name(session, account).id)
        if status is not None:
            query = query.where(Return.status == status)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.execute(
            query.options(selectinload(Return.units))
            .order_by(Return.ts_created.desc(), Return.id_return.desc())
            .limit(limit)
            .offset(offset)
        )
        items = [_return(item, name) for item, name in rows]
    return ReturnPage(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/returns/{id_return}",
    response_model=ReturnOut,
    responses=responses(403, 404, 409, 422),
    tags=["returns"],
)
def get_return(
    _: Viewer,
    context: Context,
    id_return: Annotated[int, Path(ge=0, le=2**63 - 1, description="Kaufland's id_return.")],
    account: Annotated[
        str | None, Query(max_length=64, description="The account (when several hold it).")
    ] = None,
) -> ReturnOut:
    """One return with its units."""
    query = (
        select(Return, Account.name)
        .join(Account, Account.id == Return.account_id)
        .where(Return.id_return == id_return)
        .options(selectinload(Return.units))
    )
    with context.factory() as session:
        if account is not None:
            query = query.where(Return.account_id == account_by_name(session, account).id)
        rows = session.execute(query).all()
        if not rows:
            raise not_found(f"return {id_return}")
        if len(rows) > 1:
            names = ", ".join(sorted(name for _, name in rows))
            raise ApiError(
                409,
                "Ambiguous return",
                f"return {id_return} exists in several accounts ({names}); add ?account=NAME",
            )
        item, name = rows[0]
        return _return(item, name)
