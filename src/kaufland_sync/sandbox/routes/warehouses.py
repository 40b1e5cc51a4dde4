"""``/warehouses``: the seller's warehouses (no storefront). One is always the default; the
last one, the default one, and one that units still use cannot be deleted."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox._http import (
    DEFAULT_REQUIRED,
    HAS_UNITS,
    LAST_ELEMENT,
    Ctx,
    Fields,
    Problem,
    RouteSpec,
    data,
    no_content,
    not_found,
    page,
)
from kaufland_sync.sandbox.world import Record

ADDRESS_FIELDS = ("street", "city", "house_number", "postcode", "country", "phone")


def _parse(ctx: Ctx) -> tuple[str, dict[str, Any], bool]:
    fields = Fields(ctx.json_object(), ("name", "address", "is_default"))
    name = fields.string("name", required=True, max_length=255)
    is_default = fields.boolean("is_default", required=True)
    raw = fields.obj("address", required=True)
    address: dict[str, Any] = {}
    if raw is not None:
        sub = Fields(raw, ADDRESS_FIELDS, prefix="address.")
        for key in ADDRESS_FIELDS[:5]:
            address[key] = sub.string(key, required=True, max_length=255)
        address["phone"] = sub.string("phone", max_length=50, nullable=True)
        country = address.get("country")
        if country is not None and (len(country) != 2 or not country.isalpha()):
            sub.errors.append(
                ("address.country", "This value is not a valid country (ISO 3166-1 alpha-2).")
            )
        elif country is not None:
            address["country"] = country.upper()
        fields.errors.extend(sub.errors)
    fields.check()
    assert name is not None and is_default is not None
    return name, address, is_default


def _get(ctx: Ctx) -> Record:
    id_ = ctx.path["id_warehouse"]
    warehouse = ctx.table("warehouses").get(str(id_))
    if warehouse is None:
        raise not_found("Warehouse", id_)
    return warehouse


def _make_default(ctx: Ctx, warehouse: Record) -> None:
    for other in ctx.table("warehouses").values():
        other["is_default"] = other is warehouse


async def list_warehouses(ctx: Ctx) -> Response:
    offset, limit = ctx.page(max_limit=30, default_limit=30)
    items = sorted(ctx.table("warehouses").values(), key=lambda w: w["id_warehouse"])
    return page(items, offset, limit)


async def create_warehouse(ctx: Ctx) -> Response:
    name, address, is_default = _parse(ctx)
    table = ctx.table("warehouses")
    id_ = ctx.world.next_id("warehouse", catalog.WAREHOUSE_ID_START)
    warehouse: Record = {
        "id_warehouse": id_,
        "name": name,
        "address": address,
        "is_default": False,
        "type": "normal",
    }
    table[str(id_)] = warehouse
    if is_default or len(table) == 1:
        _make_default(ctx, warehouse)
    ctx.world.dirty = True
    return data(warehouse, status=201)


async def get_warehouse(ctx: Ctx) -> Response:
    return data(_get(ctx))


async def update_warehouse(ctx: Ctx) -> Response:
    warehouse = _get(ctx)
    name, address, is_default = _parse(ctx)
    if warehouse["is_default"] and not is_default:
        raise Problem(
            400, DEFAULT_REQUIRED, "One warehouse must stay the default; make another one default."
        )
    warehouse["name"] = name
    warehouse["address"] = address
    if is_default:
        _make_default(ctx, warehouse)
    ctx.world.dirty = True
    return data(warehouse)


async def delete_warehouse(ctx: Ctx) -> Response:
    warehouse = _get(ctx)
    table = ctx.table("warehouses")
    if len(table) == 1:
        raise Problem(400, LAST_ELEMENT, "The last warehouse cannot be deleted.")
    if warehouse["is_default"]:
        raise Problem(400, DEFAULT_REQUIRED, "The default warehouse cannot be deleted.")
    used = sum(
        1 for u in ctx.table("units").values() if u.get("id_warehouse") == warehouse["id_warehouse"]
    )
    if used:
        raise Problem(400, HAS_UNITS, f"The warehouse is used by {used} unit(s).")
    del table[str(warehouse["id_warehouse"])]
    ctx.world.dirty = True
    return no_content()


ROUTES: list[RouteSpec] = [
    ("GET", "/warehouses", list_warehouses),
    ("POST", "/warehouses", create_warehouse),
    ("GET", "/warehouses/{id_warehouse:int}", get_warehouse),
    ("PUT", "/warehouses/{id_warehouse:int}", update_warehouse),
    ("DELETE", "/warehouses/{id_warehouse:int}", delete_warehouse),
]
