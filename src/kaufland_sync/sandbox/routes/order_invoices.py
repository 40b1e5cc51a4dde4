"""``/order-invoices``: invoices the seller uploads for orders (base64 files)."""

from __future__ import annotations

import base64
import binascii
import secrets

from starlette.responses import Response

from kaufland_sync.sandbox._http import (
    FORBIDDEN,
    Ctx,
    Problem,
    RouteSpec,
    data,
    no_content,
    not_found,
    page,
    validation,
)
from kaufland_sync.sandbox.routes._market import (
    body_str,
    no_extra_fields,
    path_int,
    q_time,
    sort_desc,
)
from kaufland_sync.sandbox.world import parse_iso

# What the sandbox accepts as invoice files (Kaufland's guide asks for PDF; images are common).
MIME_TYPES = ("application/pdf", "image/jpeg", "image/png")
MAX_BYTES = 10 * 1024 * 1024


async def list_invoices(ctx: Ctx) -> Response:
    """GET /order-invoices: filters storefront, ts_created_from_iso; newest first; limit ≤ 100."""
    storefront = ctx.storefront(required=False)
    created_from = q_time(ctx, "ts_created_from_iso")
    offset, limit = ctx.page(min_limit=1, max_limit=100)
    rows = [
        inv
        for inv in ctx.table("order_invoices").values()
        if (not storefront or inv["storefront"] == storefront)
        and (created_from is None or parse_iso(inv["ts_created_iso"]) >= created_from)
    ]
    return page(sort_desc(rows, "ts_created_iso"), offset, limit)


def _find(ctx: Ctx) -> tuple[str, dict[str, object]]:
    id_order = str(ctx.path["id_order"])
    id_invoice = path_int(ctx, "id_invoice")
    key = f"{id_order}/{id_invoice}"
    invoice = ctx.table("order_invoices").get(key)
    if invoice is None:
        raise not_found("Invoice", f"{id_invoice} of order {id_order}")
    return key, invoice


async def get_invoice(ctx: Ctx) -> Response:
    """GET /order-invoices/{id_order}/{id_invoice}."""
    _, invoice = _find(ctx)
    return data(invoice)


async def delete_invoice(ctx: Ctx) -> Response:
    """DELETE /order-invoices/{id_order}/{id_invoice} → 204 (Kaufland's own DSM invoices: 403)."""
    key, invoice = _find(ctx)
    if invoice.get("is_marketplace_deemed_supplier"):
        raise Problem(403, FORBIDDEN, "Invoices issued by Kaufland cannot be deleted.")
    del ctx.table("order_invoices")[key]
    ctx.world.dirty = True
    return no_content()


async def upload_invoice(ctx: Ctx) -> Response:
    """POST /order-invoices/{id_order} ``{original_name, mime_type, data (base64)}`` → 201."""
    id_order = str(ctx.path["id_order"])
    body = ctx.json_object()
    no_extra_fields(body, ("original_name", "mime_type", "data"))
    name = body_str(body, "original_name", min_len=1, max_len=255)
    mime = body_str(body, "mime_type", min_len=1)
    encoded = body_str(body, "data", min_len=1)
    assert name is not None and mime is not None and encoded is not None
    if mime not in MIME_TYPES:
        raise validation([("mime_type", f"Allowed mime types: {', '.join(MIME_TYPES)}.")])
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise validation([("data", "This value should be base64 encoded.")]) from None
    if not raw:
        raise validation([("data", "The file is empty.")])
    if len(raw) > MAX_BYTES:
        raise validation([("data", f"The file is larger than {MAX_BYTES} bytes.")])
    order = ctx.table("orders").get(id_order)
    if order is None:
        raise not_found("Order", id_order)
    id_invoice = ctx.world.next_id("invoice", 918_273_000)
    base = str(ctx.request.base_url).rstrip("/")
    invoice = {
        "id_invoice": id_invoice,
        "id_order": id_order,
        "storefront": order["storefront"],
        "is_marketplace_deemed_supplier": False,
        "original_name": name,
        "mime_type": mime,
        "url": f"{base}/_sandbox/files/order-invoices/{id_invoice}"
        f"?access_token={secrets.token_hex(16)}",
        "ts_created_iso": ctx.world.now_iso(),
        "_data": encoded,
        "_size": len(raw),
    }
    ctx.table("order_invoices")[f"{id_order}/{id_invoice}"] = invoice
    ctx.world.dirty = True
    return data(invoice, status=201)


ROUTES: list[RouteSpec] = [
    ("GET", "/order-invoices", list_invoices),
    ("GET", "/order-invoices/{id_order}/{id_invoice}", get_invoice),
    ("DELETE", "/order-invoices/{id_order}/{id_invoice}", delete_invoice),
    ("POST", "/order-invoices/{id_order}", upload_invoice),
]
