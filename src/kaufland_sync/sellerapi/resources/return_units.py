"""``/return-units``: the items of returns and the seller's decision on each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from kaufland_sync.sellerapi.models import (
    FulfillmentType,
    Page,
    ReturnSort,
    ReturnUnit,
    ReturnUnitDetails,
    ReturnUnitEmbeddable,
    ReturnUnitMessageRequest,
    ReturnUnitStatus,
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
StatusFilter = Iterable[ReturnUnitStatus | str] | ReturnUnitStatus | str | None


class ReturnUnits(Resource):
    def _params(
        self,
        storefront: StorefrontArg,
        ts_created_from_iso: datetime | str | None,
        status: StatusFilter,
        fulfillment_type: FulfillmentFilter,
        sort: ReturnSort | str | None,
    ) -> dict[str, Any]:
        return query(
            storefront=self._storefront_filter(storefront),
            ts_created_from_iso=iso(ts_created_from_iso),
            status=many(status),
            fulfillment_type=many(fulfillment_type),
            sort=text(sort),
        )

    async def list(
        self,
        *,
        storefront: StorefrontArg = None,
        ts_created_from_iso: datetime | str | None = None,
        status: StatusFilter = None,
        fulfillment_type: FulfillmentFilter = None,
        sort: ReturnSort | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[ReturnUnit]:
        """``GET /return-units``: one page."""
        params = self._params(storefront, ts_created_from_iso, status, fulfillment_type, sort)
        return await self._page(
            "/return-units", ReturnUnit, params, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_all(
        self,
        *,
        storefront: StorefrontArg = None,
        ts_created_from_iso: datetime | str | None = None,
        status: StatusFilter = None,
        fulfillment_type: FulfillmentFilter = None,
        sort: ReturnSort | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[ReturnUnit]:
        params = self._params(storefront, ts_created_from_iso, status, fulfillment_type, sort)
        return self._iter(
            "/return-units", ReturnUnit, params, max_limit=MAX_LIMIT, page_size=page_size
        )

    async def get(
        self,
        id_return_unit: int,
        *,
        embedded: Iterable[ReturnUnitEmbeddable | str] | None = None,
    ) -> ReturnUnitDetails:
        """``GET /return-units/{id_return_unit}``."""
        params = query(embedded=embedded_param(embedded))
        return await self._get(f"/return-units/{id_return_unit}", ReturnUnitDetails, params)

    # The four decisions are replay-safe: each moves the unit to one fixed status.

    async def accept(self, id_return_unit: int) -> None:
        """``PATCH /return-units/{id}/accept`` (204) → ``return_accepted``."""
        await self._action("PATCH", f"/return-units/{id_return_unit}/accept", replay_safe=True)

    async def reject(self, id_return_unit: int, message: str) -> None:
        """``PATCH /return-units/{id}/reject`` (204) → ``return_rejected``; opens a ticket."""
        body = ReturnUnitMessageRequest(message=message)
        await self._action(
            "PATCH",
            f"/return-units/{id_return_unit}/reject",
            json=body.to_body(),
            replay_safe=True,
        )

    async def clarify(self, id_return_unit: int, message: str) -> None:
        """``PATCH /return-units/{id}/clarify`` (204) → ``return_in_clarification``."""
        body = ReturnUnitMessageRequest(message=message)
        await self._action(
            "PATCH",
            f"/return-units/{id_return_unit}/clarify",
            json=body.to_body(),
            replay_safe=True,
        )

    async def repair(self, id_return_unit: int) -> None:
        """``PATCH /return-units/{id}/repair`` (204) → ``return_in_repair``."""
        await self._action("PATCH", f"/return-units/{id_return_unit}/repair", replay_safe=True)
