"""``/orders``: the seller's orders (read-only; buyers create them through the marketplace)."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox import marketplace
from kaufland_sync.sandbox._http import Ctx, RouteSpec, data, not_found, page
from kaufland_sync.sandbox.routes._market import fulfillment_filter, q_time, sort_desc
from kaufland_sync.sandbox.world import parse_iso, public

ORDER_EMBEDDABLE = ("order_invoices", "delivery", "kss_delivery")


async def list_orders(ctx: Ctx) -> Response:
    """GET /orders: filters storefront, ts_created_from_iso, ts_units_updated_from_iso,
    fulfillment_type[]; newest first; limit ≤ 100 (default 30)."""
    storefront = ctx.storefront(required=False)
    created_from = q_time(ctx, "ts_created_from_iso")
    updated_from = q_time(ctx, "ts_units_updated_from_iso")
    fulfillment = fulfillment_filter(ctx)
    offset, limit = ctx.page(min_limit=1, max_limit=100)
    rows = []
    for order in ctx.table("orders").values():
        if storefront and order["storefront"] != storefront:
            continue
        if order["fulfillment_type"] not in fulfillment:
            continue
        if created_from is not None and parse_iso(order["ts_created_iso"]) < created_from:
            continue
        if updated_from is not None and parse_iso(order["ts_units_updated_iso"]) < updated_from:
            continue
        rows.append(public(order))
    return page(sort_desc(rows, "ts_created_iso"), offset, limit)


async def get_order(ctx: Ctx) -> Response:
    """GET /orders/{id_order}: ``OrderDetails`` with its order units; addresses and the buyer's
    e-mail stay null while every unit is still ``open``."""
    embedded = ctx.embedded(ORDER_EMBEDDABLE)
    id_order = str(ctx.path["id_order"])
    order = ctx.table("orders").get(id_order)
    if order is None:
        raise not_found("Order", id_order)
    return data(marketplace.order_view(ctx.world, ctx.seller, order, embedded))


ROUTES: list[RouteSpec] = [
    ("GET", "/orders", list_orders),
    ("GET", "/orders/{id_order}", get_order),
]
