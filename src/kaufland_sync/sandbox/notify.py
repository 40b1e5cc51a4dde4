"""Push notifications: deliver ``world.events`` to the sellers' subscriptions.

Kaufland's push contract (REFERENCE §4.13, partly second-hand):

* Creating a subscription (or changing its ``callback_url``) verifies the receiver:
  ``GET callback_url?mode=subscribe&challenge=<random>`` must answer 2xx with the challenge as
  the whole body, within 15 s.
* Each event is ``POST callback_url`` with JSON ``{"event_name", "id_message", "resource",
  "storefront"}`` (plus ``payload`` for ``item_unit_*``), signed like an API request with the
  seller's secret: ``Shop-Timestamp`` and ``Shop-Signature`` over ``POST``, the callback URL,
  the raw body and the timestamp.
* 200/201/202/204 within 5 s counts as delivered. Anything else is retried after
  ``config.push_retry_delays`` (the last delay repeating) for about 12 hours; then the
  subscription is switched off (``is_active=false``) and the fallback e-mail would be told.

``world.events`` is the queue: each pass takes every event off it, fans it out to the matching
active subscriptions and forgets events nobody subscribed to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import uuid
import weakref
from dataclasses import dataclass, field

import httpx

from kaufland_sync.sandbox.world import Record, World
from kaufland_sync.sellerapi._signing import sign_request

__all__ = [
    "DELIVERY_TIMEOUT",
    "GIVE_UP_AFTER",
    "SUCCESS_CODES",
    "VERIFY_TIMEOUT",
    "Delivery",
    "Notifier",
    "deliver_due",
    "notifier_for",
    "run",
    "verify_callback",
]

log = logging.getLogger("kaufland_sync.sandbox.notify")

VERIFY_TIMEOUT = 15.0
DELIVERY_TIMEOUT = 5.0
SUCCESS_CODES = frozenset({200, 201, 202, 204})
GIVE_UP_AFTER = 12 * 3600.0


@dataclass
class Delivery:
    """One message for one subscription, with its retry state."""

    client_key: str
    id_subscription: str
    callback_url: str
    body: bytes
    first_try: float
    due: float
    attempts: int = 0
    last_error: str | None = None


@dataclass
class Notifier:
    """Delivers a world's events. ``transport`` replaces the network in tests (e.g.
    ``httpx.MockTransport`` or ``httpx.ASGITransport`` around a receiver app)."""

    world: World
    transport: httpx.AsyncBaseTransport | None = None
    poll_interval: float = 0.2
    give_up_after: float = GIVE_UP_AFTER
    pending: list[Delivery] = field(default_factory=list)
    # Every attempt, newest last: {id_subscription, id_message, status (int|None), error, ts}.
    attempts_log: list[Record] = field(default_factory=list)

    def _client(self, timeout: float) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, timeout=timeout, follow_redirects=False)

    # verification ----------------------------------------------------------------------------
    async def verify(self, callback_url: str) -> bool:
        """Kaufland's callback check: the receiver must echo the challenge within 15 s."""
        challenge = secrets.token_urlsafe(24)
        try:
            async with self._client(VERIFY_TIMEOUT) as client:
                response = await client.get(
                    callback_url, params={"mode": "subscribe", "challenge": challenge}
                )
        except (httpx.HTTPError, ValueError):
            return False
        return 200 <= response.status_code < 300 and response.text.strip() == challenge

    # fan-out ---------------------------------------------------------------------------------
    def collect(self) -> int:
        """Take every event off ``world.events`` and queue one delivery per matching active
        subscription. Returns how many deliveries were queued."""
        world = self.world
        events = list(world.events)
        del world.events[: len(events)]
        queued = 0
        now = world.now()
        for event in events:
            seller = world.sellers.get(str(event.get("client_key")))
            if seller is None:
                continue
            for key, sub in seller.table("subscriptions").items():
                if not sub.get("is_active") or sub.get("event_name") != event["event_name"]:
                    continue
                wanted = sub.get("storefront")
                if wanted and event.get("storefront") and wanted != event["storefront"]:
                    continue
                message: Record = {
                    "event_name": event["event_name"],
                    "id_message": str(uuid.uuid4()),
                    "resource": event["resource"],
                    "storefront": event.get("storefront"),
                }
                if "payload" in event and str(event["event_name"]).startswith("item_unit_"):
                    message["payload"] = event["payload"]
                body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
                self.pending.append(
                    Delivery(seller.client_key, key, str(sub["callback_url"]), body, now, now)
                )
                queued += 1
        return queued

    # delivery --------------------------------------------------------------------------------
    def _secret(self, client_key: str) -> str | None:
        for creds in self.world.config.sellers:
            if creds.client_key == client_key:
                return creds.secret_key
        return None

    def _subscription(self, delivery: Delivery) -> Record | None:
        seller = self.world.sellers.get(delivery.client_key)
        if seller is None:
            return None
        return seller.table("subscriptions").get(delivery.id_subscription)

    async def _attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> bool:
        secret = self._secret(delivery.client_key) or ""
        timestamp = int(self.world.now())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "kaufland-sandbox-push",
            "Shop-Timestamp": str(timestamp),
            "Shop-Signature": sign_request(
                "POST", delivery.callback_url, delivery.body, timestamp, secret
            ),
        }
        status: int | None = None
        error: str | None = None
        try:
            response = await client.post(
                delivery.callback_url, content=delivery.body, headers=headers
            )
            status = response.status_code
            if status not in SUCCESS_CODES:
                error = f"HTTP {status}"
        except (httpx.HTTPError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivery.attempts += 1
        delivery.last_error = error
        self.attempts_log.append(
            {
                "id_subscription": delivery.id_subscription,
                "id_message": json.loads(delivery.body)["id_message"],
                "status": status,
                "error": error,
                "ts": self.world.now(),
            }
        )
        return error is None

    def _retry_delay(self, attempts: int) -> float:
        delays = self.world.config.push_retry_delays or (60.0,)
        return float(delays[min(attempts - 1, len(delays) - 1)])

    def _give_up(self, delivery: Delivery) -> None:
        """Switch the subscription off, as Kaufland does after ~12 h of failures, and drop
        everything still queued for it."""
        sub = self._subscription(delivery)
        if sub is not None and sub.get("is_active"):
            sub["is_active"] = False
            sub["_deactivated_iso"] = self.world.now_iso()
            sub["_fallback_email_sent"] = sub.get("fallback_email")
            self.world.dirty = True
        self.pending = [
            d
            for d in self.pending
            if (d.client_key, d.id_subscription) != (delivery.client_key, delivery.id_subscription)
        ]

    async def deliver_due(self) -> int:
        """One pass: queue new events, try every delivery that is due (concurrently), schedule
        retries. Returns the number of attempts made."""
        self.collect()
        now = self.world.now()
        due: list[Delivery] = []
        keep: list[Delivery] = []
        for delivery in self.pending:
            sub = self._subscription(delivery)
            if sub is None or not sub.get("is_active"):
                continue  # deleted or switched off meanwhile: nothing to deliver to
            delivery.callback_url = str(sub["callback_url"])
            (due if delivery.due <= now else keep).append(delivery)
        self.pending = keep
        if not due:
            return 0
        async with self._client(DELIVERY_TIMEOUT) as client:
            results = await asyncio.gather(*(self._attempt(client, d) for d in due))
        now = self.world.now()
        for delivery, ok in zip(due, results, strict=True):
            if ok:
                continue
            next_due = now + self._retry_delay(delivery.attempts)
            if next_due - delivery.first_try > self.give_up_after:
                self._give_up(delivery)
                continue
            delivery.due = next_due
            self.pending.append(delivery)
        return len(due)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, polling every ``poll_interval`` seconds. A failing
        pass never kills the loop (the sandbox must keep serving)."""
        while not stop.is_set():
            try:
                await self.deliver_due()
            except Exception:
                log.exception("push delivery pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll_interval)


_NOTIFIERS: weakref.WeakKeyDictionary[World, Notifier] = weakref.WeakKeyDictionary()


def notifier_for(world: World, transport: httpx.AsyncBaseTransport | None = None) -> Notifier:
    """The world's notifier (created on first use). Passing ``transport`` sets it."""
    notifier = _NOTIFIERS.get(world)
    if notifier is None:
        notifier = Notifier(world, transport=transport)
        _NOTIFIERS[world] = notifier
    elif transport is not None:
        notifier.transport = transport
    return notifier


async def deliver_due(world: World) -> int:
    """One delivery pass for ``world`` (see ``Notifier.deliver_due``)."""
    return await notifier_for(world).deliver_due()


async def run(world: World, stop: asyncio.Event) -> None:
    """The background task the app starts: deliver until ``stop`` is set."""
    await notifier_for(world).run(stop)


async def verify_callback(world: World, callback_url: str) -> bool:
    """Kaufland's subscribe check against ``callback_url`` (used by ``POST/PATCH
    /subscriptions``)."""
    return await notifier_for(world).verify(callback_url)
