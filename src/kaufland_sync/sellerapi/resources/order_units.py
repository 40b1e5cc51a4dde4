"""``/order-units``: the items of orders and what the seller does with them (fulfil, send,
cancel, refund)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from kaufland_sync.sellerapi.models import (
    FulfillmentType,
    OrderUnit,
    OrderUnitCancelReason,
    OrderUnitCancelRequest,
    OrderUnitDetails,
    OrderUnitEmbeddable,
    OrderUnitRefundReason,
    OrderUnitRefundRequest,
    OrderUnitSendRequest,
    OrderUnitSort,
    OrderUnitStatus,
    Page,
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
StatusFilter = Iterable[OrderUnitStatus | str] | OrderUnitStatus | str | None


class OrderUnits(Resource):
    def _params(
        self,
        storefront: StorefrontArg,
        id_offer: str | None,
        status: StatusFilter,
        ts_created_from_iso: datetime | str | None,
        ts_updated_from_iso: datetime | str | None,
        fulfillment_type: FulfillmentFilter,
        sort: OrderUnitSort | str | None,
    ) -> dict[str, Any]:
        return query(
            storefront=self._storefront_filter(storefront),
            id_offer=id_offer,
            status=many(status),
            ts_created_from_iso=iso(ts_created_from_iso),
            ts_updated_from_iso=iso(ts_updated_from_iso),
            fulfillment_type=many(fulfillment_type),
            sort=text(sort),
        )

    async def list(
        self,
        *,
        storefront: StorefrontArg = None,
        id_offer: str | None = None,
        status: StatusFilter = None,
        ts_created_from_iso: datetime | str | None = None,
        ts_updated_from_iso: datetime | str | None = None,
        fulfillment_type: FulfillmentFilter = None,
        sort: OrderUnitSort | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[OrderUnit]:
        """``GET /order-units``: one page (default sort: newest first)."""
        params = self._params(
            storefront,
            id_offer,
            status,
            ts_created_from_iso,
            ts_updated_from_iso,
            fulfillment_type,
            sort,
        )
        return await self._page(
            "/order-units", OrderUnit, params, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_all(
        self,
        *,
        storefront: StorefrontArg = None,
        id_offer: str | None = None,
        status: StatusFilter = None,
        ts_created_from_iso: datetime | str | None = None,
        ts_updated_from_iso: datetime | str | None = None,
        fulfillment_type: FulfillmentFilter = None,
        sort: OrderUnitSort | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[OrderUnit]:
        """Every order unit matching the filters, e.g. ``status="need_to_be_sent"``."""
        params = self._params(
            storefront,
            id_offer,
            status,
            ts_created_from_iso,
            ts_updated_from_iso,
            fulfillment_type,
            sort,
        )
        return self._iter(
            "/order-units", OrderUnit, params, max_limit=MAX_LIMIT, page_size=page_size
        )

    async def get(
        self,
        id_order_unit: int,
        *,
        embedded: Iterable[OrderUnitEmbeddable | str] | None = None,
    ) -> OrderUnitDetails:
        """``GET /order-units/{id_order_unit}``."""
        params = query(embedded=embedded_param(embedded))
        return await self._get(f"/order-units/{id_order_unit}", OrderUnitDetails, params)

    async def fulfil(self, id_order_unit: int) -> None:
        """``PATCH /order-units/{id}/fulfil`` (204): accept the unit; it becomes
        ``need_to_be_sent``. Replay-safe (the same target state)."""
        await self._action("PATCH", f"/order-units/{id_order_unit}/fulfil", replay_safe=True)

    async def send(
        self,
        id_order_unit: int,
        *,
        carrier_code: str,
        tracking_numbers: str | Iterable[str] = "",
    ) -> None:
        """``PATCH /order-units/{id}/send`` (204): mark as shipped.

        ``tracking_numbers`` may be one string or several (joined with ``,``); it may be empty
        only for the carriers ``Other``/``Other Hauler``. Replay-safe (the same target state).
        """
        numbers = tracking_numbers if isinstance(tracking_numbers, str) else list(tracking_numbers)
        body = OrderUnitSendRequest(carrier_code=carrier_code, tracking_numbers=numbers)
        await self._action(
            "PATCH",
            f"/order-units/{id_order_unit}/send",
            json=body.to_body(),
            replay_safe=True,
        )

    async def cancel(self, id_order_unit: int, reason: OrderUnitCancelReason | str) -> None:
        """``PATCH /order-units/{id}/cancel`` (204). Replay-safe (the same target state)."""
        body = OrderUnitCancelRequest(reason=OrderUnitCancelReason(reason))
        await self._action(
            "PATCH",
            f"/order-units/{id_order_unit}/cancel",
            json=body.to_body(),
            replay_safe=True,
        )

    async def refund(
        self, id_order_unit: int, *, amount: int, reason: OrderUnitRefundReason | str
    ) -> None:
        """``PATCH /order-units/{id}/refund`` (204): refund ``amount`` minor units.

        **Not** replay-safe: each call is another refund.
        """
        body = OrderUnitRefundRequest(amount=amount, reason=OrderUnitRefundReason(reason))
        await self._action(
            "PATCH",
            f"/order-units/{id_order_unit}/refund",
            json=body.to_body(),
            replay_safe=False,
        )
