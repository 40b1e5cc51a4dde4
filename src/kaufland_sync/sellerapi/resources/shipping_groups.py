"""``/shipping-groups``: shipping costs and times a unit refers to (read-only here)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from kaufland_sync.sellerapi.models import Page, ShippingGroup
from kaufland_sync.sellerapi.resources._base import Resource, StorefrontArg, query

MAX_LIMIT = 30


class ShippingGroups(Resource):
    async def list(
        self, *, storefront: StorefrontArg = None, limit: int | None = None, offset: int = 0
    ) -> Page[ShippingGroup]:
        """``GET /shipping-groups``: one page (at most 30)."""
        params = query(storefront=self._storefront(storefront))
        return await self._page(
            "/shipping-groups",
            ShippingGroup,
            params,
            limit=limit,
            offset=offset,
            max_limit=MAX_LIMIT,
        )

    def iter_all(
        self, *, storefront: StorefrontArg = None, page_size: int | None = None
    ) -> AsyncIterator[ShippingGroup]:
        params = query(storefront=self._storefront(storefront))
        return self._iter(
            "/shipping-groups", ShippingGroup, params, max_limit=MAX_LIMIT, page_size=page_size
        )

    async def get(
        self, id_shipping_group: int, *, storefront: StorefrontArg = None
    ) -> ShippingGroup:
        """``GET /shipping-groups/{id_shipping_group}``."""
        params = query(storefront=self._storefront(storefront))
        return await self._get(f"/shipping-groups/{id_shipping_group}", ShippingGroup, params)
