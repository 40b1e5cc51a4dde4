"""``/orders``: orders with their units, buyer and addresses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from kaufland_sync.sellerapi.models import (
    FulfillmentType,
    Order,
    OrderDetails,
    OrderEmbeddable,
    Page,
)
from kaufland_sync.sellerapi.resources._base import (
    Resource,
    StorefrontArg,
    embedded_param,
    iso,
    many,
    query,
    seg,
)

MAX_LIMIT = 100

FulfillmentFilter = Iterable[FulfillmentType | str] | FulfillmentType | str | None


class Orders(Resource):
    def _params(
        self,
        storefront: StorefrontArg,
        ts_created_from_iso: datetime | str | None,
        ts_units_updated_from_iso: datetime | str | None,
        fulfillment_type: FulfillmentFilter,
    ) -> dict[str, Any]:
        return query(
            storefront=self._storefront_filter(storefront),
            ts_created_from_iso=iso(ts_created_from_iso),
            ts_units_updated_from_iso=iso(ts_units_updated_from_iso),
            fulfillment_type=many(fulfillment_type),
        )

    async def list(
        self,
        *,
        storefront: StorefrontArg = None,
        ts_created_from_iso: datetime | str | None = None,
        ts_units_updated_from_iso: datetime | str | None = None,
        fulfillment_type: FulfillmentFilter = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[Order]:
        """``GET /orders``: one page. ``storefront`` filters only when given; Kaufland's default
        ``fulfillment_type`` filter is merchant-fulfilled."""
        params = self._params(
            storefront, ts_created_from_iso, ts_units_updated_from_iso, fulfillment_type
        )
        return await self._page(
            "/orders", Order, params, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_all(
        self,
        *,
        storefront: StorefrontArg = None,
        ts_created_from_iso: datetime | str | None = None,
        ts_units_updated_from_iso: datetime | str | None = None,
        fulfillment_type: FulfillmentFilter = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Order]:
        """Every order matching the filters (``ts_units_updated_from_iso`` suits a cursor)."""
        params = self._params(
            storefront, ts_created_from_iso, ts_units_updated_from_iso, fulfillment_type
        )
        return self._iter("/orders", Order, params, max_limit=MAX_LIMIT, page_size=page_size)

    async def get(
        self, id_order: str, *, embedded: Iterable[OrderEmbeddable | str] | None = None
    ) -> OrderDetails:
        """``GET /orders/{id_order}``."""
        params = query(embedded=embedded_param(embedded))
        return await self._get(f"/orders/{seg(id_order)}", OrderDetails, params)
