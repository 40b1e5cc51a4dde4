"""``/playground``: test orders, only on Kaufland's playground (and our sandbox)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import TypeAdapter

from kaufland_sync.sellerapi.models import (
    PlaygroundOrder,
    PlaygroundOrderItem,
    PlaygroundOrdersRequest,
)
from kaufland_sync.sellerapi.resources._base import Resource, StorefrontArg, query

_ORDERS = TypeAdapter(list[PlaygroundOrder])


class Playground(Resource):
    async def create_orders(
        self, items: Iterable[tuple[int | str, int]], *, storefront: StorefrontArg = None
    ) -> list[PlaygroundOrder]:
        """``POST /playground/orders``: place test orders for ``(id_unit, amount)`` pairs.

        The production API has no such path (404). Not replay-safe: a repeat orders again.
        """
        body = PlaygroundOrdersRequest(
            data=[
                PlaygroundOrderItem(id_item_unit=str(id_unit), amount=amount)
                for id_unit, amount in items
            ]
        )
        storefront_code = self._r.storefront_param(storefront, required=False)
        response = await self._r.request(
            "POST",
            "/playground/orders",
            params=query(storefront=storefront_code),
            json=body.to_body(),
            replay_safe=False,
        )
        return _ORDERS.validate_python(response.data or [])
