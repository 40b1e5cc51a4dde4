"""``/categories``: list, tree, one category with embeds, and the category guesser."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox._http import (
    PRODUCT_DATA_LOCALES,
    Ctx,
    Fields,
    RouteSpec,
    data,
    not_found,
    page,
)
from kaufland_sync.sandbox.routes._market import path_int
from kaufland_sync.sandbox.world import Record

EMBEDDABLE = ("parent", "children", "required_attributes", "optional_attributes")


def _sorted(world_cats: dict[str, Record]) -> list[Record]:
    return sorted(world_cats.values(), key=lambda c: c["id_category"])


async def list_categories(ctx: Ctx) -> Response:
    """Filter by ``q`` (name or title, any case) and ``id_parent``; max limit 100."""
    storefront = ctx.storefront()
    assert storefront is not None
    locale = ctx.locale(allowed=PRODUCT_DATA_LOCALES)
    id_parent = ctx.q_int("id_parent", minimum=1)
    text = (ctx.q("q") or "").strip().lower()
    offset, limit = ctx.page(max_limit=100, default_limit=20)
    found = []
    for cat in _sorted(catalog.categories(ctx.world)):
        if cat["level"] == 0:
            continue  # the root is the tree's anchor, not a category one can list
        if id_parent is not None and cat["id_parent_category"] != id_parent:
            continue
        view = catalog.category_view(cat, storefront, locale)
        if text and not any(
            text in str(v).lower()
            for v in (cat["name"], view["title_singular"], view["title_plural"])
        ):
            continue
        found.append(view)
    return page(found, offset, limit)


async def tree(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    assert storefront is not None
    locale = ctx.locale(allowed=PRODUCT_DATA_LOCALES)

    def node(cat: Record) -> Record:
        view = catalog.category_view(cat, storefront, locale)
        view.pop("is_leaf")
        children = sorted(
            catalog.children_of(ctx.world, cat["id_category"]), key=lambda c: c["id_category"]
        )
        view["children"] = [node(c) for c in children]
        return view

    root = catalog.categories(ctx.world).get("1")
    if root is None:
        return data({})
    return data(node(root))


def _attribute_list(ctx: Ctx, names: list[str], locale: str | None) -> list[Record]:
    out = []
    for name in names:
        attr = catalog.attribute_by_name(ctx.world, name)
        if attr is not None:
            out.append(catalog.attribute_view(attr, locale))
    return out


async def get_category(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    assert storefront is not None
    embedded = ctx.embedded(EMBEDDABLE)
    locale = ctx.locale(allowed=PRODUCT_DATA_LOCALES)
    id_category = path_int(ctx, "id_category")
    cat = catalog.categories(ctx.world).get(str(id_category))
    if cat is None:
        raise not_found("Category", id_category, bare=True)
    view: dict[str, Any] = catalog.category_view(cat, storefront, locale)
    if "parent" in embedded:
        parent = catalog.categories(ctx.world).get(str(cat["id_parent_category"]))
        if parent is not None and parent is not cat:
            view["parent"] = catalog.category_view(parent, storefront, locale)
    if "children" in embedded:
        children = sorted(
            catalog.children_of(ctx.world, cat["id_category"]), key=lambda c: c["id_category"]
        )
        view["children"] = [catalog.category_view(c, storefront, locale) for c in children]
    if "required_attributes" in embedded:
        view["required_attributes"] = _attribute_list(ctx, cat.get("_required", []), locale)
    if "optional_attributes" in embedded:
        view["optional_attributes"] = _attribute_list(ctx, cat.get("_optional", []), locale)
    return data(view)


async def decide(ctx: Ctx) -> Response:
    """Guess categories from ``item.title/description/manufacturer``; best guess first."""
    storefront = ctx.storefront()
    assert storefront is not None
    locale = ctx.locale(allowed=PRODUCT_DATA_LOCALES)
    body = Fields(ctx.json_object(), ("item", "price"))
    item = body.obj("item", required=True)
    price = body.body.get("price")
    if "price" not in body.body:
        body.errors.append(("price", "This value should not be blank."))
    elif isinstance(price, bool) or not isinstance(price, int | float):
        body.errors.append(("price", "This value should be of type number."))
    texts: list[str] = []
    if item is not None:
        fields = Fields(item, ("title", "description", "manufacturer"), prefix="item.")
        for key in ("title", "description", "manufacturer"):
            value = fields.string(key)
            if value:
                texts.append(value)
        if not item.get("title"):
            fields.errors.append(("item.title", "This value should not be blank."))
        body.errors.extend(fields.errors)
    body.check()
    guesses = catalog.decide_categories(ctx.world, " ".join(texts))
    return data([catalog.category_view(c, storefront, locale) for c in guesses])


ROUTES: list[RouteSpec] = [
    ("GET", "/categories", list_categories),
    ("GET", "/categories/tree", tree),
    ("POST", "/categories/decide", decide),
    ("GET", "/categories/{id_category}", get_category),
]
