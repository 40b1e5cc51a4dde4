"""``/products`` (Kaufland's catalogue, read-only), ``/buybox`` and assortment coverage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from kaufland_sync.sellerapi.models import (
    AssortmentInsight,
    BuyboxCondition,
    OffersRankings,
    Page,
    ProductEmbeddable,
    ProductWithEmbedded,
)
from kaufland_sync.sellerapi.resources._base import (
    Resource,
    StorefrontArg,
    embedded_param,
    query,
    seg,
    text,
)

MAX_LIMIT = 100
BUYBOX_MAX_LIMIT = 10
INSIGHTS_MAX_LIMIT = 5000

Embedded = Iterable[ProductEmbeddable | str] | None


class Products(Resource):
    async def by_ean(
        self, ean: str, *, storefront: StorefrontArg = None, embedded: Embedded = None
    ) -> ProductWithEmbedded:
        """``GET /products/ean/{ean}`` (EAN of 13 to 15 digits); 404 when Kaufland has none."""
        params = query(storefront=self._storefront(storefront), embedded=embedded_param(embedded))
        return await self._get(f"/products/ean/{seg(ean)}", ProductWithEmbedded, params)

    async def get(
        self, id_product: int, *, storefront: StorefrontArg = None, embedded: Embedded = None
    ) -> ProductWithEmbedded:
        """``GET /products/{id_product}``."""
        params = query(storefront=self._storefront(storefront), embedded=embedded_param(embedded))
        return await self._get(f"/products/{id_product}", ProductWithEmbedded, params)

    async def search(
        self,
        q: str,
        *,
        storefront: StorefrontArg = None,
        embedded: Embedded = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[ProductWithEmbedded]:
        """``GET /products/search``: one page of products matching ``q``."""
        params = query(
            storefront=self._storefront(storefront), q=q, embedded=embedded_param(embedded)
        )
        return await self._page(
            "/products/search",
            ProductWithEmbedded,
            params,
            limit=limit,
            offset=offset,
            max_limit=MAX_LIMIT,
        )

    def iter_search(
        self,
        q: str,
        *,
        storefront: StorefrontArg = None,
        embedded: Embedded = None,
        page_size: int | None = None,
    ) -> AsyncIterator[ProductWithEmbedded]:
        params = query(
            storefront=self._storefront(storefront), q=q, embedded=embedded_param(embedded)
        )
        return self._iter(
            "/products/search",
            ProductWithEmbedded,
            params,
            max_limit=MAX_LIMIT,
            page_size=page_size,
        )

    async def buybox(
        self,
        id_product: int,
        *,
        condition: BuyboxCondition | str = BuyboxCondition.NEW,
        storefront: StorefrontArg = None,
        limit: int | None = None,
    ) -> OffersRankings:
        """``GET /buybox``: the best-ranked offers (at most 10) for a product and condition."""
        if limit is not None and not 1 <= limit <= BUYBOX_MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {BUYBOX_MAX_LIMIT}, got {limit}")
        params = query(
            id_product=id_product,
            storefront=self._storefront(storefront),
            condition=text(condition),
            limit=limit,
        )
        return await self._get("/buybox", OffersRankings, params)

    async def assortment_insights(
        self, *, limit: int | None = None, offset: int = 0
    ) -> Page[AssortmentInsight]:
        """``GET /assortment-coverage/insights``: products in demand that the seller lacks."""
        return await self._page(
            "/assortment-coverage/insights",
            AssortmentInsight,
            {},
            limit=limit,
            offset=offset,
            max_limit=INSIGHTS_MAX_LIMIT,
        )

    def iter_assortment_insights(
        self, *, page_size: int | None = None
    ) -> AsyncIterator[AssortmentInsight]:
        return self._iter(
            "/assortment-coverage/insights",
            AssortmentInsight,
            {},
            max_limit=INSIGHTS_MAX_LIMIT,
            page_size=page_size,
        )
