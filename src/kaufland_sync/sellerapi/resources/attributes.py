"""``/attributes``: the attribute names product data is written with, and shared-set values."""

from __future__ import annotations

from collections.abc import AsyncIterator

from kaufland_sync.sellerapi.models import Attribute, Page, SharedSetValue
from kaufland_sync.sellerapi.resources._base import Resource, StorefrontArg, query, seg

MAX_LIMIT = 100


class Attributes(Resource):
    async def list(
        self,
        *,
        storefront: StorefrontArg = None,
        locale: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[Attribute]:
        """``GET /attributes``: one page of all attributes."""
        params = query(storefront=self._storefront(storefront), locale=locale)
        return await self._page(
            "/attributes", Attribute, params, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_all(
        self,
        *,
        storefront: StorefrontArg = None,
        locale: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Attribute]:
        params = query(storefront=self._storefront(storefront), locale=locale)
        return self._iter(
            "/attributes", Attribute, params, max_limit=MAX_LIMIT, page_size=page_size
        )

    async def search(
        self,
        q: str,
        *,
        storefront: StorefrontArg = None,
        locale: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[Attribute]:
        """``GET /attributes/search``: one page of attributes matching ``q``."""
        params = query(storefront=self._storefront(storefront), q=q, locale=locale)
        return await self._page(
            "/attributes/search", Attribute, params, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_search(
        self,
        q: str,
        *,
        storefront: StorefrontArg = None,
        locale: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Attribute]:
        params = query(storefront=self._storefront(storefront), q=q, locale=locale)
        return self._iter(
            "/attributes/search", Attribute, params, max_limit=MAX_LIMIT, page_size=page_size
        )

    async def get(
        self, id_attribute: int, *, storefront: StorefrontArg = None, locale: str | None = None
    ) -> Attribute:
        """``GET /attributes/{id_attribute}``."""
        params = query(storefront=self._storefront(storefront), locale=locale)
        return await self._get(f"/attributes/{id_attribute}", Attribute, params)

    async def by_name(
        self, name: str, *, storefront: StorefrontArg = None, locale: str | None = None
    ) -> Attribute:
        """``GET /attributes/by-name/{name}`` (the name as used in product-data bodies)."""
        params = query(storefront=self._storefront(storefront), locale=locale)
        return await self._get(f"/attributes/by-name/{seg(name)}", Attribute, params)

    async def shared_set(
        self,
        id_attribute: int,
        *,
        locale: str,
        q: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[SharedSetValue]:
        """``GET /attributes/{id}/shared-set``: one page of allowed values (``locale`` required)."""
        params = query(locale=locale, q=q)
        return await self._page(
            f"/attributes/{id_attribute}/shared-set",
            SharedSetValue,
            params,
            limit=limit,
            offset=offset,
            max_limit=MAX_LIMIT,
        )

    def iter_shared_set(
        self,
        id_attribute: int,
        *,
        locale: str,
        q: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[SharedSetValue]:
        params = query(locale=locale, q=q)
        return self._iter(
            f"/attributes/{id_attribute}/shared-set",
            SharedSetValue,
            params,
            max_limit=MAX_LIMIT,
            page_size=page_size,
        )

    async def shared_set_values(self, id_attribute: int, *, locale: str) -> str:
        """``GET /attributes/{id}/shared-set-values``: a signed URL of a CSV with every allowed
        value (valid for about six days)."""
        response = await self._r.request(
            "GET", f"/attributes/{id_attribute}/shared-set-values", params=query(locale=locale)
        )
        return str(response.data)
