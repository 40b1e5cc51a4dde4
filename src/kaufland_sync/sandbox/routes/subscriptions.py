"""``/subscriptions``: push-notification subscriptions (CRUD with callback verification)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response

from kaufland_sync.sandbox import notify
from kaufland_sync.sandbox._http import (
    ALREADY_EXISTS,
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
    body_enum,
    body_str,
    by_int_key,
    no_extra_fields,
    path_int,
)
from kaufland_sync.sandbox.world import ALL_STOREFRONTS, Record

EVENT_NAMES = (
    "order_new",
    "order_unit_new",
    "order_unit_status_changed",
    "item_changed",
    "category_changed",
    "return_new",
    "return_status_changed",
    "return_unit_status_changed",
    "item_unit_new",
    "item_unit_changed",
    "item_unit_deleted",
    "item_unit_out_of_stock",
    "item_unit_not_available",
    "item_unit_available",
)
UNVERIFIED = "/problems/subscriptions/unverified-callback-url"
MAX_URL = 255


def _callback_url(body: dict[str, Any], *, required: bool) -> str | None:
    url = body_str(body, "callback_url", required=required, min_len=1, max_len=MAX_URL)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise validation([("callback_url", "This value is not a valid URL.")])
    return url


def _email(body: dict[str, Any], *, required: bool) -> str | None:
    email = body_str(body, "fallback_email", required=required, min_len=3, max_len=255)
    if email is not None and ("@" not in email or email.startswith("@") or email.endswith("@")):
        raise validation([("fallback_email", "This value is not a valid email address.")])
    return email


async def _verify(ctx: Ctx, url: str) -> None:
    if not await notify.verify_callback(ctx.world, url):
        raise Problem(
            400,
            UNVERIFIED,
            "The callback URL could not be verified: it must answer "
            "GET ?mode=subscribe&challenge=... with the challenge.",
            [("callback_url", "Callback verification failed.")],
        )


def _find(ctx: Ctx) -> Record:
    id_sub = path_int(ctx, "id_subscription")
    sub = ctx.table("subscriptions").get(str(id_sub))
    if sub is None:
        raise not_found("Subscription", id_sub)
    return sub


async def list_subscriptions(ctx: Ctx) -> Response:
    """GET /subscriptions: filters storefront, event_name; limit ≤ 30."""
    storefront = ctx.storefront(required=False)
    event_name = ctx.q_enum("event_name", EVENT_NAMES)
    offset, limit = ctx.page(max_limit=30)
    rows = [
        s
        for s in by_int_key(ctx.table("subscriptions"))
        if (not storefront or s.get("storefront") == storefront)
        and (not event_name or s["event_name"] == event_name)
    ]
    return page(rows, offset, limit)


async def get_subscription(ctx: Ctx) -> Response:
    return data(_find(ctx))


async def add_subscription(ctx: Ctx) -> Response:
    """POST /subscriptions?storefront= ``{callback_url, fallback_email, event_name}`` → 201
    after the callback answered the verification challenge."""
    storefront = ctx.storefront(required=True)
    body = ctx.json_object()
    no_extra_fields(body, ("callback_url", "fallback_email", "event_name"))
    url = _callback_url(body, required=True)
    email = _email(body, required=True)
    event_name = body_enum(body, "event_name", EVENT_NAMES)
    for existing in ctx.table("subscriptions").values():
        if (existing["callback_url"], existing["event_name"], existing.get("storefront")) == (
            url,
            event_name,
            storefront,
        ):
            raise Problem(
                400,
                ALREADY_EXISTS,
                f"Subscription {existing['id_subscription']} already sends {event_name} there.",
            )
    assert url is not None
    await _verify(ctx, url)
    id_sub = ctx.world.next_id("subscription", 11_000)
    sub: Record = {
        "id_subscription": id_sub,
        "callback_url": url,
        "fallback_email": email,
        "event_name": event_name,
        "is_active": True,
        "storefront": storefront,
    }
    ctx.table("subscriptions")[str(id_sub)] = sub
    ctx.world.dirty = True
    return data(sub, status=201)


async def update_subscription(ctx: Ctx) -> Response:
    """PATCH /subscriptions/{id}: any of callback_url (re-verified), fallback_email, event_name,
    is_active, storefront (null = every storefront) → 200."""
    sub = _find(ctx)
    body = ctx.json_object()
    no_extra_fields(
        body, ("callback_url", "fallback_email", "event_name", "is_active", "storefront")
    )
    changes: Record = {}
    if "callback_url" in body:
        changes["callback_url"] = _callback_url(body, required=True)
    if "fallback_email" in body:
        changes["fallback_email"] = _email(body, required=True)
    if "event_name" in body:
        changes["event_name"] = body_enum(body, "event_name", EVENT_NAMES)
    if "is_active" in body:
        if not isinstance(body["is_active"], bool):
            raise validation([("is_active", "This value should be of type boolean.")])
        changes["is_active"] = body["is_active"]
    if "storefront" in body:
        value = body["storefront"]
        if value is not None and value not in ALL_STOREFRONTS:
            raise validation([("storefront", "The value you selected is not a valid choice.")])
        if value is not None and value not in ctx.seller.storefronts:
            raise Problem(
                400,
                "/problems/storefront-not-configured",
                f"Storefront '{value}' is not configured.",
            )
        changes["storefront"] = value
    new_url = changes.get("callback_url")
    if new_url is not None and new_url != sub["callback_url"]:
        await _verify(ctx, str(new_url))
    sub.update(changes)
    ctx.world.dirty = True
    return data(sub)


async def delete_subscription(ctx: Ctx) -> Response:
    sub = _find(ctx)
    del ctx.table("subscriptions")[str(sub["id_subscription"])]
    ctx.world.dirty = True
    return no_content()


ROUTES: list[RouteSpec] = [
    ("GET", "/subscriptions", list_subscriptions),
    ("POST", "/subscriptions", add_subscription),
    ("GET", "/subscriptions/{id_subscription}", get_subscription),
    ("PATCH", "/subscriptions/{id_subscription}", update_subscription),
    ("DELETE", "/subscriptions/{id_subscription}", delete_subscription),
]
