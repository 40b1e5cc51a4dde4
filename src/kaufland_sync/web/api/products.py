"""``/products`` and ``/stock``: the built-in catalogue, read, and its stock and prices written
by an ERP.

Reads go through :class:`~kaufland_sync.backoffice.catalog.BuiltinCatalog` where it has the
call (one product, its stock levels); the list pages with ``limit``/``offset`` and a total, which
``BuiltinCatalog.search`` does not offer, so it runs the same filter (SKU, EAN or title contains
``q``, case-insensitive, SKU order) itself. Writes go through
:mod:`kaufland_sync.web.api.catalog_writes`, which moves ``updated_at`` so the scheduler's
debounced change push sends the new stock and prices to Kaufland.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Body, Depends, Path, Query
from sqlalchemy import Table, func, or_, select

from kaufland_sync.backoffice._fields import format_price
from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.backoffice.protocol import ProductRecord, StockLevel
from kaufland_sync.store.models.catalog import Product
from kaufland_sync.store.models.catalog import StockLevel as StockRow
from kaufland_sync.web.api._common import (
    DEFAULT_LIMIT,
    ApiError,
    Limit,
    Offset,
    Operator,
    Viewer,
    not_found,
    responses,
)
from kaufland_sync.web.api.catalog_writes import (
    StockWrite,
    UnknownProductsError,
    set_price,
    set_stock,
)
from kaufland_sync.web.api.schemas import (
    BULK_STOCK_MAX,
    SKU_MAX,
    PriceIn,
    ProductOut,
    ProductPage,
    StockIn,
    StockItemIn,
    StockLevelOut,
    StockResult,
)
from kaufland_sync.web.deps import WebContext, get_context

__all__ = ["router"]

router = APIRouter(tags=["products"])

Context = Annotated[WebContext, Depends(get_context)]
Sku = Annotated[str, Path(min_length=1, max_length=SKU_MAX, description="The product's SKU.")]


def _product(
    record: ProductRecord, stock: int, levels: list[StockLevel] | None = None
) -> ProductOut:
    return ProductOut(
        sku=record.sku,
        ean=record.ean,
        title=record.title,
        price=format_price(record.price_minor),
        price_minor=record.price_minor,
        currency=record.currency,
        description=record.description,
        brand=record.brand,
        category=record.category,
        image_urls=list(record.image_urls),
        condition=record.condition,
        vat_indicator=record.vat_indicator,
        weight_grams=record.weight_grams,
        handling_time=record.handling_time,
        active=record.active,
        updated_at=record.updated_at,
        stock=stock,
        stock_levels=None
        if levels is None
        else [
            StockLevelOut(warehouse=s.warehouse, quantity=s.quantity, updated_at=s.updated_at)
            for s in levels
        ],
    )


def _one(context: WebContext, sku: str) -> ProductOut:
    catalog = BuiltinCatalog(context.factory)
    record = catalog.get_products([sku]).get(sku)
    if record is None:
        raise not_found(f"product {sku!r}")
    levels = catalog.stock_levels([sku])[sku]
    return _product(record, sum(s.quantity for s in levels), levels)


@router.get("/products", response_model=ProductPage, responses=responses(403, 422))
def list_products(
    _: Viewer,
    context: Context,
    q: Annotated[
        str | None,
        Query(max_length=255, description="Only products whose SKU, EAN or title contains q."),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> ProductPage:
    """Products of the built-in catalogue by SKU, each with its total stock on hand."""
    stock = cast(Table, StockRow.__table__)
    totals = (
        select(stock.c.product_id, func.sum(stock.c.quantity).label("total"))
        .group_by(stock.c.product_id)
        .subquery()
    )
    query = select(Product.sku, func.coalesce(totals.c.total, 0)).outerjoin(
        totals, totals.c.product_id == Product.id
    )
    counting = select(func.count(Product.id))
    if q:
        pattern = f"%{q.lower()}%"
        matches = or_(
            func.lower(Product.sku).like(pattern),
            Product.ean.like(pattern),
            func.lower(Product.title).like(pattern),
        )
        query = query.where(matches)
        counting = counting.where(matches)
    with context.factory() as session:
        total = session.scalar(counting) or 0
        rows = session.execute(query.order_by(Product.sku).limit(limit).offset(offset)).all()
    # The records themselves come from the catalogue (one more query for the page).
    records = BuiltinCatalog(context.factory).get_products(sku for sku, _ in rows)
    items = [_product(records[sku], int(qty)) for sku, qty in rows if sku in records]
    return ProductPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/products/{sku}", response_model=ProductOut, responses=responses(403, 404, 422))
def get_product(_: Viewer, context: Context, sku: Sku) -> ProductOut:
    """One product with its stock on hand per local warehouse."""
    return _one(context, sku)


@router.put(
    "/products/{sku}/stock", response_model=ProductOut, responses=responses(400, 403, 404, 422)
)
def put_stock(_: Operator, context: Context, sku: Sku, body: StockIn) -> ProductOut:
    """Set the quantity on hand of one product in one local warehouse (operator). The
    warehouse is created when unknown. A changed quantity is pushed to Kaufland by the next
    change push (a few seconds after the changes stop)."""
    try:
        set_stock(
            context.factory,
            [StockWrite(sku, body.warehouse, body.quantity)],
            now=context.clock(),
        )
    except UnknownProductsError:
        raise not_found(f"product {sku!r}") from None
    return _one(context, sku)


@router.put("/stock", response_model=StockResult, responses=responses(400, 403, 422))
def put_stock_bulk(
    _: Operator,
    context: Context,
    body: Annotated[list[StockItemIn], Body(min_length=1, max_length=BULK_STOCK_MAX)],
) -> StockResult:
    """Set many quantities on hand at once, all or nothing (operator): an unknown SKU refuses
    the whole request (422, naming the SKUs). A (SKU, warehouse) given twice takes the last
    quantity."""
    try:
        change = set_stock(
            context.factory,
            [StockWrite(item.sku, item.warehouse, item.quantity) for item in body],
            now=context.clock(),
        )
    except UnknownProductsError as exc:
        positions = {sku: i for i, item in enumerate(body) for sku in [item.sku]}
        raise ApiError(
            422,
            "Unknown products",
            f"nothing was written: {exc}",
            errors=[
                {"field": f"body.{positions[sku]}.sku", "message": f"unknown SKU {sku!r}"}
                for sku in exc.skus
            ],
        ) from None
    return StockResult(written=change.written, unchanged=change.unchanged)


@router.put(
    "/products/{sku}/price", response_model=ProductOut, responses=responses(400, 403, 404, 422)
)
def put_price(_: Operator, context: Context, sku: Sku, body: PriceIn) -> ProductOut:
    """Set a product's catalogue price (operator). Offer prices follow from it with each
    storefront's rate, markup and rounding; the next change push sends them."""
    try:
        set_price(
            context.factory,
            sku,
            price_minor=int(body.price * 100),
            currency=body.currency,
            now=context.clock(),
        )
    except UnknownProductsError:
        raise not_found(f"product {sku!r}") from None
    return _one(context, sku)
