"""``/info``: the seller's storefronts, the locales, and VAT rates per storefront."""

from __future__ import annotations

from starlette.responses import Response

from kaufland_sync.sandbox import catalog
from kaufland_sync.sandbox._http import LOCALES, Ctx, RouteSpec, data


async def storefronts(ctx: Ctx) -> Response:
    return data(list(ctx.seller.storefronts))


async def locales(ctx: Ctx) -> Response:
    return data(list(LOCALES))


async def vat_indicators(ctx: Ctx) -> Response:
    """One entry per storefront, or only the one asked for (``storefront`` is optional here)."""
    chosen = ctx.storefront(required=False)
    wanted = [chosen] if chosen else list(ctx.seller.storefronts)
    return data(
        [
            {
                "storefront": sf,
                "vat_rates": [
                    {"vat_indicator": name, "value": value}
                    for name, value in catalog.VAT_RATES[sf].items()
                ],
            }
            for sf in wanted
        ]
    )


ROUTES: list[RouteSpec] = [
    ("GET", "/info/storefront", storefronts),
    ("GET", "/info/locale", locales),
    ("GET", "/info/vat-indicators", vat_indicators),
]
