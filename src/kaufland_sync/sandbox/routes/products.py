"""``/products``: Kaufland's catalogue, read-only: by EAN, by id, and search."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox._http import Ctx, RouteSpec, data, not_found, paged, validation
from kaufland_sync.sandbox.routes._market import path_int
from kaufland_sync.sandbox.world import Record, World

EMBEDDABLE = ("category", "category_basic", "units")


def pseudonym(client_key: str) -> str:
    """The public shop name buyers see for a seller (stable per client key)."""
    return f"Sandbox-Shop-{client_key[:6]}"


def offers(world: World, product: Record, storefront: str) -> list[Record]:
    """Every seller's buyable units of a product on a storefront (``ProductUnitEmbedded``)."""
    out = []
    for seller, unit in catalog.iter_units(world):
        if (
            unit["id_product"] != product["id_product"]
            or unit["storefront"] != storefront
            or unit["status"] != "AVAILABLE"
            or unit["amount"] <= 0
        ):
            continue
        group = seller.table("shipping_groups").get(str(unit["id_shipping_group"]))
        warehouse = seller.table("warehouses").get(str(unit["id_warehouse"]))
        out.append(
            {
                "id_unit": unit["id_unit"],
                "id_product": unit["id_product"],
                "condition": unit["condition"],
                "location": warehouse["address"]["country"] if warehouse else None,
                "warehouse": warehouse["name"] if warehouse else None,
                "amount": unit["amount"],
                "price": unit["price"],
                "delivery_time_min": unit["handling_time"] + unit["transport_time_min"],
                "delivery_time_max": unit["handling_time"] + unit["transport_time_max"],
                "shipping_group": group["name"] if group else None,
                "note": unit["note"],
                "seller": {"pseudonym": pseudonym(seller.client_key)},
                "reference_price": None,
                "shipping_rate": unit["shipping_rate"],
                "date_inserted": unit["date_inserted_iso"],
                "date_lastchange": unit["date_lastchange_iso"],
                "fulfillment_type": unit["fulfillment_type"],
            }
        )
    out.sort(key=lambda u: (u["price"] + u["shipping_rate"], u["id_unit"]))
    return out


def render(ctx: Ctx, product: Record, storefront: str, embedded: set[str]) -> Record:
    view = catalog.product_view(product, storefront)
    cat = catalog.categories(ctx.world).get(str(product["id_category"]))
    if cat is not None and "category" in embedded:
        view["category"] = catalog.category_view(cat, storefront, None)
    if cat is not None and "category_basic" in embedded:
        view["category_basic"] = catalog.category_view(cat, storefront, None, basic=True)
    if "units" in embedded:
        view["units"] = offers(ctx.world, product, storefront)
    return view


async def by_ean(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    assert storefront is not None
    embedded = ctx.embedded(EMBEDDABLE)
    ean = str(ctx.path["ean"])
    if not ean.isdigit() or len(ean) not in (13, 14, 15):
        raise validation([("ean", "The EAN must consist of 13, 14 or 15 digits.")])
    product = catalog.product_for_ean(ctx.world, ean)
    if product is None:
        raise not_found("Product with EAN", ean, bare=True)
    return data(render(ctx, product, storefront, embedded))


async def by_id(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    assert storefront is not None
    embedded = ctx.embedded(EMBEDDABLE)
    id_product = path_int(ctx, "id_product")
    product = catalog.product_by_id(ctx.world, id_product)
    if product is None:
        raise not_found("Product", id_product, bare=True)
    return data(render(ctx, product, storefront, embedded))


async def search(ctx: Ctx) -> Response:
    storefront = ctx.storefront()
    assert storefront is not None
    embedded = ctx.embedded(EMBEDDABLE)
    text = (ctx.q("q") or "").strip()
    if not text:
        raise validation([("q", "This value should not be blank.")])
    offset, limit = ctx.page(max_limit=100, default_limit=20)
    found = catalog.search_products(ctx.world, text)
    window = [render(ctx, p, storefront, embedded) for p in found[offset : offset + limit]]
    return paged(window, offset, limit, len(found))


ROUTES: list[RouteSpec] = [
    ("GET", "/products/search", search),
    ("GET", "/products/ean/{ean}", by_ean),
    ("GET", "/products/{id_product}", by_id),
]
