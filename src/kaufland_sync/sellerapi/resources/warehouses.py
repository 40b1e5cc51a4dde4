"""``/warehouses``: where units ship from (not per storefront)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from kaufland_sync.sellerapi.models import Page, Warehouse, WarehouseRequest
from kaufland_sync.sellerapi.resources._base import Resource

MAX_LIMIT = 30

WarehouseBody = WarehouseRequest | Mapping[str, Any]


def _body(warehouse: WarehouseBody) -> dict[str, Any]:
    model = (
        warehouse
        if isinstance(warehouse, WarehouseRequest)
        else WarehouseRequest.model_validate(warehouse)
    )
    return model.to_body()


class Warehouses(Resource):
    async def list(self, *, limit: int | None = None, offset: int = 0) -> Page[Warehouse]:
        """``GET /warehouses``: one page (at most 30)."""
        return await self._page(
            "/warehouses", Warehouse, {}, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_all(self, *, page_size: int | None = None) -> AsyncIterator[Warehouse]:
        return self._iter("/warehouses", Warehouse, {}, max_limit=MAX_LIMIT, page_size=page_size)

    async def get(self, id_warehouse: int) -> Warehouse:
        """``GET /warehouses/{id_warehouse}``."""
        return await self._get(f"/warehouses/{id_warehouse}", Warehouse)

    async def create(self, warehouse: WarehouseBody) -> Warehouse:
        """``POST /warehouses`` (201). Not replay-safe: a repeat creates a second warehouse."""
        return await self._call(
            "POST", "/warehouses", Warehouse, json=_body(warehouse), replay_safe=False
        )

    async def update(self, id_warehouse: int, warehouse: WarehouseBody) -> Warehouse:
        """``PUT /warehouses/{id_warehouse}``: replace name, address and default flag."""
        return await self._call(
            "PUT", f"/warehouses/{id_warehouse}", Warehouse, json=_body(warehouse), replay_safe=True
        )

    async def delete(self, id_warehouse: int) -> None:
        """``DELETE /warehouses/{id_warehouse}`` (204)."""
        await self._action("DELETE", f"/warehouses/{id_warehouse}", replay_safe=True)
