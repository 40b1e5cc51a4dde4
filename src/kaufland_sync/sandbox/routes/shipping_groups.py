"""``/shipping-groups``: the seller's shipping groups per storefront (read-only in v2)."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox._http import Ctx, RouteSpec, data, not_found, page


async def list_groups(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    offset, limit = ctx.page(max_limit=30, default_limit=30)
    groups = [g for g in ctx.table("shipping_groups").values() if g["storefront"] == storefront]
    groups.sort(key=lambda g: g["id_shipping_group"])
    return page(groups, offset, limit)


async def get_group(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    id_ = ctx.path["id_shipping_group"]
    group = ctx.table("shipping_groups").get(str(id_))
    if group is None or group["storefront"] != storefront:
        raise not_found("Shipping group", id_)
    return data(group)


ROUTES: list[RouteSpec] = [
    ("GET", "/shipping-groups", list_groups),
    ("GET", "/shipping-groups/{id_shipping_group:int}", get_group),
]
