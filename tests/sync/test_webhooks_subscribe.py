"""Subscribing an account's receiver to Kaufland's push notifications (``sync.webhooks``):
callback URLs, and ``subscribe``/``unsubscribe``/``list_subscriptions`` against the sandbox,
whose challenge requests reach the real web app over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import SandboxConfig, SellerCredentials
from kaufland_sync.sellerapi import KauflandClient
from kaufland_sync.sellerapi.models import EventName, Subscription
from kaufland_sync.store.base import utc_now
from kaufland_sync.sync.webhooks import (
    ALL_EVENTS,
    Action,
    CallbackUrlError,
    CallbackVerificationError,
    MissingEmailError,
    callback_url_for,
    is_ours,
    list_subscriptions,
    subscribe,
    unsubscribe,
    webhook_path,
)
from kaufland_sync.web.app import create_app
from tests.builders import migrated_store
from tests.web.support import LiveApp, RecordingQueue, add_push_account, settings_for

KEY = "subscribe_client_key_0000000001"
SECRET = "subscribe_secret_" + "q" * 47
EMAIL = "ops@example.com"


@dataclass
class World:
    sandbox: RunningSandbox
    live: LiveApp

    @property
    def callback(self) -> str:
        return callback_url_for(self.live.url, "shop")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A sandbox seller on de and cz, and the web app (accounts ``shop`` and ``other``)."""
    folder = tmp_path_factory.mktemp("subscribe")
    config = SandboxConfig(
        sellers=[SellerCredentials(KEY, SECRET, ("de", "cz"))], seed="empty", random_seed=3
    )
    settings = settings_for(folder / "data")
    with (
        migrated_store(f"sqlite:///{folder / 'store.db'}") as store,
        RunningSandbox(config) as sandbox,
    ):
        add_push_account(store, settings, "shop", client_key=KEY, secret=SECRET)
        add_push_account(store, settings, "other")  # another tool's receiver, as far as we care
        app = create_app(settings, factory=store, queue=RecordingQueue(store, utc_now))
        with LiveApp(app) as live:
            yield World(sandbox, live)


@pytest.fixture
async def client(world: World) -> AsyncIterator[KauflandClient]:
    async with httpx.AsyncClient() as http:
        reset = await http.post(f"{world.sandbox.root_url}/_sandbox/reset", json={"seed": "empty"})
        reset.raise_for_status()
    async with KauflandClient(KEY, SECRET, base_url=world.sandbox.base_url) as api:
        yield api


def subscriptions(world: World) -> list[dict[str, object]]:
    table = world.sandbox.world.sellers[KEY].table("subscriptions")
    return sorted(table.values(), key=lambda s: int(str(s["id_subscription"])))


# -- callback URLs -----------------------------------------------------------------------------


def test_the_callback_url_is_the_public_url_and_the_receiver_path() -> None:
    assert callback_url_for("https://sync.example.com/", "shop") == (
        "https://sync.example.com/webhooks/kaufland/shop"
    )
    assert callback_url_for(" https://example.com/kaufland ", "a.b-c_d") == (
        "https://example.com/kaufland/webhooks/kaufland/a.b-c_d"
    )
    assert webhook_path("sh op/x") == "/webhooks/kaufland/sh%20op%2Fx"


@pytest.mark.parametrize(
    ("public_url", "complaint"),
    [
        ("sync.example.com", "absolute http(s) URL"),
        ("ftp://sync.example.com", "absolute http(s) URL"),
        ("https://sync.example.com/?a=1", "query or fragment"),
        ("https://" + "x" * 230 + ".example.com", "at most 255"),
    ],
)
def test_unusable_public_urls_are_refused(public_url: str, complaint: str) -> None:
    with pytest.raises(CallbackUrlError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        callback_url_for(public_url, "shop")


def test_ours_means_the_same_receiver_at_any_address() -> None:
    mine = "https://sync.example.com/webhooks/kaufland/shop"

    def sub(url: str) -> Subscription:
        return Subscription(id_subscription=1, callback_url=url)

    assert is_ours(sub(mine), mine)
    assert is_ours(sub("http://old.example.com:8080/x/webhooks/kaufland/shop"), mine)
    assert is_ours(
        sub("https://sync.example.com/webhooks/kaufland/shop"), "/webhooks/kaufland/shop"
    )
    assert not is_ours(sub("https://sync.example.com/webhooks/kaufland/shop2"), mine)
    assert not is_ours(sub("https://other-tool.example.com/hooks/kaufland"), mine)


# -- subscribe -----------------------------------------------------------------------------------


async def test_subscribe_creates_every_event_per_storefront_and_then_keeps_them(
    world: World, client: KauflandClient
) -> None:
    first = await subscribe(
        client, storefronts=["de", "CZ"], callback_url=world.callback, fallback_email=EMAIL
    )
    assert len(first.created) == 2 * len(ALL_EVENTS)
    assert {(c.storefront, c.event_name) for c in first.created} == {
        (sf, e.value) for sf in ("de", "cz") for e in EventName
    }
    made = subscriptions(world)
    assert {(s["callback_url"], s["fallback_email"], s["is_active"]) for s in made} == {
        (world.callback, EMAIL, True)
    }

    again = await subscribe(client, storefronts=["de", "cz"], callback_url=world.callback)
    assert len(again.kept) == 2 * len(ALL_EVENTS)
    assert again.created == again.updated == again.removed == []
    assert subscriptions(world) == made


async def test_subscribe_repairs_ours_and_leaves_others_alone(
    world: World, client: KauflandClient
) -> None:
    subs = client.subscriptions
    old_address = world.callback + "?from=old-address"
    moved = await subs.create(
        callback_url=old_address, event_name="order_new", fallback_email=EMAIL, storefront="de"
    )
    off = await subs.create(
        callback_url=world.callback, event_name="return_new", fallback_email=EMAIL, storefront="de"
    )
    await subs.update(off.id_subscription, is_active=False)
    mailed = await subs.create(
        callback_url=world.callback,
        event_name="item_changed",
        fallback_email="old@example.com",
        storefront="de",
    )
    duplicate = await subs.create(
        callback_url=old_address,
        event_name="category_changed",
        fallback_email=EMAIL,
        storefront="de",
    )
    kept = await subs.create(
        callback_url=world.callback,
        event_name="category_changed",
        fallback_email=EMAIL,
        storefront="de",
    )
    foreign_url = callback_url_for(world.live.url, "other")
    foreign = await subs.create(
        callback_url=foreign_url, event_name="order_new", fallback_email="x@y.z", storefront="de"
    )

    report = await subscribe(
        client,
        storefronts=["de"],
        callback_url=world.callback,
        events=["order_new", "return_new", "item_changed", "category_changed"],
        fallback_email=EMAIL,
    )

    changes = {(c.action, c.id_subscription): c.detail for c in report.changes}
    assert changes == {
        (Action.UPDATED, moved.id_subscription): "callback_url",
        (Action.UPDATED, off.id_subscription): "is_active",
        (Action.UPDATED, mailed.id_subscription): "fallback_email",
        (Action.KEPT, kept.id_subscription): "",
        (Action.REMOVED, duplicate.id_subscription): (
            "a second subscription of ours for the same event"
        ),
    }
    after = {s["id_subscription"]: s for s in subscriptions(world)}
    assert after[foreign.id_subscription]["callback_url"] == foreign_url
    assert duplicate.id_subscription not in after
    ours = [s for i, s in after.items() if i != foreign.id_subscription]
    assert {(s["callback_url"], s["fallback_email"], s["is_active"]) for s in ours} == {
        (world.callback, EMAIL, True)
    }


async def test_an_unreachable_receiver_stops_with_a_verification_error(
    world: World, client: KauflandClient
) -> None:
    await subscribe(
        client,
        storefronts=["de"],
        callback_url=world.callback,
        events=["order_new"],
        fallback_email=EMAIL,
    )
    nobody = callback_url_for(world.live.url, "ghost")  # the app answers 404 for it
    with pytest.raises(CallbackVerificationError) as caught:
        await subscribe(
            client,
            storefronts=["de"],
            callback_url=nobody,
            events=["order_new", "order_unit_new"],
            fallback_email=EMAIL,
        )
    error = caught.value
    assert error.callback_url == nobody
    assert error.report.changes == []
    assert error.cause.status_code == 400
    assert str(error.cause.problem_type).endswith("/unverified-callback-url")
    assert len(subscriptions(world)) == 1  # the other receiver's subscription is untouched


async def test_without_an_email_the_existing_one_is_used_or_nothing_is_done(
    world: World, client: KauflandClient
) -> None:
    with pytest.raises(MissingEmailError, match="fallback e-mail"):
        await subscribe(client, storefronts=["de"], callback_url=world.callback)
    assert subscriptions(world) == []

    await subscribe(
        client,
        storefronts=["de"],
        callback_url=world.callback,
        events=["order_new"],
        fallback_email=EMAIL,
    )
    report = await subscribe(
        client, storefronts=["de"], callback_url=world.callback, events=["order_new", "return_new"]
    )
    assert [c.action for c in report.changes] == [Action.KEPT, Action.CREATED]
    assert {s["fallback_email"] for s in subscriptions(world)} == {EMAIL}


async def test_a_too_long_callback_url_is_refused_before_any_call(client: KauflandClient) -> None:
    with pytest.raises(CallbackUrlError, match="at most 255"):
        await subscribe(
            client,
            storefronts=["de"],
            callback_url="https://example.com/" + "x" * 240,
            fallback_email=EMAIL,
        )


# -- list and unsubscribe ----------------------------------------------------------------------


async def test_unsubscribe_deletes_ours_only(world: World, client: KauflandClient) -> None:
    events = ["order_new", "return_new"]
    await subscribe(
        client,
        storefronts=["de", "cz"],
        callback_url=world.callback,
        events=events,
        fallback_email=EMAIL,
    )
    foreign_url = callback_url_for(world.live.url, "other")
    foreign = await client.subscriptions.create(
        callback_url=foreign_url, event_name="order_new", fallback_email=EMAIL, storefront="cz"
    )
    assert len(await list_subscriptions(client)) == 5
    assert len(await list_subscriptions(client, storefronts=["cz"])) == 3

    only_cz = await unsubscribe(client, callback_url=world.callback, storefronts=["cz"])
    assert {(d.storefront, d.action) for d in only_cz} == {("cz", Action.DELETED)}
    assert len(only_cz) == 2

    # By receiver path alone (the stored URL may be unknown), every address of ours matches.
    rest = await unsubscribe(client, callback_url=webhook_path("shop"))
    assert sorted(d.event_name for d in rest) == sorted(events)
    assert [s.id_subscription for s in await list_subscriptions(client)] == [
        foreign.id_subscription
    ]
