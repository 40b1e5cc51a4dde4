"""``/accounts`` and ``/offers``: the seller accounts (never a key) and their offers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import func, select

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account, AccountStorefront
from kaufland_sync.store.models.sync import BindingState, OfferBinding
from kaufland_sync.web.api._common import (
    DEFAULT_LIMIT,
    Limit,
    Offset,
    Viewer,
    account_by_name,
    responses,
)
from kaufland_sync.web.api.schemas import AccountOut, OfferOut, OfferPage, StorefrontOut
from kaufland_sync.web.deps import WebContext, get_context

__all__ = ["router"]

router = APIRouter(tags=["accounts"])

Context = Annotated[WebContext, Depends(get_context)]


def _decimal(value: object) -> str | None:
    return None if value is None else str(value)


def _storefront(settings: AccountStorefront) -> StorefrontOut:
    return StorefrontOut(
        storefront=settings.storefront.value,
        direction_offers=settings.direction_offers,
        direction_stock=settings.direction_stock,
        direction_prices=settings.direction_prices,
        direction_orders=settings.direction_orders,
        currency_rate=str(settings.currency_rate),
        rounding=settings.rounding,
        markup_percent=str(settings.markup_percent),
        use_minimum_price=settings.use_minimum_price,
        minimum_price_percent=_decimal(settings.minimum_price_percent),
        handling_time=settings.handling_time,
        id_shipping_group=settings.id_shipping_group,
        condition=settings.condition,
        vat_indicator=settings.vat_indicator,
        buffer_stock=settings.buffer_stock,
        max_stock=settings.max_stock,
        on_deactivate=settings.on_deactivate,
        warehouses=settings.warehouse_map(),
    )


def _account(account: Account) -> AccountOut:
    # Built field by field (not from_attributes on the row) so no key column can slip in.
    return AccountOut(
        name=account.name,
        environment=account.environment,
        base_url=account.base_url,
        base_currency=account.base_currency,
        restock_returns=account.restock_returns,
        push_callback_url=account.push_callback_url,
        storefronts=[_storefront(s) for s in account.storefronts],
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


@router.get("/accounts", response_model=list[AccountOut], responses=responses(403))
def list_accounts(_: Viewer, context: Context) -> list[AccountOut]:
    """Every seller account with its storefront settings, by name. Keys are never shown."""
    with context.factory() as session:
        return [_account(a) for a in session.scalars(select(Account).order_by(Account.name))]


@router.get("/accounts/{name}", response_model=AccountOut, responses=responses(403, 404))
def get_account(
    _: Viewer, context: Context, name: Annotated[str, Path(max_length=64)]
) -> AccountOut:
    """One seller account with its storefront settings."""
    with context.factory() as session:
        return _account(account_by_name(session, name))


@router.get("/offers", response_model=OfferPage, responses=responses(403, 404, 422))
def list_offers(
    _: Viewer,
    context: Context,
    account: Annotated[str | None, Query(max_length=64, description="Account name.")] = None,
    storefront: Annotated[Storefront | None, Query()] = None,
    state: Annotated[BindingState | None, Query()] = None,
    sku: Annotated[str | None, Query(max_length=255)] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> OfferPage:
    """Offers (a product of an account on a storefront and its Kaufland unit), by account,
    storefront and SKU."""
    with context.factory() as session:
        query = select(OfferBinding, Account.name).join(
            Account, Account.id == OfferBinding.account_id
        )
        if account is not None:
            query = query.where(OfferBinding.account_id == account_by_name(session, account).id)
        if storefront is not None:
            query = query.where(OfferBinding.storefront == storefront)
        if state is not None:
            query = query.where(OfferBinding.state == state)
        if sku is not None:
            query = query.where(OfferBinding.sku == sku)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.execute(
            query.order_by(Account.name, OfferBinding.storefront, OfferBinding.sku)
            .limit(limit)
            .offset(offset)
        )
        items = [
            OfferOut(
                account=name,
                storefront=binding.storefront.value,
                sku=binding.sku,
                id_unit=binding.id_unit,
                state=binding.state,
                synced_at=binding.synced_at,
                attempts=binding.attempts,
                last_error=binding.last_error,
                updated_at=binding.updated_at,
            )
            for binding, name in rows
        ]
    return OfferPage(items=items, total=total, limit=limit, offset=offset)
