"""``POST /playground/orders``: Kaufland's playground lets a seller place a test order for
their own units; here it goes through the same marketplace as every other order."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from kaufland_sync.sandbox import marketplace
from kaufland_sync.sandbox._http import Ctx, RouteSpec, validation


async def create_orders(ctx: Ctx) -> Response:
    """Body ``{"data": [{"id_item_unit": "<id>", "amount": n}, ...]}``, query ``storefront``
    → 201 ``{"data": [{"id_order"}], "total": 1}`` (one order with all items)."""
    storefront = ctx.storefront(required=True)
    assert storefront is not None
    body = ctx.json_object()
    items = body.get("data")
    if not isinstance(items, list) or not items:
        raise validation([("data", "This value should be a non-empty array.")])
    parsed: list[tuple[int, int]] = []
    for index, item in enumerate(items):
        where = f"data[{index}]"
        if not isinstance(item, dict):
            raise validation([(where, "This value should be of type object.")])
        raw_id = item.get("id_item_unit")
        try:
            id_unit = int(str(raw_id))
        except ValueError:
            raise validation(
                [(f"{where}.id_item_unit", "This value should be a unit id.")]
            ) from None
        amount = item.get("amount", 1)
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
            raise validation([(f"{where}.amount", "This value should be a positive integer.")])
        parsed.append((id_unit, amount))
    order = marketplace.place_order(ctx.world, ctx.seller.client_key, storefront, parsed)
    ctx.world.dirty = True
    return JSONResponse({"data": [{"id_order": order["id_order"]}], "total": 1}, status_code=201)


ROUTES: list[RouteSpec] = [("POST", "/playground/orders", create_orders)]
