"""``/return-units``: list, read, and the seller's decisions accept/reject/clarify/repair."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox import marketplace
from kaufland_sync.sandbox._http import Ctx, RouteSpec, data, no_content, not_found, page
from kaufland_sync.sandbox.routes._market import (
    body_str,
    fulfillment_filter,
    no_extra_fields,
    path_int,
    q_enum_list,
    q_sort,
    q_time,
    sort_desc,
)
from kaufland_sync.sandbox.world import parse_iso, public

RETURN_UNIT_EMBEDDABLE = ("return", "order_unit", "tickets")


async def list_return_units(ctx: Ctx) -> Response:
    """GET /return-units: filters storefront, ts_created_from_iso, status[], fulfillment_type[];
    sort ts_created:desc | ts_updated:desc; limit ≤ 100 (default 30)."""
    storefront = ctx.storefront(required=False)
    created_from = q_time(ctx, "ts_created_from_iso")
    statuses = q_enum_list(ctx, "status", marketplace.RETURN_UNIT_STATUSES)
    fulfillment = fulfillment_filter(ctx)
    sort = q_sort(ctx, ("ts_created:desc", "ts_updated:desc"), "ts_created:desc")
    offset, limit = ctx.page(max_limit=100)
    rows = [
        r
        for r in ctx.table("return_units").values()
        if (not storefront or r["storefront"] == storefront)
        and (not statuses or r["status"] in statuses)
        and r["fulfillment_type"] in fulfillment
        and (created_from is None or parse_iso(r["ts_created_iso"]) >= created_from)
    ]
    if sort == "ts_created:desc":
        ordered = sort_desc(rows, "ts_created_iso")
    else:
        ordered = sorted(rows, key=lambda r: float(r.get("_ts_updated", 0)), reverse=True)
    return page(ordered, offset, limit)


async def get_return_unit(ctx: Ctx) -> Response:
    """GET /return-units/{id} (``ReturnUnitDetails``: always with ``return``; embeds
    order_unit, tickets)."""
    embedded = ctx.embedded(RETURN_UNIT_EMBEDDABLE)
    id_ru = path_int(ctx, "id_return_unit")
    ru = ctx.table("return_units").get(str(id_ru))
    if ru is None:
        raise not_found("Return unit", id_ru)
    view = public(ru)
    ret = ctx.table("returns").get(str(ru["id_return"]))
    view["return"] = public(ret) if ret else None
    if "order_unit" in embedded:
        ou = ctx.table("order_units").get(str(ru["id_order_unit"]))
        view["order_unit"] = public(ou) if ou else None
    if "tickets" in embedded:
        view["tickets"] = [
            public(t)
            for t in ctx.table("tickets").values()
            if ru["id_order_unit"] in t["ids_order_units"]
        ]
    return data(view)


def _message(ctx: Ctx) -> str:
    body = ctx.json_object()
    no_extra_fields(body, ("message",))
    message = body_str(body, "message", min_len=1)
    assert message is not None
    return message


async def accept(ctx: Ctx) -> Response:
    """PATCH /return-units/{id}/accept → 204."""
    id_ru = path_int(ctx, "id_return_unit")
    marketplace.accept_return_unit(ctx.world, ctx.seller.client_key, id_ru)
    ctx.world.dirty = True
    return no_content()


async def reject(ctx: Ctx) -> Response:
    """PATCH /return-units/{id}/reject ``{message}`` → 204."""
    id_ru = path_int(ctx, "id_return_unit")
    message = _message(ctx)
    marketplace.reject_return_unit(ctx.world, ctx.seller.client_key, id_ru, message)
    ctx.world.dirty = True
    return no_content()


async def clarify(ctx: Ctx) -> Response:
    """PATCH /return-units/{id}/clarify ``{message}`` → 204."""
    id_ru = path_int(ctx, "id_return_unit")
    message = _message(ctx)
    marketplace.clarify_return_unit(ctx.world, ctx.seller.client_key, id_ru, message)
    ctx.world.dirty = True
    return no_content()


async def repair(ctx: Ctx) -> Response:
    """PATCH /return-units/{id}/repair → 204."""
    id_ru = path_int(ctx, "id_return_unit")
    marketplace.repair_return_unit(ctx.world, ctx.seller.client_key, id_ru)
    ctx.world.dirty = True
    return no_content()


ROUTES: list[RouteSpec] = [
    ("GET", "/return-units", list_return_units),
    ("GET", "/return-units/{id_return_unit}", get_return_unit),
    ("PATCH", "/return-units/{id_return_unit}/accept", accept),
    ("PATCH", "/return-units/{id_return_unit}/reject", reject),
    ("PATCH", "/return-units/{id_return_unit}/clarify", clarify),
    ("PATCH", "/return-units/{id_return_unit}/repair", repair),
]
