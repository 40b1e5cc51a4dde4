"""``/order-invoices``: invoices the seller uploads for orders (and Kaufland's own, as deemed
supplier)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from kaufland_sync.sellerapi.models import OrderInvoice, OrderInvoiceUploadRequest, Page
from kaufland_sync.sellerapi.resources._base import Resource, StorefrontArg, iso, query, seg

MAX_LIMIT = 100


class OrderInvoices(Resource):
    def _params(
        self, storefront: StorefrontArg, ts_created_from_iso: datetime | str | None
    ) -> dict[str, Any]:
        return query(
            storefront=self._storefront_filter(storefront),
            ts_created_from_iso=iso(ts_created_from_iso),
        )

    async def list(
        self,
        *,
        storefront: StorefrontArg = None,
        ts_created_from_iso: datetime | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[OrderInvoice]:
        """``GET /order-invoices``: one page."""
        return await self._page(
            "/order-invoices",
            OrderInvoice,
            self._params(storefront, ts_created_from_iso),
            limit=limit,
            offset=offset,
            max_limit=MAX_LIMIT,
        )

    def iter_all(
        self,
        *,
        storefront: StorefrontArg = None,
        ts_created_from_iso: datetime | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[OrderInvoice]:
        return self._iter(
            "/order-invoices",
            OrderInvoice,
            self._params(storefront, ts_created_from_iso),
            max_limit=MAX_LIMIT,
            page_size=page_size,
        )

    async def get(self, id_order: str, id_invoice: int) -> OrderInvoice:
        """``GET /order-invoices/{id_order}/{id_invoice}``."""
        return await self._get(f"/order-invoices/{seg(id_order)}/{id_invoice}", OrderInvoice)

    async def delete(self, id_order: str, id_invoice: int) -> None:
        """``DELETE /order-invoices/{id_order}/{id_invoice}`` (204)."""
        await self._action(
            "DELETE", f"/order-invoices/{seg(id_order)}/{id_invoice}", replay_safe=True
        )

    async def upload(
        self, id_order: str, *, original_name: str, mime_type: str, content: bytes
    ) -> OrderInvoice:
        """``POST /order-invoices/{id_order}`` (201): upload an invoice file (base64-encoded
        here). Not replay-safe: a repeat would attach the invoice twice."""
        body = OrderInvoiceUploadRequest.from_bytes(original_name, mime_type, content)
        return await self._call(
            "POST",
            f"/order-invoices/{seg(id_order)}",
            OrderInvoice,
            json=body.to_body(),
            replay_safe=False,
        )
