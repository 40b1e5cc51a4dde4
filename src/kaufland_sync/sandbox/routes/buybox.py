"""``/buybox``: the ranking of all sellers' offers for a product, condition and storefront.
``id_unit``/``id_offer`` are shown only on the caller's own units."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox._http import Ctx, RouteSpec, data, not_found, validation
from kaufland_sync.sandbox.routes.products import pseudonym

CONDITIONS = (
    "new", "used", "used - as new", "used - very good", "used - good", "used - acceptable",
    "refurbished", "refurbished - as new", "refurbished - very good", "refurbished - good",
    "refurbished - acceptable",
)  # fmt: skip


async def buybox(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    id_product = ctx.q_int("id_product", required=True, minimum=1)
    condition = ctx.q_enum("condition", CONDITIONS, required=True)
    limit = ctx.q_int("limit", default=10, minimum=1, maximum=10)
    assert storefront is not None and id_product is not None and condition is not None
    assert limit is not None
    product = catalog.product_by_id(ctx.world, id_product)
    if product is None:
        raise not_found("Product", id_product)
    ranked = []
    for seller, unit in catalog.iter_units(ctx.world):
        if unit["id_product"] != id_product or unit["storefront"] != storefront:
            continue
        if unit["status"] != "AVAILABLE" or unit["amount"] <= 0:
            continue
        unit_condition = catalog.BUYBOX_CONDITION[unit["condition"]]
        if condition not in (unit_condition, unit_condition.split(" - ")[0]):
            continue
        entry = {
            "seller": pseudonym(seller.client_key),
            "price": unit["price"],
            "delivery_time_min": unit["handling_time"] + unit["transport_time_min"],
            "delivery_time_max": unit["handling_time"] + unit["transport_time_max"],
            "shipping_rate": unit["shipping_rate"],
            "fulfillment_type": unit["fulfillment_type"],
        }
        if seller is ctx.seller:
            entry["id_unit"] = unit["id_unit"]
            entry["id_offer"] = unit["id_offer"]
        ranked.append(entry)
    ranked.sort(key=lambda e: (e["price"] + e["shipping_rate"], e["delivery_time_max"]))
    for rank, entry in enumerate(ranked, start=1):
        entry["buybox_rank"] = rank
    if not ranked and ctx.q("condition") is None:
        raise validation([("condition", "This value should not be blank.")])
    return data(
        {
            "id_product": id_product,
            "condition": condition,
            "storefront": storefront,
            "num_units": len(ranked),
            "units": ranked[:limit],
        }
    )


ROUTES: list[RouteSpec] = [("GET", "/buybox", buybox)]
