"""``/categories``: Kaufland's category tree, fees and category guessing."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable

from pydantic import TypeAdapter

from kaufland_sync.sellerapi.models import (
    Category,
    CategoryDecideItem,
    CategoryDecideRequest,
    CategoryEmbeddable,
    CategoryTree,
    CategoryWithEmbedded,
    Page,
)
from kaufland_sync.sellerapi.resources._base import (
    Resource,
    StorefrontArg,
    embedded_param,
    query,
)

MAX_LIMIT = 100
_CATEGORIES = TypeAdapter(list[Category])


class Categories(Resource):
    async def list(
        self,
        *,
        storefront: StorefrontArg = None,
        q: str | None = None,
        id_parent: int | None = None,
        locale: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[Category]:
        """``GET /categories``: one page, optionally searched (``q``) or under ``id_parent``."""
        params = query(
            storefront=self._storefront(storefront), q=q, id_parent=id_parent, locale=locale
        )
        return await self._page(
            "/categories", Category, params, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_all(
        self,
        *,
        storefront: StorefrontArg = None,
        q: str | None = None,
        id_parent: int | None = None,
        locale: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Category]:
        """Every category matching the filters, page by page."""
        params = query(
            storefront=self._storefront(storefront), q=q, id_parent=id_parent, locale=locale
        )
        return self._iter("/categories", Category, params, max_limit=MAX_LIMIT, page_size=page_size)

    async def tree(
        self, *, storefront: StorefrontArg = None, locale: str | None = None
    ) -> CategoryTree:
        """``GET /categories/tree``: the whole tree from its root."""
        params = query(storefront=self._storefront(storefront), locale=locale)
        return await self._get("/categories/tree", CategoryTree, params)

    async def get(
        self,
        id_category: int,
        *,
        storefront: StorefrontArg = None,
        embedded: Iterable[CategoryEmbeddable | str] | None = None,
        locale: str | None = None,
    ) -> CategoryWithEmbedded:
        """``GET /categories/{id_category}`` with optional parent, children and attributes."""
        params = query(
            storefront=self._storefront(storefront),
            embedded=embedded_param(embedded),
            locale=locale,
        )
        return await self._get(f"/categories/{id_category}", CategoryWithEmbedded, params)

    async def decide(
        self,
        *,
        title: str,
        description: str,
        manufacturer: str,
        price: float,
        storefront: StorefrontArg = None,
        locale: str | None = None,
    ) -> builtins.list[Category]:
        """``POST /categories/decide``: Kaufland's category guesses for a product, best first.

        A pure query, so it may be replayed.
        """
        body = CategoryDecideRequest(
            item=CategoryDecideItem(
                title=title, description=description, manufacturer=manufacturer
            ),
            price=price,
        )
        params = query(storefront=self._storefront(storefront), locale=locale)
        response = await self._r.request(
            "POST", "/categories/decide", params=params, json=body.to_body(), replay_safe=True
        )
        return _CATEGORIES.validate_python(response.data)
