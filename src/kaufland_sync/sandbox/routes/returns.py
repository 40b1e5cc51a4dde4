"""``/returns``: list, read, initiate (POST) and extend (PUT) returns."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox import marketplace
from kaufland_sync.sandbox._http import Ctx, RouteSpec, data, not_found, page
from kaufland_sync.sandbox.routes._market import (
    fulfillment_filter,
    path_int,
    q_enum_list,
    q_sort,
    q_time,
    sort_desc,
)
from kaufland_sync.sandbox.world import parse_iso

RETURN_EMBEDDABLE = ("buyer", "return_units")


async def list_returns(ctx: Ctx) -> Response:
    """GET /returns: filters storefront, ts_created_from_iso, ts_updated_from_iso, tracking_code,
    status[], fulfillment_type[]; sort ts_created:desc | ts_updated:desc; limit ≤ 100."""
    storefront = ctx.storefront(required=False)
    created_from = q_time(ctx, "ts_created_from_iso")
    updated_from = q_time(ctx, "ts_updated_from_iso")
    tracking_code = ctx.q("tracking_code")
    statuses = q_enum_list(ctx, "status", marketplace.RETURN_STATUSES)
    fulfillment = fulfillment_filter(ctx)
    sort = q_sort(ctx, ("ts_created:desc", "ts_updated:desc"), "ts_created:desc")
    offset, limit = ctx.page(min_limit=1, max_limit=100)
    rows = [
        r
        for r in ctx.table("returns").values()
        if (not storefront or r["storefront"] == storefront)
        and (not tracking_code or r.get("tracking_code") == tracking_code)
        and (not statuses or r["status"] in statuses)
        and r["fulfillment_type"] in fulfillment
        and (created_from is None or parse_iso(r["ts_created_iso"]) >= created_from)
        and (updated_from is None or parse_iso(r["ts_updated_iso"]) >= updated_from)
    ]
    key = "ts_created_iso" if sort == "ts_created:desc" else "ts_updated_iso"
    return page(sort_desc(rows, key), offset, limit)


async def get_return(ctx: Ctx) -> Response:
    """GET /returns/{id_return} (``ReturnDetails``; embeds buyer, return_units)."""
    embedded = ctx.embedded(RETURN_EMBEDDABLE)
    id_return = path_int(ctx, "id_return")
    ret = ctx.table("returns").get(str(id_return))
    if ret is None:
        raise not_found("Return", id_return)
    return data(marketplace.return_view(ctx.seller, ret, embedded))


async def initiate_return(ctx: Ctx) -> Response:
    """POST /returns, body ``[{id_order_unit, reason, note}]`` (one order) → 201."""
    ret = marketplace.initiate_return(ctx.world, ctx.seller.client_key, ctx.json())
    ctx.world.dirty = True
    return data(marketplace.return_view(ctx.seller, ret), status=201)


async def update_return(ctx: Ctx) -> Response:
    """PUT /returns/{id_return}, same body, adds units of the same order → 201."""
    id_return = path_int(ctx, "id_return")
    ret = marketplace.add_return_units(ctx.world, ctx.seller.client_key, id_return, ctx.json())
    ctx.world.dirty = True
    return data(marketplace.return_view(ctx.seller, ret), status=201)


ROUTES: list[RouteSpec] = [
    ("GET", "/returns", list_returns),
    ("POST", "/returns", initiate_return),
    ("GET", "/returns/{id_return}", get_return),
    ("PUT", "/returns/{id_return}", update_return),
]
