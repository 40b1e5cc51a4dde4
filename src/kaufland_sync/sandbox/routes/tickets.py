"""``/tickets``: buyer/seller conversations about order units."""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import quote

from starlette.responses import Response

from kaufland_sync.sandbox import marketplace
from kaufland_sync.sandbox._http import Ctx, Problem, RouteSpec, data, not_found, page, validation
from kaufland_sync.sandbox.routes._market import (
    body_enum,
    body_str,
    fulfillment_filter,
    no_extra_fields,
    q_enum_list,
    q_sort,
    q_time,
    sort_desc,
)
from kaufland_sync.sandbox.world import ALL_STOREFRONTS, Record, parse_iso, public

TICKET_STATUSES = (
    "opened",
    "buyer_closed",
    "seller_closed",
    "both_closed",
    "customer_service_closed_final",
)
TICKET_REASONS = (
    "product_not_as_described",
    "product_defect",
    "product_not_delivered",
    "product_return",
    "contact_other",
)
TICKET_TOPICS = (
    "order_cancel", "order_product_defect", "order_other_question", "delivery_not_received",
    "delivery_delayed", "delivery_wrong_products", "delivery_parts_missing",
    "delivery_change_address", "delivery_to_store", "delivery_other_question",
    "return_check_status", "return_request_label", "issue_paypal", "issue_klarna",
    "issue_creditcard", "issue_sofort", "issue_consorsfinanz", "issue_cashinadvance",
    "issue_payback", "issue_barzahlen", "issue_coupon", "invoice_needed", "admonition",
    "account_newsletter", "account_login", "account_cancel", "account_other",
    "account_age_verification", "product_properties", "product_availability",
    "product_other_question", "account_cash_out_balance", "old_device_take_back",
    "other_question", "fraud", "issue_googlepay", "issue_applepay", "issue_click_to_pay",
    "invoice_problem", "issue_blik", "kaufland_card", "cs_nagative_rating",
)  # fmt: skip
TICKET_EMBEDDABLE = ("buyer", "product", "messages", "order_units", "files")
TICKET_ID = re.compile(r"^001\d+$")
NON_CLOSABLE = "/problems/tickets/non-closable-by-seller"
FINALLY_CLOSED = "/problems/tickets/finally-closed"


def _ticket(ctx: Ctx) -> Record:
    id_ticket = str(ctx.path["id_ticket"])
    if not TICKET_ID.match(id_ticket):
        raise validation([("id_ticket", "This value should match ^001\\d+$.")])
    ticket = ctx.table("tickets").get(id_ticket)
    if ticket is None:
        raise not_found("Ticket", id_ticket)
    return ticket


async def list_tickets(ctx: Ctx) -> Response:
    """GET /tickets: filters status[], open_reason[], topic[], id_buyer, ts_created_from_iso,
    ts_updated_from_iso, storefront[], fulfillment_type[]; sort ts_created_iso:desc |
    ts_updated_iso:desc; limit ≤ 30."""
    sort = q_sort(ctx, ("ts_created_iso:desc", "ts_updated_iso:desc"), "ts_created_iso:desc")
    statuses = q_enum_list(ctx, "status", TICKET_STATUSES)
    reasons = q_enum_list(ctx, "open_reason", TICKET_REASONS)
    topics = q_enum_list(ctx, "topic", TICKET_TOPICS)
    id_buyer = ctx.q_int("id_buyer")
    created_from = q_time(ctx, "ts_created_from_iso")
    updated_from = q_time(ctx, "ts_updated_from_iso")
    storefronts = q_enum_list(ctx, "storefront", ALL_STOREFRONTS)
    fulfillment = fulfillment_filter(ctx)
    offset, limit = ctx.page(min_limit=1, max_limit=30)
    rows = [
        t
        for t in ctx.table("tickets").values()
        if (not statuses or t["status"] in statuses)
        and (not reasons or t["open_reason"] in reasons)
        and (not topics or t.get("topic") in topics)
        and (id_buyer is None or t.get("id_buyer") == id_buyer)
        and (not storefronts or t.get("_storefront") in storefronts)
        and t["fulfillment_type"] in fulfillment
        and (created_from is None or parse_iso(t["ts_created_iso"]) >= created_from)
        and (updated_from is None or parse_iso(t["ts_updated_iso"]) >= updated_from)
    ]
    key = "ts_created_iso" if sort == "ts_created_iso:desc" else "ts_updated_iso"
    return page(sort_desc(rows, key), offset, limit)


async def list_messages(ctx: Ctx) -> Response:
    """GET /tickets/messages: every message of the seller's tickets; sort ts_created_iso:desc
    (default) | :asc; filters ts_created_from_iso, fulfillment_type[]; limit ≤ 30."""
    sort = q_sort(ctx, ("ts_created_iso:desc", "ts_created_iso:asc"), "ts_created_iso:desc")
    created_from = q_time(ctx, "ts_created_from_iso")
    fulfillment = fulfillment_filter(ctx)
    offset, limit = ctx.page(min_limit=1, max_limit=30)
    rows = [
        m
        for m in ctx.table("ticket_messages").values()
        if m.get("_fulfillment_type", "fulfilled_by_merchant") in fulfillment
        and (created_from is None or parse_iso(m["ts_created_iso"]) >= created_from)
    ]
    ordered = sort_desc(rows, "ts_created_iso")
    if sort.endswith(":asc"):
        ordered.reverse()
    return page(ordered, offset, limit)


async def get_ticket(ctx: Ctx) -> Response:
    """GET /tickets/{id_ticket} → ``TicketWithEmbedded``.

    The spec's ``TicketWithEmbedded`` *requires* ``messages``, ``order_units``, ``buyer``,
    ``product``, ``files`` and ``storefront``, so they are always present whatever ``embedded``
    asks for (the parameter is still validated); the same choice as ``return`` on a return
    unit. A client that asks for them gets exactly what it would have got."""
    ctx.embedded(TICKET_EMBEDDABLE)
    ticket = _ticket(ctx)
    view = public(ticket)
    view["storefront"] = ticket.get("_storefront")
    units = [
        ctx.table("order_units")[str(i)]
        for i in ticket["ids_order_units"]
        if str(i) in ctx.table("order_units")
    ]
    view["messages"] = [
        public(m)
        for m in sorted(ctx.table("ticket_messages").values(), key=lambda m: m["id_ticket_message"])
        if m["id_ticket"] == ticket["id_ticket"]
    ]
    view["order_units"] = [public(u) for u in units]
    buyer = ctx.table("buyers").get(str(ticket.get("id_buyer")))
    view["buyer"] = {"id_buyer": buyer["id_buyer"], "email": buyer["email"]} if buyer else None
    view["product"] = units[0].get("product") if units else None
    view["files"] = list(ticket.get("_files", []))
    return data(view)


async def open_ticket(ctx: Ctx) -> Response:
    """POST /tickets ``{id_order_unit: [ids], reason, message}`` → 201 ``{id_ticket}``."""
    body = ctx.json_object()
    no_extra_fields(body, ("id_order_unit", "reason", "message"))
    ids = body.get("id_order_unit")
    if not isinstance(ids, list) or not ids:
        raise validation([("id_order_unit", "This value should be a non-empty array of ids.")])
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise validation([("id_order_unit", "This value should contain integers only.")])
    reason = body_enum(body, "reason", TICKET_REASONS)
    message = body_str(body, "message", min_len=1)
    assert message is not None
    for id_ou in ids:
        ou = ctx.table("order_units").get(str(id_ou))
        if ou is None:
            raise not_found("Order unit", id_ou)
        if ou["fulfillment_type"] == "fulfilled_by_kaufland":
            raise Problem(
                403,
                "/problems/tickets/fbk-action-restriction",
                "FBK order units are handled by Kaufland.",
            )
    ticket = marketplace.open_ticket(ctx.world, ctx.seller.client_key, ids, reason, message)
    ctx.world.dirty = True
    response = data({"id_ticket": ticket["id_ticket"]}, status=201)
    response.headers["Location"] = f"/v2/tickets/{ticket['id_ticket']}"  # required by the spec
    return response


async def close_ticket(ctx: Ctx) -> Response:
    """PATCH /tickets/{id}/close → 204: opened → seller_closed, buyer_closed → both_closed."""
    ticket = _ticket(ctx)
    status = ticket["status"]
    if status == "customer_service_closed_final":
        raise Problem(400, FINALLY_CLOSED, f"Ticket {ticket['id_ticket']} is finally closed.")
    if status in ("seller_closed", "both_closed"):
        raise Problem(
            400, NON_CLOSABLE, f"Ticket {ticket['id_ticket']} is already closed by the seller."
        )
    ticket["status"] = "seller_closed" if status == "opened" else "both_closed"
    ticket["ts_updated_iso"] = ctx.world.now_iso()
    ticket["is_seller_responsible"] = False
    ctx.world.dirty = True
    return Response(status_code=204)


async def add_message(ctx: Ctx) -> Response:
    """POST /tickets/{id}/messages ``{text, interim_notice?, ticket_message_files?}`` → 201,
    no body. A message on a closed ticket reopens it (like a mail reply would)."""
    ticket = _ticket(ctx)
    body = ctx.json_object()
    no_extra_fields(body, ("text", "interim_notice", "ticket_message_files"))
    text = body_str(body, "text", min_len=1, max_len=65535)
    assert text is not None
    interim = body.get("interim_notice", False)
    if not isinstance(interim, bool):
        raise validation([("interim_notice", "This value should be of type boolean.")])
    files = body.get("ticket_message_files", [])
    if not isinstance(files, list):
        raise validation([("ticket_message_files", "This value should be of type array.")])
    stored: list[Record] = []
    for index, item in enumerate(files):
        where = f"ticket_message_files[{index}]"
        if not isinstance(item, dict):
            raise validation([(where, "This value should be of type object.")])
        filename = body_str(item, "filename", min_len=1, prefix=f"{where}.")
        mime = body_str(item, "mime_type", min_len=1, prefix=f"{where}.")
        encoded = body_str(item, "data", min_len=1, prefix=f"{where}.")
        assert filename is not None and mime is not None and encoded is not None
        payload = encoded.split(",", 1)[1] if encoded.startswith("data:") else encoded
        try:
            base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise validation([(f"{where}.data", "This value should be base64 encoded.")]) from None
        # The file's position among the ticket's files keeps the URI unique when two messages
        # attach the same file name; the name is quoted so any name makes a valid URL. The
        # control API serves ``_data`` under this URI (``/_sandbox/files/tickets/...``).
        position = len(ticket.get("_files", [])) + len(stored)
        stored.append(
            {
                "filename": filename,
                "ts_created_iso": ctx.world.now_iso(),
                "uri": f"{str(ctx.request.base_url).rstrip('/')}/_sandbox/files/tickets/"
                f"{ticket['id_ticket']}/{position}/{quote(filename, safe='')}",
                "_mime_type": mime,
                "_data": payload,
            }
        )
    if ticket["status"] == "customer_service_closed_final":
        raise Problem(400, FINALLY_CLOSED, f"Ticket {ticket['id_ticket']} is finally closed.")
    marketplace.add_ticket_message(
        ctx.world, ctx.seller.client_key, ticket["id_ticket"], text, files=len(stored)
    )
    ticket.setdefault("_files", []).extend(stored)
    if ticket["status"] != "opened":
        ticket["status"] = "opened"
    ctx.world.dirty = True
    return Response(status_code=201)


ROUTES: list[RouteSpec] = [
    # /tickets/messages before /tickets/{id_ticket}: the router tries routes in order.
    ("GET", "/tickets/messages", list_messages),
    ("GET", "/tickets", list_tickets),
    ("POST", "/tickets", open_ticket),
    ("GET", "/tickets/{id_ticket}", get_ticket),
    ("PATCH", "/tickets/{id_ticket}/close", close_ticket),
    ("POST", "/tickets/{id_ticket}/messages", add_message),
]
