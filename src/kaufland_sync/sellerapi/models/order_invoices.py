"""Order-invoice models (``/order-invoices``)."""

from __future__ import annotations

import base64

from pydantic import Field

from kaufland_sync.sellerapi.models.common import (
    ApiModel,
    RequestModel,
    StorefrontValue,
    UtcDateTime,
)

__all__ = ["OrderInvoice", "OrderInvoiceUploadRequest"]


class OrderInvoice(ApiModel):
    """An invoice of an order. ``id_invoice`` is unique only together with its kind: invoices
    Kaufland issues as deemed supplier (``is_marketplace_deemed_supplier``) have their own ids."""

    id_invoice: int
    id_order: str
    storefront: StorefrontValue | None = None
    is_marketplace_deemed_supplier: bool | None = None
    original_name: str | None = None
    mime_type: str | None = None
    url: str | None = None
    ts_created_iso: UtcDateTime | None = None


class OrderInvoiceUploadRequest(RequestModel):
    """Body of ``POST /order-invoices/{id_order}``; ``data`` is the file, base64-encoded."""

    original_name: str = Field(min_length=1)
    mime_type: str = Field(min_length=1)
    data: str = Field(min_length=1)

    @classmethod
    def from_bytes(
        cls, original_name: str, mime_type: str, content: bytes
    ) -> OrderInvoiceUploadRequest:
        """Build the body from raw file content (encoded here, standard base64 alphabet)."""
        return cls(
            original_name=original_name,
            mime_type=mime_type,
            data=base64.b64encode(content).decode("ascii"),
        )
