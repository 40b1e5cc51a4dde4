"""``/units``: the seller's offers. Create, read, list, change, delete, and bulk change.

Kaufland's rules kept here: ``id_offer`` (SKU) is unique per storefront and bound to one EAN
across all storefronts; a unit for an EAN without a product is ``INCOMPLETE`` until product
data makes one; ``price`` is the effective price (``listing_price`` here, no Smart Pricing);
``shipping_rate`` and transport times come from the shipping group; ``amount`` is 0..99 999;
a PATCH may set ``status`` only to ``AVAILABLE`` or ``ONHOLD``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox._http import (
    ALREADY_EXISTS,
    BULK_DUPLICATE_UNITS,
    BULK_TOO_MANY_UNITS,
    VALIDATION_ERROR,
    Ctx,
    Fields,
    Problem,
    RouteSpec,
    data,
    no_content,
    not_found,
    validation,
)
from kaufland_sync.sandbox.world import Record, Seller, World
from kaufland_sync.sellerapi.storefronts import Storefront

LIST_EMBEDDABLE = ("products", "eco_participation", "battery_participation", "")
WRITE_EMBEDDABLE = ("eco_participation", "battery_participation", "")
FULFILLMENT_TYPES = ("fulfilled_by_merchant", "fulfilled_by_kaufland")
MAX_AMOUNT = 99_999
MAX_BULK = 150
ID_OFFER_MAX_LENGTH = 100

CREATE_FIELDS = (
    "amount", "handling_time", "listing_price", "minimum_price", "note", "id_shipping_group",
    "id_warehouse", "ean", "id_product", "id_offer", "condition", "vat_indicator",
    "eco_participation", "battery_participation",
)  # fmt: skip
PATCH_FIELDS = (
    "status", "amount", "handling_time", "listing_price", "minimum_price", "note",
    "id_shipping_group", "id_warehouse", "vat_indicator", "eco_participation",
    "battery_participation",
)  # fmt: skip


def _unit_for(ctx: Ctx, storefront: str, id_unit: int) -> Record:
    unit = ctx.table("units").get(str(id_unit))
    if unit is None or unit["storefront"] != storefront:
        raise not_found("Unit", id_unit)
    return unit


def _event_payload(unit: Record) -> Record:
    return {
        "id_unit": unit["id_unit"],
        "id_offer": unit["id_offer"],
        "amount": unit["amount"],
        "price": unit["price"],
        "status": unit["status"],
    }


def _emit(world: World, seller: Seller, unit: Record, event: str) -> None:
    world.emit(
        seller.client_key,
        event,
        f"/v2/units/{unit['id_unit']}",
        unit["storefront"],
        _event_payload(unit),
    )


def _common(fields: Fields, storefront: str) -> dict[str, Any]:
    """Fields shared by UnitRequest and UnitPatchRequest, validated."""
    max_price = Storefront(storefront).max_listing_price
    return {
        "amount": fields.integer("amount", minimum=0, maximum=MAX_AMOUNT),
        "handling_time": fields.integer("handling_time", minimum=0, maximum=100),
        "listing_price": fields.integer("listing_price", minimum=1, maximum=max_price),
        "minimum_price": fields.integer("minimum_price", minimum=1, maximum=max_price),
        "note": fields.string("note", max_length=250, nullable=True),
        "id_shipping_group": fields.integer("id_shipping_group", minimum=1, nullable=True),
        "id_warehouse": fields.integer("id_warehouse", minimum=1, nullable=True),
        "vat_indicator": fields.enum("vat_indicator", catalog.WRITABLE_VAT_INDICATORS),
        "eco_participation": fields.integer("eco_participation", minimum=1, nullable=True),
        "battery_participation": fields.integer("battery_participation", minimum=1, nullable=True),
    }


def _check_references(ctx: Ctx, fields: Fields, storefront: str, values: dict[str, Any]) -> None:
    group_id = values.get("id_shipping_group")
    if group_id is not None:
        group = ctx.table("shipping_groups").get(str(group_id))
        if group is None or group["storefront"] != storefront:
            fields.errors.append(
                ("id_shipping_group", f"Shipping group {group_id} does not exist on {storefront}.")
            )
    warehouse_id = values.get("id_warehouse")
    if warehouse_id is not None and str(warehouse_id) not in ctx.table("warehouses"):
        fields.errors.append(("id_warehouse", f"Warehouse {warehouse_id} does not exist."))


def _condition(fields: Fields) -> str:
    value = fields.body.get("condition", "NEW")
    if isinstance(value, int) and not isinstance(value, bool):
        if value in catalog.CONDITION_CODES:
            return catalog.CONDITION_CODES[value]
    elif isinstance(value, str) and value in catalog.UNIT_CONDITIONS:
        return value
    fields.errors.append(
        (
            "condition",
            f"The value you selected is not a valid choice: {', '.join(catalog.UNIT_CONDITIONS)}.",
        )
    )
    return "NEW"


async def create_unit(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    assert storefront is not None
    embedded = ctx.embedded(WRITE_EMBEDDABLE)
    fields = Fields(ctx.json_object(), CREATE_FIELDS)
    values = _common(fields, storefront)
    for required in ("handling_time", "listing_price"):
        if not fields.has(required):
            fields.errors.append((required, "This value should not be blank."))
    id_offer = fields.string("id_offer", required=True, max_length=ID_OFFER_MAX_LENGTH)
    ean = fields.string("ean")
    id_product = fields.integer("id_product", minimum=1)
    condition = _condition(fields)
    if ean is not None and (not ean.isdigit() or len(ean) not in (13, 14)):
        fields.errors.append(("ean", "The EAN must consist of 13 or 14 digits."))
        ean = None
    if not fields.has("ean") and not fields.has("id_product"):
        fields.errors.append(("ean", "Either ean or id_product must be given."))
    if (
        values["minimum_price"] is not None
        and values["listing_price"] is not None
        and values["minimum_price"] > values["listing_price"]
    ):
        fields.errors.append(
            ("minimum_price", "The minimum price must not exceed the listing price.")
        )
    _check_references(ctx, fields, storefront, values)
    fields.check()
    assert id_offer is not None
    world = ctx.world
    product: Record | None = None
    if id_product is not None:
        product = catalog.product_by_id(world, id_product)
        if product is None:
            raise validation([("id_product", f"Product {id_product} does not exist.")])
        if ean is not None and catalog.ean_key(ean) not in {
            catalog.ean_key(e) for e in product["eans"]
        }:
            raise validation([("ean", f"EAN {ean} does not belong to product {id_product}.")])
    for other in catalog.units_with_offer(world, ctx.seller, id_offer):
        if other["storefront"] == storefront:
            raise Problem(
                400,
                ALREADY_EXISTS,
                "A unit with this id_offer already exists on this storefront.",
                [
                    (
                        "id_offer",
                        f"id_offer '{id_offer}' is already used by unit {other['id_unit']}.",
                    )
                ],
            )
        same = (product is not None and other["id_product"] == product["id_product"]) or (
            ean is not None and catalog.ean_key(other.get("_ean") or "") == catalog.ean_key(ean)
        )
        if not same:
            raise Problem(
                400,
                VALIDATION_ERROR,
                "An id_offer is bound to one EAN across all storefronts.",
                [
                    ("id_offer", f"id_offer '{id_offer}' is already used for another product."),
                    ("ean", "This EAN differs from the one the id_offer was first used with."),
                ],
            )
    if product is None:
        assert ean is not None
        product = catalog.product_for_ean(world, ean) or catalog.reserve_product(world, ean)
    unit = catalog.new_unit(
        world,
        ctx.seller,
        storefront,
        id_offer=id_offer,
        product=product,
        ean=ean,
        listing_price=values["listing_price"],
        handling_time=values["handling_time"],
        amount=values["amount"] if values["amount"] is not None else 1,
        minimum_price=values["minimum_price"],
        condition=condition,
        note=values["note"],
        id_shipping_group=values["id_shipping_group"],
        id_warehouse=values["id_warehouse"],
        vat_indicator=values["vat_indicator"] or "standard_rate",
        eco_participation=values["eco_participation"],
        battery_participation=values["battery_participation"],
    )
    _emit(world, ctx.seller, unit, "item_unit_new")
    return data(catalog.unit_view(world, unit, embedded))


async def list_units(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    assert storefront is not None
    embedded = ctx.embedded(LIST_EMBEDDABLE)
    offset, limit = ctx.page(max_limit=100, default_limit=30)
    id_offer = ctx.q("id_offer")
    id_product = ctx.q_int("id_product", minimum=1)
    ean = ctx.q("ean")
    types = ctx.q_list("fulfillment_type")
    bad = [t for t in types if t not in FULFILLMENT_TYPES]
    if bad:
        raise validation([("fulfillment_type", f"The value '{bad[0]}' is not a valid choice.")])
    product_ids: set[int] | None = None
    if ean:
        product = catalog.product_for_ean(ctx.world, ean, pending=True)
        product_ids = {product["id_product"]} if product else set()
    found = []
    candidates = (
        catalog.units_with_offer(ctx.world, ctx.seller, id_offer)
        if id_offer is not None
        else ctx.table("units").values()
    )
    for unit in candidates:
        if unit["storefront"] != storefront:
            continue
        if id_offer is not None and unit["id_offer"] != id_offer:
            continue
        if id_product is not None and unit["id_product"] != id_product:
            continue
        if product_ids is not None and unit["id_product"] not in product_ids:
            continue
        if types and unit["fulfillment_type"] not in types:
            continue
        found.append(unit)
    window = [catalog.unit_view(ctx.world, u, embedded) for u in found[offset : offset + limit]]
    return JSONResponse(
        {"data": window, "pagination": {"offset": offset, "limit": limit, "total": len(found)}}
    )


async def get_unit(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    assert storefront is not None
    embedded = ctx.embedded(LIST_EMBEDDABLE)
    unit = _unit_for(ctx, storefront, ctx.path["id_unit"])
    return data(catalog.unit_view(ctx.world, unit, embedded))


def _patch(ctx: Ctx, unit: Record, body: Any) -> list[tuple[str, str]]:
    """Validate and apply a ``UnitPatchRequest``; return field errors (nothing applied then)."""
    if not isinstance(body, dict):
        return [("unit_data", "This value should be of type object.")]
    storefront = unit["storefront"]
    fields = Fields(body, PATCH_FIELDS)
    values = _common(fields, storefront)
    status = fields.enum("status", ("AVAILABLE", "ONHOLD"))
    if status is not None and unit["status"] == "INCOMPLETE":
        fields.errors.append(("status", "The unit is INCOMPLETE until its product exists."))
    listing = (
        values["listing_price"] if values["listing_price"] is not None else unit["listing_price"]
    )
    minimum = values["minimum_price"] if values["minimum_price"] is not None else None
    if minimum is not None and minimum > listing:
        fields.errors.append(
            ("minimum_price", "The minimum price must not exceed the listing price.")
        )
    _check_references(ctx, fields, storefront, values)
    if fields.errors:
        return fields.errors
    before_amount = unit["amount"]
    changed = False
    for key in PATCH_FIELDS:
        if key == "status":
            new = status
        elif key in body:
            new = values[key]
        else:
            continue
        if new is None and key in (
            "status",
            "amount",
            "handling_time",
            "listing_price",
            "minimum_price",
            "vat_indicator",
        ):
            continue  # null for a non-nullable field was reported above; nothing to set
        if unit.get(key) != new:
            unit[key] = new
            changed = True
    if unit["minimum_price"] > unit["listing_price"]:
        unit["minimum_price"] = unit["listing_price"]  # lowering the price drags the floor along
    unit["price"] = unit["listing_price"]
    if "id_shipping_group" in body:
        if unit["id_shipping_group"] is None:
            group = catalog.default_shipping_group(ctx.seller, storefront)
            unit["id_shipping_group"] = group["id_shipping_group"] if group else None
        catalog.apply_shipping(ctx.seller, unit)
    world = ctx.world
    unit["date_lastchange_iso"] = world.now_iso()
    world.dirty = True
    if changed:
        _emit(world, ctx.seller, unit, "item_unit_changed")
        if before_amount > 0 and unit["amount"] == 0:
            _emit(world, ctx.seller, unit, "item_unit_out_of_stock")
    return []


async def patch_unit(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    assert storefront is not None
    embedded = ctx.embedded(WRITE_EMBEDDABLE)
    unit = _unit_for(ctx, storefront, ctx.path["id_unit"])
    errors = _patch(ctx, unit, ctx.json_object())
    if errors:
        raise validation(errors)
    return data(catalog.unit_view(ctx.world, unit, embedded))


async def delete_unit(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    assert storefront is not None
    unit = _unit_for(ctx, storefront, ctx.path["id_unit"])
    del ctx.table("units")[str(unit["id_unit"])]
    ctx.world.dirty = True
    _emit(ctx.world, ctx.seller, unit, "item_unit_deleted")
    return no_content()


async def bulk_update(ctx: Ctx) -> Response:
    """Up to 150 ``{"id_unit", "unit_data"}`` patches; 207 with one result per item."""
    storefront = ctx.storefront()
    assert storefront is not None
    embedded = ctx.embedded(WRITE_EMBEDDABLE)
    items = ctx.json()
    if not isinstance(items, list):
        raise validation([("body", "This value should be of type array.")], "Invalid request body")
    if len(items) > MAX_BULK:
        raise Problem(
            400, BULK_TOO_MANY_UNITS, f"Too many units: at most {MAX_BULK} units per request."
        )
    ids: list[int] = []
    errors: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        id_unit = item.get("id_unit") if isinstance(item, dict) else None
        if isinstance(id_unit, bool) or not isinstance(id_unit, int) or id_unit < 1:
            errors.append((f"[{i}].id_unit", "This value should be a positive integer."))
        else:
            ids.append(id_unit)
    if errors:
        raise validation(errors, "Invalid request body")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise Problem(
            400,
            BULK_DUPLICATE_UNITS,
            f"Duplicate units in request: {', '.join(map(str, duplicates))}.",
        )
    results: list[Record] = []
    for item in items:
        id_unit = item["id_unit"]
        unit = ctx.table("units").get(str(id_unit))
        if unit is None or unit["storefront"] != storefront:
            results.append(
                {"id_unit": id_unit, "status_code": 404, "message": "Unit not found", "errors": []}
            )
            continue
        if "unit_data" not in item:
            item_errors = [("unit_data", "This value should not be blank.")]
        else:
            item_errors = _patch(ctx, unit, item["unit_data"])
        if item_errors:
            results.append(
                {
                    "id_unit": id_unit,
                    "status_code": 400,
                    "message": "Validation failed",
                    "errors": [{"field": f, "message": m} for f, m in item_errors],
                }
            )
            continue
        results.append(
            {
                "id_unit": id_unit,
                "status_code": 200,
                "unit": catalog.unit_view(ctx.world, unit, embedded),
            }
        )
    return JSONResponse({"data": results}, status_code=207)


ROUTES: list[RouteSpec] = [
    ("GET", "/units", list_units),
    ("POST", "/units", create_unit),
    ("POST", "/units/bulk", bulk_update),
    ("GET", "/units/{id_unit:int}", get_unit),
    ("PATCH", "/units/{id_unit:int}", patch_unit),
    ("DELETE", "/units/{id_unit:int}", delete_unit),
]
