"""``/subscriptions``: push notifications to a callback URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from kaufland_sync.sellerapi.models import (
    EventName,
    Page,
    Subscription,
    SubscriptionCreateRequest,
    SubscriptionUpdateRequest,
)
from kaufland_sync.sellerapi.resources._base import Resource, StorefrontArg, query, text

MAX_LIMIT = 30


class Subscriptions(Resource):
    async def list(
        self,
        *,
        storefront: StorefrontArg = None,
        event_name: EventName | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[Subscription]:
        """``GET /subscriptions``: one page (at most 30)."""
        params = query(storefront=self._storefront_filter(storefront), event_name=text(event_name))
        return await self._page(
            "/subscriptions", Subscription, params, limit=limit, offset=offset, max_limit=MAX_LIMIT
        )

    def iter_all(
        self,
        *,
        storefront: StorefrontArg = None,
        event_name: EventName | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Subscription]:
        params = query(storefront=self._storefront_filter(storefront), event_name=text(event_name))
        return self._iter(
            "/subscriptions", Subscription, params, max_limit=MAX_LIMIT, page_size=page_size
        )

    async def get(self, id_subscription: int) -> Subscription:
        """``GET /subscriptions/{id_subscription}``."""
        return await self._get(f"/subscriptions/{id_subscription}", Subscription)

    async def create(
        self,
        *,
        callback_url: str,
        event_name: EventName | str,
        fallback_email: str,
        storefront: StorefrontArg = None,
    ) -> Subscription:
        """``POST /subscriptions`` (201). Kaufland first verifies ``callback_url`` with a
        challenge request, so the receiver must be up. Not replay-safe."""
        body = SubscriptionCreateRequest(
            callback_url=callback_url,
            event_name=EventName(event_name),
            fallback_email=fallback_email,
        )
        return await self._call(
            "POST",
            "/subscriptions",
            Subscription,
            params=query(storefront=self._storefront(storefront)),
            json=body.to_body(),
            replay_safe=False,
        )

    async def update(self, id_subscription: int, **fields: Any) -> Subscription:
        """``PATCH /subscriptions/{id}`` with any of ``callback_url``, ``fallback_email``,
        ``event_name``, ``is_active``, ``storefront``. Replay-safe (absolute values)."""
        if not fields:
            raise ValueError("nothing to update: pass at least one field")
        body = SubscriptionUpdateRequest(**fields)
        return await self._call(
            "PATCH",
            f"/subscriptions/{id_subscription}",
            Subscription,
            json=body.to_body(),
            replay_safe=True,
        )

    async def delete(self, id_subscription: int) -> None:
        """``DELETE /subscriptions/{id_subscription}`` (204)."""
        await self._action("DELETE", f"/subscriptions/{id_subscription}", replay_safe=True)
