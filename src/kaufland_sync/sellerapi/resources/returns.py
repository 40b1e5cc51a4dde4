"""``/returns``: returns (one parcel back from a buyer) and starting them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any

from kaufland_sync.sellerapi.models import (
    FulfillmentType,
    Page,
    Return,
    ReturnDetails,
    ReturnEmbeddable,
    ReturnItemRequest,
    ReturnSort,
    ReturnStatus,
    ReturnWithUnits,
)
from kaufland_sync.sellerapi.resources._base import (
    Resource,
    StorefrontArg,
    embedded_param,
    iso,
    many,
    query,
    text,
)

MAX_LIMIT = 100

FulfillmentFilter = Iterable[FulfillmentType | str] | FulfillmentType | str | None
StatusFilter = Iterable[ReturnStatus | str] | ReturnStatus | str | None
ReturnItem = ReturnItemRequest | Mapping[str, Any]


def _items(items: Iterable[ReturnItem]) -> list[dict[str, Any]]:
    prepared = [i if isinstance(i, ReturnItemRequest) else ReturnItemRequest(**i) for i in items]
    if not prepared:
        raise ValueError("a return needs at least one order unit")
    return [i.to_body() for i in prepared]


class Returns(Resource):
    def _params(
        self,
        storefront: StorefrontArg,
        ts_created_from_iso: datetime | str | None,
        ts_updated_from_iso: datetime | str | None,
        tracking_code: str | None,
        status: StatusFilter,
        fulfillment_type: FulfillmentFilter,
        sort: ReturnSort | str | None,
    ) -> dict[str, Any]:
        return query(
            storefront=self._storefront_filter(storefront),
            ts_created_from_iso=iso(ts_created_from_iso),
            ts_updated_from_iso=iso(ts_updated_from_iso),
            tracking_code=tracking_code,
            status=many(status),
            fulfillment_type=many(fulfillment_type),
            sort=text(sort),
        )

    async def list(
        self,
        *,
        storefront: StorefrontArg = None,
        ts_created_from_iso: datetime | str | None = None,
        ts_updated_from_iso: datetime | str | None = None,
        tracking_code: str | None = None,
        status: StatusFilter = None,
        fulfillment_type: FulfillmentFilter = None,
        sort: ReturnSort | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[Return]:
        """``GET /returns``: one page."""
        params = self._params(
            storefront,
            ts_created_from_iso,
            ts_updated_from_iso,
            tracking_code,
            status,
            fulfillment_type,
            sort,
        )
        return await self._page(
            "/returns", Return, params, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_all(
        self,
        *,
        storefront: StorefrontArg = None,
        ts_created_from_iso: datetime | str | None = None,
        ts_updated_from_iso: datetime | str | None = None,
        tracking_code: str | None = None,
        status: StatusFilter = None,
        fulfillment_type: FulfillmentFilter = None,
        sort: ReturnSort | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Return]:
        params = self._params(
            storefront,
            ts_created_from_iso,
            ts_updated_from_iso,
            tracking_code,
            status,
            fulfillment_type,
            sort,
        )
        return self._iter("/returns", Return, params, max_limit=MAX_LIMIT, page_size=page_size)

    async def get(
        self, id_return: int, *, embedded: Iterable[ReturnEmbeddable | str] | None = None
    ) -> ReturnDetails:
        """``GET /returns/{id_return}``."""
        params = query(embedded=embedded_param(embedded))
        return await self._get(f"/returns/{id_return}", ReturnDetails, params)

    async def initiate(self, items: Iterable[ReturnItem]) -> ReturnWithUnits:
        """``POST /returns`` (201): start a return for order units of **one** order.

        Each item: ``id_order_unit``, ``reason`` (``ReturnReason``), ``note`` (5-100 chars).
        Only for sellers using Kaufland's return service. Not replay-safe.
        """
        return await self._call(
            "POST", "/returns", ReturnWithUnits, json=_items(items), replay_safe=False
        )

    async def update(self, id_return: int, items: Iterable[ReturnItem]) -> ReturnWithUnits:
        """``PUT /returns/{id_return}`` (201): add order units to an existing return.

        Replay-safe as a PUT (the same units again leave the same return).
        """
        return await self._call(
            "PUT", f"/returns/{id_return}", ReturnWithUnits, json=_items(items), replay_safe=True
        )
