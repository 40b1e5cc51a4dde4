"""``POST /shipments``: another parcel (carrier + tracking number) for an already sent unit."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox import marketplace
from kaufland_sync.sandbox._http import Ctx, RouteSpec, no_content, validation
from kaufland_sync.sandbox.routes._market import body_int, body_str, no_extra_fields


async def add_shipment(ctx: Ctx) -> Response:
    """Body ``{id_order_unit, shipment_information: {carrier_code, tracking_number}}`` → 204."""
    body = ctx.json_object()
    no_extra_fields(body, ("id_order_unit", "shipment_information"))
    id_ou = body_int(body, "id_order_unit")
    info = body.get("shipment_information")
    if not isinstance(info, dict):
        raise validation([("shipment_information", "This value should be of type object.")])
    prefix = "shipment_information."
    carrier = body_str(info, "carrier_code", min_len=1, prefix=prefix)
    tracking = body_str(info, "tracking_number", prefix=prefix)
    assert carrier is not None and tracking is not None
    marketplace.add_shipment(ctx.world, ctx.seller.client_key, id_ou, carrier, tracking)
    ctx.world.dirty = True
    return no_content()


ROUTES: list[RouteSpec] = [("POST", "/shipments", add_shipment)]
