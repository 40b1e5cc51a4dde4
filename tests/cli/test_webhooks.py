"""``kaufland-sync webhooks subscribe|list|unsubscribe`` in process against the sandbox, with
the web app serving the receivers on a loopback port (the sandbox checks them over HTTP)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kaufland_sync.cli.webhooks import app as webhooks_app
from kaufland_sync.config import Settings
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import RateLimiter
from kaufland_sync.sellerapi.models import EventName
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.db import create_db_engine, session_factory
from kaufland_sync.web.app import create_app
from tests.cli.conftest import SHOP_KEY
from tests.cli.runner import Ran
from tests.web.support import LiveApp, RecordingQueue


def webhooks(*args: str, env: dict[str, str]) -> Ran:
    """``kaufland-sync webhooks ARGS`` in process, with only ``env``'s KAUFLAND_SYNC_* set
    (as ``tests.cli.runner.run_cli``)."""
    outside = {k: None for k in os.environ if k.startswith("KAUFLAND_SYNC_")}
    RateLimiter.clear_registry()
    result = CliRunner().invoke(
        webhooks_app, list(args), env={**outside, **env}, catch_exceptions=False
    )
    return Ran(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def live(env: dict[str, str]) -> Iterator[LiveApp]:
    """The web app on the account's data folder (its store and master key)."""
    settings = Settings(data_dir=Path(env["KAUFLAND_SYNC_DATA_DIR"]), public_url=None)
    engine = create_db_engine(settings.resolved_database_url)
    factory = session_factory(engine)
    app = create_app(settings, factory=factory, queue=RecordingQueue(factory, utc_now))
    with LiveApp(app) as running:
        yield running
    engine.dispose()


def listed(env: dict[str, str]) -> dict[str, Any]:
    result = webhooks("list", "--account", "shop", "--json", env=env)
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_subscribe_list_and_unsubscribe(
    sandbox: RunningSandbox, env: dict[str, str], live: LiveApp
) -> None:
    callback = f"{live.url}/webhooks/kaufland/shop"
    assert listed(env) == {"account": "shop", "push_callback_url": None, "subscriptions": []}

    made = webhooks(
        "subscribe", "--account", "shop", "--public-url", live.url + "/", "--email",
        "ops@example.com", "--storefront", "DE", "--json", env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    report = json.loads(made.stdout)
    assert (report["callback_url"], report["created"], report["kept"]) == (
        callback,
        len(EventName),
        0,
    )
    shown = listed(env)
    assert shown["push_callback_url"] == callback
    assert {(s["storefront"], s["callback_url"], s["ours"]) for s in shown["subscriptions"]} == {
        ("de", callback, True)
    }
    assert len(shown["subscriptions"]) == len(EventName)
    table = webhooks("list", "--account", "shop", env=env)
    assert f"push notifications for shop: {callback}" in table.stdout

    # Again, without --email (the subscriptions' own is kept): nothing to do.
    again = webhooks("subscribe", "--account", "shop", "--public-url", live.url, env=env)
    assert again.returncode == 0, again.stderr
    assert f"0 created, 0 updated, {len(EventName)} kept, 0 removed" in again.stdout

    gone = webhooks("unsubscribe", "--account", "shop", "--json", env=env)
    assert gone.returncode == 0, gone.stderr
    assert len(json.loads(gone.stdout)["deleted"]) == len(EventName)
    assert listed(env) == {"account": "shop", "push_callback_url": None, "subscriptions": []}
    assert sandbox.world.sellers[SHOP_KEY].table("subscriptions") == {}


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


def test_an_unreachable_receiver_says_what_to_start(env: dict[str, str]) -> None:
    public = f"http://127.0.0.1:{_closed_port()}"
    result = webhooks(
        "subscribe", "--account", "shop", "--public-url", public, "--email", "o@example.com",
        env=env,
    )  # fmt: skip
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert f"Kaufland could not verify {public}/webhooks/kaufland/shop" in message
    assert "`kaufland-sync run`" in message
    assert listed(env)["push_callback_url"] is None


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        ((), "give --public-url"),
        (("--public-url", "sync.example.com"), "absolute http(s) URL"),
        (("--public-url", "http://127.0.0.1:9"), "give --email"),
    ],
)
def test_subscribe_refuses_what_cannot_work(
    env: dict[str, str], args: tuple[str, ...], complaint: str
) -> None:
    result = webhooks("subscribe", "--account", "shop", *args, env=env)
    assert result.returncode == 1
    assert complaint in " ".join(result.stderr.split())


def test_an_unknown_account_is_one_error_line(env: dict[str, str]) -> None:
    result = webhooks("list", "--account", "nobody", env=env)
    assert result.returncode == 1
    assert "no account named 'nobody'" in result.stderr


def test_a_storefront_the_account_does_not_sell_on_is_refused(env: dict[str, str]) -> None:
    result = webhooks("unsubscribe", "--account", "shop", "--storefront", "cz", env=env)
    assert result.returncode == 1
    assert "does not sell on storefront 'cz'" in result.stderr
