"""``/tickets``: conversations with buyers about order units, and their messages."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any

from kaufland_sync.sellerapi.models import (
    CreateTicketMessageRequest,
    FulfillmentType,
    OpenTicketRequest,
    OpenTicketResponse,
    Page,
    Ticket,
    TicketEmbeddable,
    TicketMessage,
    TicketMessageFile,
    TicketMessageSort,
    TicketReason,
    TicketSort,
    TicketStatus,
    TicketTopic,
    TicketWithEmbedded,
)
from kaufland_sync.sellerapi.resources._base import (
    Resource,
    embedded_param,
    iso,
    many,
    query,
    seg,
    text,
)
from kaufland_sync.sellerapi.storefronts import Storefront

MAX_LIMIT = 30

FulfillmentFilter = Iterable[FulfillmentType | str] | FulfillmentType | str | None


def attachment(filename: str, mime_type: str, content: bytes) -> TicketMessageFile:
    """A message attachment from raw bytes (base64-encoded here)."""
    return TicketMessageFile(
        filename=filename, mime_type=mime_type, data=base64.b64encode(content).decode("ascii")
    )


class Tickets(Resource):
    def _params(
        self,
        status: Iterable[TicketStatus | str] | TicketStatus | str | None,
        open_reason: Iterable[TicketReason | str] | TicketReason | str | None,
        topic: Iterable[TicketTopic | str] | TicketTopic | str | None,
        id_buyer: int | None,
        ts_created_from_iso: datetime | str | None,
        ts_updated_from_iso: datetime | str | None,
        storefront: Iterable[Storefront | str] | Storefront | str | None,
        fulfillment_type: FulfillmentFilter,
        sort: TicketSort | str | None,
    ) -> dict[str, Any]:
        # ``storefront`` is a list filter here, sent only when given.
        return query(
            status=many(status),
            open_reason=many(open_reason),
            topic=many(topic),
            id_buyer=id_buyer,
            ts_created_from_iso=iso(ts_created_from_iso),
            ts_updated_from_iso=iso(ts_updated_from_iso),
            storefront=many(storefront),
            fulfillment_type=many(fulfillment_type),
            sort=text(sort),
        )

    async def list(
        self,
        *,
        status: Iterable[TicketStatus | str] | TicketStatus | str | None = None,
        open_reason: Iterable[TicketReason | str] | TicketReason | str | None = None,
        topic: Iterable[TicketTopic | str] | TicketTopic | str | None = None,
        id_buyer: int | None = None,
        ts_created_from_iso: datetime | str | None = None,
        ts_updated_from_iso: datetime | str | None = None,
        storefront: Iterable[Storefront | str] | Storefront | str | None = None,
        fulfillment_type: FulfillmentFilter = None,
        sort: TicketSort | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[Ticket]:
        """``GET /tickets``: one page (at most 30)."""
        params = self._params(
            status,
            open_reason,
            topic,
            id_buyer,
            ts_created_from_iso,
            ts_updated_from_iso,
            storefront,
            fulfillment_type,
            sort,
        )
        return await self._page(
            "/tickets", Ticket, params, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_all(
        self,
        *,
        status: Iterable[TicketStatus | str] | TicketStatus | str | None = None,
        open_reason: Iterable[TicketReason | str] | TicketReason | str | None = None,
        topic: Iterable[TicketTopic | str] | TicketTopic | str | None = None,
        id_buyer: int | None = None,
        ts_created_from_iso: datetime | str | None = None,
        ts_updated_from_iso: datetime | str | None = None,
        storefront: Iterable[Storefront | str] | Storefront | str | None = None,
        fulfillment_type: FulfillmentFilter = None,
        sort: TicketSort | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Ticket]:
        params = self._params(
            status,
            open_reason,
            topic,
            id_buyer,
            ts_created_from_iso,
            ts_updated_from_iso,
            storefront,
            fulfillment_type,
            sort,
        )
        return self._iter("/tickets", Ticket, params, max_limit=MAX_LIMIT, page_size=page_size)

    async def get(
        self, id_ticket: str, *, embedded: Iterable[TicketEmbeddable | str] | None = None
    ) -> TicketWithEmbedded:
        """``GET /tickets/{id_ticket}`` (``id_ticket`` is text such as ``"0011234567"``)."""
        params = query(embedded=embedded_param(embedded))
        return await self._get(f"/tickets/{seg(id_ticket)}", TicketWithEmbedded, params)

    async def open(
        self, ids_order_units: Iterable[int], *, reason: TicketReason | str, message: str
    ) -> OpenTicketResponse:
        """``POST /tickets`` (201): open a ticket to the buyer. Not replay-safe."""
        body = OpenTicketRequest(
            id_order_unit=list(ids_order_units), reason=TicketReason(reason), message=message
        )
        return await self._call(
            "POST", "/tickets", OpenTicketResponse, json=body.to_body(), replay_safe=False
        )

    async def close(self, id_ticket: str) -> None:
        """``PATCH /tickets/{id_ticket}/close`` (204). Replay-safe (the same end state)."""
        await self._action("PATCH", f"/tickets/{seg(id_ticket)}/close", replay_safe=True)

    async def add_message(
        self,
        id_ticket: str,
        text: str,
        *,
        interim_notice: bool | None = None,
        files: Iterable[TicketMessageFile | Mapping[str, Any]] | None = None,
    ) -> None:
        """``POST /tickets/{id_ticket}/messages`` (201, no body). Not replay-safe: a repeat
        posts the message twice. Build attachments with ``attachment()``."""
        attachments = (
            [f if isinstance(f, TicketMessageFile) else TicketMessageFile(**f) for f in files]
            if files is not None
            else None
        )
        body = CreateTicketMessageRequest(
            text=text, interim_notice=interim_notice, ticket_message_files=attachments or None
        )
        await self._action(
            "POST", f"/tickets/{seg(id_ticket)}/messages", json=body.to_body(), replay_safe=False
        )

    @staticmethod
    def _message_params(
        ts_created_from_iso: datetime | str | None,
        fulfillment_type: FulfillmentFilter,
        sort: TicketMessageSort | str | None,
    ) -> dict[str, Any]:
        return query(
            ts_created_from_iso=iso(ts_created_from_iso),
            fulfillment_type=many(fulfillment_type),
            sort=text(sort),
        )

    async def list_messages(
        self,
        *,
        ts_created_from_iso: datetime | str | None = None,
        fulfillment_type: FulfillmentFilter = None,
        sort: TicketMessageSort | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[TicketMessage]:
        """``GET /tickets/messages``: one page of messages across **all** tickets."""
        return await self._page(
            "/tickets/messages",
            TicketMessage,
            self._message_params(ts_created_from_iso, fulfillment_type, sort),
            limit=limit,
            offset=offset,
            max_limit=MAX_LIMIT,
        )

    def iter_messages(
        self,
        *,
        ts_created_from_iso: datetime | str | None = None,
        fulfillment_type: FulfillmentFilter = None,
        sort: TicketMessageSort | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[TicketMessage]:
        return self._iter(
            "/tickets/messages",
            TicketMessage,
            self._message_params(ts_created_from_iso, fulfillment_type, sort),
            max_limit=MAX_LIMIT,
            page_size=page_size,
        )
