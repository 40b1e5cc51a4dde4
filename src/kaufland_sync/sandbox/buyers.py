"""Invented buyers who order by themselves, so a running sandbox looks alive in a demo.

With ``config.buyers_every`` > 0 the app starts ``run`` as a background task (next to the push
notifier). It waits an exponentially distributed pause with that mean (a Poisson process over
all sellers together), then places one order through ``place_random_order``, and again, until
the app shuts down. An order placed here is made by ``marketplace.random_orders``, the same code
``POST /_sandbox/orders`` runs: the same order and order-unit records, ``open_delay``, stock
changes and push events (``order_new``, ``order_unit_new``, ``item_unit_*``).

Choices and pauses come from one random source seeded by ``config.random_seed``, so a seeded
sandbox orders the same things in the same sequence. Pauses are elapsed time, not readings of
the world's clock: ``PUT /_sandbox/clock`` skews that clock by an offset, which must neither
bunch buyers up nor stall them. Order timestamps do come from the world's clock.
"""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from kaufland_sync.sandbox import marketplace
from kaufland_sync.sandbox.world import Record, Seller, World

__all__ = [
    "Buyers",
    "PlacedOrder",
    "Sleep",
    "buyable_storefronts",
    "buyers_for",
    "place_random_order",
    "run",
]

log = logging.getLogger("kaufland_sync.sandbox.buyers")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class PlacedOrder:
    """What one invented buyer bought: the seller, the storefront and the new order's id."""

    client_key: str
    storefront: str
    id_order: str


def _buyable(seller: Seller, unit: Record) -> bool:
    """A unit a buyer can order right now: ``AVAILABLE``, in stock and on a storefront the seller
    has configured (the rule ``marketplace.random_orders`` picks by)."""
    return (
        unit.get("status", "AVAILABLE") == "AVAILABLE"
        and int(unit.get("amount") or 0) > 0
        and unit.get("storefront") in seller.storefronts
    )


def buyable_storefronts(
    world: World, storefronts: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """Per seller, the storefronts (of ``storefronts``; None: all) on which it has at least one
    buyable unit, in the seller's configured order. Sellers with none are left out."""
    allowed = None if storefronts is None else frozenset(storefronts)
    found: dict[str, list[str]] = {}
    for key, seller in world.sellers.items():
        fronts = {
            str(unit["storefront"])
            for unit in seller.table("units").values()
            if _buyable(seller, unit) and (allowed is None or unit.get("storefront") in allowed)
        }
        ordered = [front for front in seller.storefronts if front in fronts]
        if ordered:
            found[key] = ordered
    return found


def place_random_order(
    world: World, rng: random.Random, storefronts: Iterable[str] | None = None
) -> PlacedOrder | None:
    """Now, one invented buyer orders from a random seller on a random one of its storefronts
    (limited to ``storefronts``; None: ``config.buyers_storefronts``, else all) where it has
    something buyable. Returns what was ordered, or None when nothing is buyable anywhere.

    Due time-driven transitions are applied first, as before a control-API call, so the new
    order sees the same world a ``POST /_sandbox/orders`` would."""
    marketplace.tick(world)
    if storefronts is None:
        storefronts = world.config.buyers_storefronts
    choices = buyable_storefronts(world, storefronts)
    if not choices:
        log.debug("invented buyer found nothing buyable; no order")
        return None
    client_key = rng.choice(sorted(choices))
    storefront = rng.choice(choices[client_key])
    ids = marketplace.random_orders(world, client_key, 1, rng=rng, storefront=storefront)
    if not ids:  # cannot happen after the check above; kept so a drift is harmless
        return None
    log.debug("invented buyer ordered %s from %s on %s", ids[0], client_key, storefront)
    return PlacedOrder(client_key, storefront, ids[0])


@dataclass
class Buyers:
    """The buyers of one world. ``sleep`` replaces ``asyncio.sleep`` in tests (it is raced
    against the stop event, so even a sleep that never returns does not delay shutdown)."""

    world: World
    rng: random.Random
    sleep: Sleep = asyncio.sleep
    placed: list[PlacedOrder] = field(default_factory=list)
    # Set when ``run`` returned because ``stop`` was set (not when it was cancelled).
    stopped: bool = False

    def pause(self) -> float:
        """Seconds until the next buyer: exponential with mean ``config.buyers_every``."""
        return self.rng.expovariate(1.0 / self.world.config.buyers_every)

    def order_now(self) -> PlacedOrder | None:
        """One buyer orders at once (``place_random_order``); remembered in ``placed``."""
        placed = place_random_order(self.world, self.rng)
        if placed is not None:
            self.placed.append(placed)
        return placed

    async def _wait(self, seconds: float, stop: asyncio.Event) -> bool:
        """Sleep ``seconds``; False as soon as ``stop`` is set (the sleep is cancelled)."""
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
        return not stop.is_set()

    async def run(self, stop: asyncio.Event) -> None:
        """Place orders at random intervals until ``stop`` is set; at once when buyers are off
        (``buyers_every`` <= 0). A failing order is logged and never ends the loop (the
        sandbox must keep serving)."""
        self.stopped = False
        if self.world.config.buyers_every <= 0:
            self.stopped = True
            return
        while not stop.is_set():
            if not await self._wait(self.pause(), stop):
                break
            try:
                self.order_now()
            except Exception:
                log.exception("invented buyer could not place an order")
        self.stopped = True


_BUYERS: weakref.WeakKeyDictionary[World, Buyers] = weakref.WeakKeyDictionary()


def buyers_for(world: World) -> Buyers:
    """The world's buyers (created on first use, with a random source derived from
    ``config.random_seed`` so it does not repeat the marketplace's own sequence)."""
    buyers = _BUYERS.get(world)
    if buyers is None:
        seed = world.config.random_seed
        rng = random.Random(None if seed is None else f"kaufland-sandbox:buyers:{seed}")
        buyers = Buyers(world, rng)
        _BUYERS[world] = buyers
    return buyers


async def run(world: World, stop: asyncio.Event, *, sleep: Sleep | None = None) -> None:
    """The background task the app starts: invented buyers order until ``stop`` is set.
    ``sleep`` (tests) replaces the world's buyers' sleep from now on."""
    buyers = buyers_for(world)
    if sleep is not None:
        buyers.sleep = sleep
    await buyers.run(stop)
