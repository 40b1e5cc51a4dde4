"""``/order-units``: list, read, and the seller's actions fulfil, send, cancel and refund."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox import marketplace
from kaufland_sync.sandbox._http import (
    FORBIDDEN,
    Ctx,
    Problem,
    RouteSpec,
    data,
    no_content,
    not_found,
    validation,
)
from kaufland_sync.sandbox.routes._market import (
    body_enum,
    body_int,
    body_str,
    fulfillment_filter,
    no_extra_fields,
    page_views,
    path_int,
    q_enum_list,
    q_sort,
    q_time,
    sort_desc,
)
from kaufland_sync.sandbox.world import parse_iso

ORDER_UNIT_EMBEDDABLE = (
    "delivery_attempt_timestamp_iso",
    "return_unit",
    "tickets",
    "delivery",
    "kss_delivery",
)


async def list_order_units(ctx: Ctx) -> Response:
    """GET /order-units: filters storefront, id_offer, status[], ts_created_from_iso,
    ts_updated_from_iso, fulfillment_type[]; sort ts_created:desc (default) | ts_updated:desc."""
    storefront = ctx.storefront(required=False)
    id_offer = ctx.q("id_offer")
    statuses = q_enum_list(ctx, "status", marketplace.ORDER_UNIT_STATUSES)
    created_from = q_time(ctx, "ts_created_from_iso")
    updated_from = q_time(ctx, "ts_updated_from_iso")
    fulfillment = fulfillment_filter(ctx)
    sort = q_sort(ctx, ("ts_created:desc", "ts_updated:desc"), "ts_created:desc")
    offset, limit = ctx.page(min_limit=1, max_limit=100)
    rows = []
    for ou in ctx.table("order_units").values():
        if storefront and ou["storefront"] != storefront:
            continue
        if id_offer and ou.get("id_offer") != id_offer:
            continue
        if statuses and ou["status"] not in statuses:
            continue
        if ou["fulfillment_type"] not in fulfillment:
            continue
        if created_from is not None and parse_iso(ou["ts_created_iso"]) < created_from:
            continue
        if updated_from is not None and parse_iso(ou["ts_updated_iso"]) < updated_from:
            continue
        rows.append(ou)
    key = "ts_created_iso" if sort == "ts_created:desc" else "ts_updated_iso"
    ordered = sort_desc(rows, key)
    window = [
        marketplace.order_unit_view(ctx.world, ctx.seller, ou)
        for ou in ordered[offset : offset + limit]
    ]
    return page_views(window, offset, limit, len(ordered))


async def get_order_unit(ctx: Ctx) -> Response:
    """GET /order-units/{id_order_unit} (``OrderUnitDetails``, optional embeds)."""
    embedded = ctx.embedded(ORDER_UNIT_EMBEDDABLE)
    id_ou = path_int(ctx, "id_order_unit")
    ou = ctx.table("order_units").get(str(id_ou))
    if ou is None:
        raise not_found("Order unit", id_ou)
    return data(marketplace.order_unit_view(ctx.world, ctx.seller, ou, embedded))


def _check_fbm(ctx: Ctx, id_ou: int) -> None:
    ou = ctx.table("order_units").get(str(id_ou))
    if ou is None:
        raise not_found("Order unit", id_ou)
    if ou["fulfillment_type"] == "fulfilled_by_kaufland":
        raise Problem(403, FORBIDDEN, "Order units fulfilled by Kaufland are handled by Kaufland.")


async def fulfil(ctx: Ctx) -> Response:
    """PATCH /order-units/{id}/fulfil (no body) → 204."""
    id_ou = path_int(ctx, "id_order_unit")
    _check_fbm(ctx, id_ou)
    marketplace.fulfil_order_unit(ctx.world, ctx.seller.client_key, id_ou)
    ctx.world.dirty = True
    return no_content()


async def send(ctx: Ctx) -> Response:
    """PATCH /order-units/{id}/send ``{tracking_numbers, carrier_code}`` → 204."""
    id_ou = path_int(ctx, "id_order_unit")
    body = ctx.json_object()
    no_extra_fields(body, ("tracking_numbers", "carrier_code"))
    carrier = body_str(body, "carrier_code", min_len=1)
    tracking = body.get("tracking_numbers")
    if isinstance(tracking, list) and all(isinstance(t, str) for t in tracking):
        # The spec says string; an array is a common client mistake Kaufland rejects.
        raise validation([("tracking_numbers", "This value should be of type string.")])
    if tracking is None and carrier in marketplace.NO_TRACKING_CARRIERS:
        tracking = ""
    tracking_text = body_str({"tracking_numbers": tracking}, "tracking_numbers")
    assert carrier is not None and tracking_text is not None
    _check_fbm(ctx, id_ou)
    marketplace.send_order_unit(ctx.world, ctx.seller.client_key, id_ou, tracking_text, carrier)
    ctx.world.dirty = True
    return no_content()


async def cancel(ctx: Ctx) -> Response:
    """PATCH /order-units/{id}/cancel ``{reason}`` → 204."""
    id_ou = path_int(ctx, "id_order_unit")
    body = ctx.json_object()
    no_extra_fields(body, ("reason",))
    reason = body_enum(body, "reason", marketplace.CANCEL_REASONS)
    _check_fbm(ctx, id_ou)
    marketplace.cancel_order_unit(ctx.world, ctx.seller.client_key, id_ou, reason)
    ctx.world.dirty = True
    return no_content()


async def refund(ctx: Ctx) -> Response:
    """PATCH /order-units/{id}/refund ``{amount, reason}`` → 204."""
    id_ou = path_int(ctx, "id_order_unit")
    body = ctx.json_object()
    no_extra_fields(body, ("amount", "reason"))
    amount = body_int(body, "amount")
    reason = body_enum(body, "reason", marketplace.REFUND_REASONS)
    if amount < 1:
        raise validation([("amount", "This value should be greater than 0.")])
    marketplace.refund_order_unit(ctx.world, ctx.seller.client_key, id_ou, amount, reason)
    ctx.world.dirty = True
    return no_content()


ROUTES: list[RouteSpec] = [
    ("GET", "/order-units", list_order_units),
    ("GET", "/order-units/{id_order_unit}", get_order_unit),
    ("PATCH", "/order-units/{id_order_unit}/fulfil", fulfil),
    ("PATCH", "/order-units/{id_order_unit}/send", send),
    ("PATCH", "/order-units/{id_order_unit}/cancel", cancel),
    ("PATCH", "/order-units/{id_order_unit}/refund", refund),
]
