"""``GET /assortment-coverage/insights``: products in demand that the seller does not offer.

The list is Kaufland's market data (seed.assortment_insights, the same for every seller);
what makes it the seller's is that products the seller already offers drop out: once any of
the seller's units (any storefront, any status) has an insight's EAN, that insight is gone.
There is no storefront parameter, and prices are euro cents (REFERENCE §4.14)."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox import seed
from kaufland_sync.sandbox._http import Ctx, RouteSpec, paged

MAX_LIMIT = 5000
DEFAULT_LIMIT = 10


async def insights(ctx: Ctx) -> Response:
    """q: ``limit`` (1-5000, default 10), ``offset`` → one page of ``AssortmentInsight``."""
    offset, limit = ctx.page(max_limit=MAX_LIMIT, default_limit=DEFAULT_LIMIT, min_limit=1)
    offered = {unit.get("_ean") for unit in ctx.table("units").values()}
    missing = [r for r in seed.assortment_insights(ctx.world) if r["ean"] not in offered]
    return paged(missing[offset : offset + limit], offset, limit, len(missing))


ROUTES: list[RouteSpec] = [("GET", "/assortment-coverage/insights", insights)]
