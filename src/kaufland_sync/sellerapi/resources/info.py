"""``/info``: what the seller account is set up for."""

from __future__ import annotations

from pydantic import TypeAdapter

from kaufland_sync.sellerapi.models import CountryVatRates
from kaufland_sync.sellerapi.resources._base import Resource, StorefrontArg, query

_STRINGS = TypeAdapter(list[str])
_VAT = TypeAdapter(list[CountryVatRates])


class Info(Resource):
    async def storefronts(self) -> list[str]:
        """``GET /info/storefront``: storefront codes the seller created, whatever their state."""
        response = await self._r.request("GET", "/info/storefront")
        return _STRINGS.validate_python(response.data)

    async def locales(self) -> list[str]:
        """``GET /info/locale``."""
        response = await self._r.request("GET", "/info/locale")
        return _STRINGS.validate_python(response.data)

    async def vat_indicators(self, storefront: StorefrontArg = None) -> list[CountryVatRates]:
        """``GET /info/vat-indicators``: VAT rates per indicator, for one storefront or all."""
        params = query(storefront=self._storefront_filter(storefront))
        response = await self._r.request("GET", "/info/vat-indicators", params=params)
        return _VAT.validate_python(response.data)
