"""Invented buyers (sandbox/buyers.py): one random order now, and the background loop the app
runs with ``buyers_every`` > 0, driven by a fake sleep (nothing here waits for real time)."""

from __future__ import annotations

import asyncio
import logging
import random
import statistics
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from typer.testing import CliRunner

from kaufland_sync.cli import app as cli_app
from kaufland_sync.sandbox import buyers as b
from kaufland_sync.sandbox import marketplace as m
from kaufland_sync.sandbox.app import create_app
from kaufland_sync.sandbox.seed import seed_world
from kaufland_sync.sandbox.world import Record, SandboxConfig, World
from tests.sandbox.conftest import (
    CLIENT_KEY,
    OTHER_KEY,
    OTHER_SECRET,
    SECRET,
    FakeClock,
    SignedClient,
    make_config,
)

OPEN_DELAY = 900.0


@pytest.fixture
def config() -> SandboxConfig:
    return make_config(open_delay=OPEN_DELAY)


def _signed(http: httpx.AsyncClient, clock: FakeClock, client_key: str) -> SignedClient:
    secret = SECRET if client_key == CLIENT_KEY else OTHER_SECRET
    return SignedClient(http, clock, client_key, secret)


async def _order_unit_ids(client: SignedClient, id_order: str) -> list[int]:
    """Ids of the seller's order units of ``id_order``, as ``GET /order-units`` lists them."""
    r = await client.get("/order-units", params={"limit": 100})
    assert r.status_code == 200
    return [ou["id_order_unit"] for ou in r.json()["data"] if ou["id_order"] == id_order]


def _order_count(world: World) -> int:
    return sum(len(seller.table("orders")) for seller in world.sellers.values())


def _sell_out(world: World, keep: tuple[str, str] | None = None) -> None:
    """Make every unit unbuyable in one of the two ways (no stock / not AVAILABLE), except the
    units of ``keep`` = (client_key, storefront)."""
    for key, seller in world.sellers.items():
        for index, unit in enumerate(seller.table("units").values()):
            if keep == (key, unit["storefront"]):
                continue
            if index % 2:
                unit["amount"] = 0
            else:
                unit["status"] = "LOCKED"


async def _run_app(app: Starlette, until: asyncio.Event | None = None) -> None:
    """Start the app's lifespan, wait for ``until`` (or let the tasks run a few steps), then
    shut it down. The timeout only guards against a hang; a passing run never reaches it."""
    async with app.router.lifespan_context(app):
        if until is not None:
            await asyncio.wait_for(until.wait(), timeout=10.0)
        else:
            for _ in range(20):
                await asyncio.sleep(0)


class FakeSleep:
    """Returns at once for the first ``ticks`` calls; the next call sets ``exhausted`` and never
    returns (only the app's shutdown ends it)."""

    def __init__(self, ticks: int) -> None:
        self.ticks = ticks
        self.delays: list[float] = []
        self.exhausted = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if len(self.delays) > self.ticks:
            self.exhausted.set()
            await asyncio.Event().wait()


# place_random_order ---------------------------------------------------------------------------


async def test_random_order_is_visible_to_its_seller(
    world: World, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    placed = b.place_random_order(world, random.Random(3))
    assert placed is not None
    assert placed.storefront in world.seller(placed.client_key).storefronts
    client = _signed(http, clock, placed.client_key)
    ids = await _order_unit_ids(client, placed.id_order)
    assert ids
    r = await client.get(f"/order-units/{ids[0]}")
    unit = r.json()["data"]
    assert unit["storefront"] == placed.storefront
    # Just bought: open, buyer data hidden for open_delay, like a control-API order.
    assert unit["status"] == "open"
    assert unit["buyer"]["email"] is None and unit["shipping_address"] is None
    clock.advance(OPEN_DELAY)
    r = await client.get(f"/order-units/{ids[0]}")
    assert r.json()["data"]["status"] == "need_to_be_sent"
    assert r.json()["data"]["shipping_address"] is not None


async def test_random_order_emits_the_same_events_as_the_control_api(
    world: World, http: httpx.AsyncClient
) -> None:
    def names(events: list[Record]) -> set[str]:
        # Whether a unit sold out (item_unit_out_of_stock) depends on what was bought.
        return {e["event_name"] for e in events} - {"item_unit_out_of_stock"}

    created = await http.post("/_sandbox/orders", json={"client_key": CLIENT_KEY, "count": 1})
    assert created.status_code == 201
    by_control = names(world.events)
    world.events.clear()

    placed = b.place_random_order(world, random.Random(5))
    assert placed is not None
    assert names(world.events) == by_control >= {"order_new", "order_unit_new"}
    new = [e for e in world.events if e["event_name"] == "order_new"]
    assert [e["resource"] for e in new] == [f"/v2/orders/{placed.id_order}"]
    assert {e["client_key"] for e in world.events} == {placed.client_key}
    assert world.dirty


def test_random_order_takes_the_stock(world: World) -> None:
    before = {
        key: sum(int(u["amount"] or 0) for u in seller.table("units").values())
        for key, seller in world.sellers.items()
    }
    placed = b.place_random_order(world, random.Random(11))
    assert placed is not None
    seller = world.seller(placed.client_key)
    order = seller.table("orders")[placed.id_order]
    pieces = len(order["_order_unit_ids"])
    after = sum(int(u["amount"] or 0) for u in seller.table("units").values())
    assert after == before[placed.client_key] - pieces


def test_nothing_is_ordered_when_no_unit_is_buyable(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    _sell_out(world)
    world.events.clear()
    with caplog.at_level(logging.DEBUG, logger="kaufland_sync.sandbox.buyers"):
        assert b.place_random_order(world, random.Random(1)) is None
    assert _order_count(world) == 0
    assert world.events == []
    assert "nothing buyable" in caplog.text
    assert all(r.levelno == logging.DEBUG for r in caplog.records)


def test_only_buyable_units_are_ordered(world: World) -> None:
    _sell_out(world, keep=(OTHER_KEY, "cz"))
    rng = random.Random(2)
    for _ in range(5):
        placed = b.place_random_order(world, rng)
        assert placed is not None
        assert (placed.client_key, placed.storefront) == (OTHER_KEY, "cz")
    assert len(world.seller(CLIENT_KEY).table("orders")) == 0


def test_orders_spread_over_sellers_and_storefronts(world: World) -> None:
    rng = random.Random(4)
    seen = {(p.client_key, p.storefront) for p in _place(world, rng, 40)}
    assert {key for key, _ in seen} == {CLIENT_KEY, OTHER_KEY}
    assert len({front for _, front in seen}) > 2


@pytest.mark.parametrize("config", [make_config(buyers_storefronts=("cz",))])
def test_buyers_storefronts_limits_where_buyers_shop(world: World) -> None:
    assert {p.storefront for p in _place(world, random.Random(6), 10)} == {"cz"}


def test_same_seed_same_pauses_and_orders(clock: FakeClock) -> None:
    def run() -> tuple[list[float], list[b.PlacedOrder]]:
        world = World(make_config(buyers_every=30.0), clock=clock)
        seed_world(world, "demo")
        buyers = b.buyers_for(world)
        pauses = [buyers.pause() for _ in range(3)]
        return pauses, [p for p in (buyers.order_now() for _ in range(5)) if p is not None]

    first = run()
    assert len(first[1]) == 5
    assert run() == first


def _place(world: World, rng: random.Random, count: int) -> list[b.PlacedOrder]:
    placed = [b.place_random_order(world, rng) for _ in range(count)]
    assert all(p is not None for p in placed)
    return [p for p in placed if p is not None]


# the background loop ------------------------------------------------------------------------


def test_buyers_are_off_by_default() -> None:
    assert make_config().buyers_every == 0.0
    assert make_config().buyers_storefronts is None


async def test_app_without_buyers_places_nothing(world: World, config: SandboxConfig) -> None:
    sleep = FakeSleep(ticks=100)
    b.buyers_for(world).sleep = sleep
    await _run_app(create_app(config, world=world))
    assert sleep.delays == []
    assert _order_count(world) == 0


@pytest.mark.parametrize("config", [make_config(buyers_every=30.0, open_delay=OPEN_DELAY)])
async def test_app_buyers_place_one_order_per_tick_and_stop_on_shutdown(
    world: World, app: Starlette, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    sleep = FakeSleep(ticks=3)
    buyers = b.buyers_for(world)
    buyers.sleep = sleep
    await _run_app(app, until=sleep.exhausted)

    assert buyers.stopped  # returned on the stop event, was not cancelled by the timeout
    assert len(sleep.delays) == 4 and all(d > 0 for d in sleep.delays)
    assert len(buyers.placed) == 3
    assert _order_count(world) == 3
    for placed in buyers.placed:
        client = _signed(http, clock, placed.client_key)
        assert await _order_unit_ids(client, placed.id_order)
    # Shut down: nothing more is ordered.
    for _ in range(20):
        await asyncio.sleep(0)
    assert _order_count(world) == 3


@pytest.mark.parametrize("config", [make_config(buyers_every=30.0)])
async def test_loop_keeps_going_when_nothing_is_buyable(world: World, app: Starlette) -> None:
    _sell_out(world)
    sleep = FakeSleep(ticks=2)
    buyers = b.buyers_for(world)
    buyers.sleep = sleep
    await _run_app(app, until=sleep.exhausted)
    assert buyers.stopped
    assert buyers.placed == []
    assert _order_count(world) == 0


@pytest.mark.parametrize("config", [make_config(buyers_every=30.0)])
async def test_loop_survives_a_failing_order(
    world: World, config: SandboxConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = m.random_orders

    def flaky(*args: Any, **kwargs: Any) -> list[str]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(m, "random_orders", flaky)
    sleep = FakeSleep(ticks=2)
    stop = asyncio.Event()
    task = asyncio.create_task(b.run(world, stop, sleep=sleep))
    await asyncio.wait_for(sleep.exhausted.wait(), timeout=10.0)
    stop.set()
    await asyncio.wait_for(task, timeout=10.0)
    assert len(calls) == 2
    assert len(b.buyers_for(world).placed) == 1


@pytest.mark.parametrize("config", [make_config(buyers_every=30.0)])
def test_pauses_are_exponential_with_the_configured_mean(world: World) -> None:
    buyers = b.buyers_for(world)
    pauses = [buyers.pause() for _ in range(4000)]
    assert min(pauses) > 0
    assert statistics.fmean(pauses) == pytest.approx(30.0, rel=0.08)
    # Exponential: the standard deviation equals the mean.
    assert statistics.pstdev(pauses) == pytest.approx(30.0, rel=0.12)


# command line -------------------------------------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[SandboxConfig]:
    """Configs the ``sandbox`` command would serve (``serve`` replaced, nothing listens)."""
    seen: list[SandboxConfig] = []

    def fake_serve(config: SandboxConfig, host: str, port: int, *args: Any, **kw: Any) -> None:
        seen.append(config)

    monkeypatch.setattr("kaufland_sync.sandbox.server.serve", fake_serve)
    return seen


def test_cli_buyers_options(served: list[SandboxConfig], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_app,
        [
            "sandbox",
            "--buyers-every",
            "45",
            "--buyers-storefront",
            "DE",
            "--buyers-storefront",
            "cz",
        ],
    )
    assert result.exit_code == 0, result.output
    assert served[-1].buyers_every == 45.0
    assert served[-1].buyers_storefronts == ("de", "cz")
    assert "every 45 s" in result.output

    result = CliRunner().invoke(cli_app, ["sandbox"])
    assert result.exit_code == 0, result.output
    assert served[-1].buyers_every == 0.0
    assert served[-1].buyers_storefronts is None


@pytest.mark.parametrize(
    "args", [["--buyers-every", "-1"], ["--buyers-storefront", "xx"]], ids=["negative", "unknown"]
)
def test_cli_rejects_bad_buyers_options(served: list[SandboxConfig], args: list[str]) -> None:
    result = CliRunner().invoke(cli_app, ["sandbox", *args])
    assert result.exit_code == 2
    assert served == []
