"""``/attributes``: the product-data attributes, their search, and shared-set values."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox._http import (
    PRODUCT_DATA_LOCALES,
    Ctx,
    RouteSpec,
    data,
    not_found,
    page,
    validation,
)
from kaufland_sync.sandbox.routes._market import path_int
from kaufland_sync.sandbox.world import Record


def _all(ctx: Ctx, locale: str | None) -> list[Record]:
    attrs = sorted(catalog.attributes(ctx.world).values(), key=lambda a: a["id"])
    return [catalog.attribute_view(a, locale) for a in attrs]


async def list_attributes(ctx: Ctx) -> Response:
    ctx.storefront()
    locale = ctx.locale(allowed=PRODUCT_DATA_LOCALES)
    offset, limit = ctx.page(max_limit=100, default_limit=20)
    return page(_all(ctx, locale), offset, limit)


async def search(ctx: Ctx) -> Response:
    ctx.storefront()
    locale = ctx.locale(allowed=PRODUCT_DATA_LOCALES)
    text = (ctx.q("q") or "").strip().lower()
    if not text:
        raise validation([("q", "This value should not be blank.")])
    offset, limit = ctx.page(max_limit=100, default_limit=20)
    found = [
        a for a in _all(ctx, locale) if text in a["name"].lower() or text in a["title"].lower()
    ]
    return page(found, offset, limit)


def _by_id(ctx: Ctx) -> Record:
    id_attribute = path_int(ctx, "id_attribute")
    attr = catalog.attributes(ctx.world).get(str(id_attribute))
    if attr is None:
        raise not_found("Attribute", id_attribute, bare=True)
    return attr


async def get_attribute(ctx: Ctx) -> Response:
    ctx.storefront()
    locale = ctx.locale(allowed=PRODUCT_DATA_LOCALES)
    return data(catalog.attribute_view(_by_id(ctx), locale))


async def get_by_name(ctx: Ctx) -> Response:
    ctx.storefront()
    locale = ctx.locale(allowed=PRODUCT_DATA_LOCALES)
    attr = catalog.attribute_by_name(ctx.world, str(ctx.path["name"]))
    if attr is None:
        raise not_found("Attribute", ctx.path["name"], bare=True)
    return data(catalog.attribute_view(attr, locale))


async def shared_set(ctx: Ctx) -> Response:
    ctx.locale(required=True, allowed=PRODUCT_DATA_LOCALES)
    attr = _by_id(ctx)
    text = (ctx.q("q") or "").strip().lower()
    offset, limit = ctx.page(min_limit=1, max_limit=100, default_limit=20)
    values = [{"label": v, "value": v} for v in attr.get("_shared_set", []) if text in v.lower()]
    return page(values, offset, limit)


async def shared_set_values(ctx: Ctx) -> Response:
    """A (fake, signed-looking) URL of a CSV with all values, valid for six days."""
    ctx.locale(required=True, allowed=PRODUCT_DATA_LOCALES)
    attr = _by_id(ctx)
    if not attr.get("is_sharedset"):
        raise not_found("Shared set of attribute", attr["id"], bare=True)
    expires = int(ctx.world.now()) + 6 * 86400
    return data(
        f"https://example.com/shared-sets/{attr['name']}.csv?expires={expires}&signature=sandbox"
    )


ROUTES: list[RouteSpec] = [
    ("GET", "/attributes", list_attributes),
    ("GET", "/attributes/search", search),
    ("GET", "/attributes/by-name/{name}", get_by_name),
    # Plain ``{id_attribute}``: a malformed id gets a 400 from the handler (_market.path_int).
    ("GET", "/attributes/{id_attribute}", get_attribute),
    ("GET", "/attributes/{id_attribute}/shared-set", shared_set),
    ("GET", "/attributes/{id_attribute}/shared-set-values", shared_set_values),
]
