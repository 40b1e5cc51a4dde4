"""Push-notification subscriptions: make Kaufland send an account's events to our receiver.

Kaufland keeps one subscription per storefront and event (REFERENCE §4.13): ``POST
/subscriptions?storefront=..`` with ``{callback_url, fallback_email, event_name}``. Creating one
(or changing its ``callback_url``) makes Kaufland verify the receiver first with ``GET
callback_url?mode=subscribe&challenge=..``, so the web app (``kaufland-sync run``) must be
reachable at the callback URL *before* subscribing.

The receiver of account ``NAME`` is ``<public_url>/webhooks/kaufland/NAME``
(:func:`callback_url_for`). A subscription is *ours* when its callback URL is that URL or any
URL whose path ends in ``/webhooks/kaufland/NAME`` (the same receiver at an older public
address). Subscriptions of other receivers (another tool of the seller) are never changed or
deleted.

:func:`subscribe` is idempotent: per storefront and event it keeps an active subscription of
ours with the right URL and e-mail, patches one of ours that points elsewhere, is switched off
or has another fallback e-mail, creates what is missing, and deletes further duplicates of ours
(each would deliver every event again). Running it twice changes nothing the second time.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from kaufland_sync.sellerapi.errors import ApiError
from kaufland_sync.sellerapi.models import EventName, Subscription
from kaufland_sync.sellerapi.storefronts import Storefront

if TYPE_CHECKING:
    from kaufland_sync.sellerapi.client import KauflandClient

__all__ = [
    "ALL_EVENTS",
    "MAX_CALLBACK_URL",
    "WEBHOOK_PREFIX",
    "Action",
    "CallbackUrlError",
    "CallbackVerificationError",
    "MissingEmailError",
    "SubscribeReport",
    "SubscriptionChange",
    "callback_url_for",
    "is_ours",
    "list_subscriptions",
    "subscribe",
    "unsubscribe",
    "webhook_path",
]

#: Path of the receivers; the account's name follows.
WEBHOOK_PREFIX = "/webhooks/kaufland/"
#: Kaufland refuses longer callback URLs.
MAX_CALLBACK_URL = 255
#: Every event Kaufland can push (the receiver turns each into a job, or ignores it).
ALL_EVENTS: tuple[EventName, ...] = tuple(EventName)
# The problem type of a failed callback check (an absolute URL at Kaufland, a path in docs).
_UNVERIFIED = "/subscriptions/unverified-callback-url"


class CallbackUrlError(ValueError):
    """The public URL cannot make a callback URL Kaufland accepts."""


class MissingEmailError(ValueError):
    """A subscription must be created or patched and no fallback e-mail is known."""


class Action(enum.StrEnum):
    """What :func:`subscribe` / :func:`unsubscribe` did to one subscription."""

    CREATED = "created"
    UPDATED = "updated"  # patched: callback URL, switched on, fallback e-mail
    KEPT = "kept"  # already right
    REMOVED = "removed"  # a duplicate of ours, deleted
    DELETED = "deleted"  # by unsubscribe


@dataclass(frozen=True)
class SubscriptionChange:
    """One subscription and what was done to it (``detail`` names patched fields)."""

    action: Action
    storefront: str | None
    event_name: str
    id_subscription: int | None
    callback_url: str | None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "storefront": self.storefront,
            "event_name": self.event_name,
            "id_subscription": self.id_subscription,
            "callback_url": self.callback_url,
            "detail": self.detail,
        }


@dataclass
class SubscribeReport:
    """What :func:`subscribe` did, in the order it did it."""

    callback_url: str
    changes: list[SubscriptionChange] = field(default_factory=list)

    def _with(self, action: Action) -> list[SubscriptionChange]:
        return [c for c in self.changes if c.action is action]

    @property
    def created(self) -> list[SubscriptionChange]:
        return self._with(Action.CREATED)

    @property
    def updated(self) -> list[SubscriptionChange]:
        return self._with(Action.UPDATED)

    @property
    def kept(self) -> list[SubscriptionChange]:
        return self._with(Action.KEPT)

    @property
    def removed(self) -> list[SubscriptionChange]:
        return self._with(Action.REMOVED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "callback_url": self.callback_url,
            "created": len(self.created),
            "updated": len(self.updated),
            "kept": len(self.kept),
            "removed": len(self.removed),
            "changes": [c.to_dict() for c in self.changes],
        }


class CallbackVerificationError(Exception):
    """Kaufland could not verify the callback URL (its challenge GET did not come back).
    ``report`` holds what was done before; ``cause`` is Kaufland's answer."""

    def __init__(self, callback_url: str, report: SubscribeReport, cause: ApiError) -> None:
        self.callback_url = callback_url
        self.report = report
        self.cause = cause
        super().__init__(
            f"Kaufland could not verify the callback URL {callback_url}: it must reach that "
            "address and get the challenge back from GET ?mode=subscribe&challenge=... "
            f"({cause.message or f'HTTP {cause.status_code}'})"
        )


def webhook_path(account_name: str) -> str:
    """The receiver's path for an account: ``/webhooks/kaufland/<name, URL-quoted>``."""
    return WEBHOOK_PREFIX + quote(account_name, safe="")


def callback_url_for(public_url: str, account_name: str) -> str:
    """``public_url`` (without a trailing slash) + :func:`webhook_path`. Raises
    ``CallbackUrlError`` when ``public_url`` is not an absolute http(s) URL without query or
    fragment, or when the result is longer than Kaufland's 255 characters."""
    base = public_url.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CallbackUrlError(
            f"public URL {public_url!r} must be an absolute http(s) URL, "
            "e.g. https://sync.example.com"
        )
    if parts.query or parts.fragment:
        raise CallbackUrlError(f"public URL {public_url!r} must not have a query or fragment")
    url = base + webhook_path(account_name)
    if len(url) > MAX_CALLBACK_URL:
        raise CallbackUrlError(
            f"the callback URL {url} is {len(url)} characters long; Kaufland accepts at most "
            f"{MAX_CALLBACK_URL}: use a shorter public URL"
        )
    return url


def _receiver(url: str | None) -> str | None:
    """The receiver part of a callback URL or path: from the last ``/webhooks/kaufland/`` on
    (None when the URL is not one of our receivers)."""
    if not url:
        return None
    path = urlsplit(url).path
    at = path.rfind(WEBHOOK_PREFIX)
    if at < 0 or at + len(WEBHOOK_PREFIX) == len(path):
        return None
    return path[at:]


def is_ours(subscription: Subscription, callback_url: str) -> bool:
    """Whether ``subscription`` sends to the receiver of ``callback_url`` (a full URL, or just
    the receiver's path such as ``/webhooks/kaufland/shop``): the same URL, or another address
    with the same receiver path."""
    if subscription.callback_url == callback_url:
        return True
    mine = _receiver(callback_url)
    return mine is not None and _receiver(subscription.callback_url) == mine


def _codes(storefronts: Iterable[Storefront | str]) -> list[str]:
    codes: list[str] = []
    for value in storefronts:
        code = Storefront.parse(value).value
        if code not in codes:
            codes.append(code)
    return codes


async def list_subscriptions(
    client: KauflandClient, *, storefronts: Iterable[Storefront | str] | None = None
) -> list[Subscription]:
    """Every subscription of the seller (all pages), or those of the given storefronts,
    sorted by storefront, event and id."""
    found = [s async for s in client.subscriptions.iter_all()]
    if storefronts is not None:
        wanted = set(_codes(storefronts))
        found = [s for s in found if s.storefront in wanted]
    return sorted(
        found, key=lambda s: (s.storefront or "", str(s.event_name or ""), s.id_subscription)
    )


def _verification_failed(exc: ApiError) -> bool:
    return bool(exc.problem_type and exc.problem_type.endswith(_UNVERIFIED))


async def subscribe(
    client: KauflandClient,
    *,
    storefronts: Sequence[Storefront | str],
    callback_url: str,
    events: Iterable[EventName | str] = ALL_EVENTS,
    fallback_email: str | None = None,
) -> SubscribeReport:
    """Make every ``event`` of every storefront go to ``callback_url`` (see the module
    docstring for what is created, patched, kept and removed).

    ``fallback_email`` is where Kaufland writes when it gives up delivering (after about 12
    hours of failures); None: the one our existing subscriptions have.

    Raises ``CallbackVerificationError`` (with the report so far) when Kaufland cannot verify
    the callback URL, ``CallbackUrlError`` for a URL over 255 characters, ``MissingEmailError``
    (before changing anything) when a subscription must be made and no e-mail is known, and
    ``ApiError`` for anything else Kaufland refuses. Every step before an error stays done;
    running again continues from there.
    """
    if len(callback_url) > MAX_CALLBACK_URL:
        raise CallbackUrlError(
            f"the callback URL is {len(callback_url)} characters long; Kaufland accepts at "
            f"most {MAX_CALLBACK_URL}"
        )
    wanted_events = [EventName(e) for e in events]
    codes = _codes(storefronts)
    existing = await list_subscriptions(client)
    ours = [s for s in existing if is_ours(s, callback_url)]
    plan: list[tuple[str, EventName, list[Subscription]]] = []
    for code in codes:
        for event in wanted_events:
            mine = [s for s in ours if s.storefront == code and s.event_name == event]
            # Prefer the one already at the right URL, then an active one.
            mine.sort(key=lambda s: (s.callback_url != callback_url, not s.is_active))
            plan.append((code, event, mine))
    email = fallback_email or next((s.fallback_email for s in ours if s.fallback_email), None)
    if email is None and any(not mine for _, _, mine in plan):
        raise MissingEmailError(
            "a fallback e-mail is needed to create subscriptions: Kaufland writes to it when it "
            "cannot deliver for about 12 hours and switches the subscription off"
        )
    report = SubscribeReport(callback_url)
    for code, event, mine in plan:
        try:
            report.changes.append(
                await _ensure(client, mine[0] if mine else None, code, event, callback_url, email)
            )
        except ApiError as exc:
            if _verification_failed(exc):
                raise CallbackVerificationError(callback_url, report, exc) from exc
            raise
        for extra in mine[1:]:
            await client.subscriptions.delete(extra.id_subscription)
            report.changes.append(
                SubscriptionChange(
                    Action.REMOVED,
                    code,
                    event.value,
                    extra.id_subscription,
                    extra.callback_url,
                    "a second subscription of ours for the same event",
                )
            )
    return report


async def _ensure(
    client: KauflandClient,
    current: Subscription | None,
    storefront: str,
    event: EventName,
    callback_url: str,
    fallback_email: str | None,
) -> SubscriptionChange:
    """Create the subscription, or patch ``current`` into shape, or keep it (a None e-mail
    leaves the current one)."""
    if current is None:
        assert fallback_email is not None  # checked by subscribe before any change
        made = await client.subscriptions.create(
            callback_url=callback_url,
            event_name=event,
            fallback_email=fallback_email,
            storefront=storefront,
        )
        return SubscriptionChange(
            Action.CREATED, storefront, event.value, made.id_subscription, callback_url
        )
    changes: dict[str, Any] = {}
    if current.callback_url != callback_url:
        changes["callback_url"] = callback_url
    if not current.is_active:
        changes["is_active"] = True
    if fallback_email is not None and current.fallback_email != fallback_email:
        changes["fallback_email"] = fallback_email
    if not changes:
        return SubscriptionChange(
            Action.KEPT, storefront, event.value, current.id_subscription, callback_url
        )
    await client.subscriptions.update(current.id_subscription, **changes)
    return SubscriptionChange(
        Action.UPDATED,
        storefront,
        event.value,
        current.id_subscription,
        callback_url,
        ", ".join(sorted(changes)),
    )


async def unsubscribe(
    client: KauflandClient,
    *,
    callback_url: str,
    storefronts: Iterable[Storefront | str] | None = None,
) -> list[SubscriptionChange]:
    """Delete every subscription of ours (``is_ours`` with ``callback_url``, a full URL or a
    receiver path), on the given storefronts or all. Others' subscriptions stay."""
    deleted: list[SubscriptionChange] = []
    for sub in await list_subscriptions(client, storefronts=storefronts):
        if not is_ours(sub, callback_url):
            continue
        await client.subscriptions.delete(sub.id_subscription)
        deleted.append(
            SubscriptionChange(
                Action.DELETED,
                sub.storefront,
                str(sub.event_name or ""),
                sub.id_subscription,
                sub.callback_url,
            )
        )
    return deleted
