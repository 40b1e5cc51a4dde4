"""``outbox list|run|retry|resolve`` and an order action while Kaufland is down, in process
against a sandbox over loopback HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import KauflandClient
from tests.cli.conftest import SHOP_KEY, SHOP_SECRET
from tests.cli.runner import run_cli
from tests.cli.test_orders_actions import cli_json, control, shop  # noqa: F401 - fixture


def test_an_action_while_kaufland_is_down_stays_queued_and_goes_out_later(
    sandbox: RunningSandbox,
    shop: tuple[dict[str, str], list[dict[str, Any]]],  # noqa: F811 - the fixture
) -> None:
    env, orders = shop
    order = orders[0]
    control(sandbox, "PUT", "/faults", {"error_rate": 1.0})
    try:
        down = run_cli("orders", "cancel", order["id_order"], "--reason", "no stock", env=env)
    finally:
        control(sandbox, "PUT", "/faults", {"error_rate": 0.0})
    assert down.returncode == 0, down.stderr
    assert "Kaufland could not be reached; it stays queued and is retried" in down.stdout

    pending = cli_json("outbox", "list", "--state", "pending", env=env)
    assert len(pending) == len(order["lines"])
    assert all(m["attempts"] == 1 and m["last_error"] for m in pending)

    # The backoff has not passed yet: make them due now, then send.
    retried = run_cli("outbox", "retry", *(str(m["id"]) for m in pending), env=env)
    assert retried.returncode == 0, retried.stderr
    sent = cli_json("outbox", "run", "--account", "shop", env=env)
    assert sent["sent"] == len(order["lines"]) and sent["failed"] == 0
    states = {m["state"] for m in cli_json("outbox", "list", "--account", "shop", env=env)}
    assert states == {"done"}
    by_status = control(sandbox, "GET", "/state")["sellers"]
    assert sum(s["order_units_by_status"].get("cancelled", 0) for s in by_status.values()) >= len(
        order["lines"]
    )


async def cancel_on_kaufland(sandbox: RunningSandbox, id_order_unit: int) -> None:
    async with KauflandClient(SHOP_KEY, SHOP_SECRET, base_url=sandbox.base_url) as client:
        await client.order_units.cancel(id_order_unit, "BuyerCancelled")


def test_a_refused_message_is_listed_retried_and_resolved_by_hand(
    sandbox: RunningSandbox,
    shop: tuple[dict[str, str], list[dict[str, Any]]],  # noqa: F811 - the fixture
) -> None:
    env, orders = shop
    order = orders[1]
    unit = order["lines"][0]["id_order_unit"]
    (queued,) = cli_json(
        "orders", "ship", order["id_order"], "--carrier", "DHL", "--tracking", "9",
        "--unit", str(unit), "--queue-only", env=env,
    )  # fmt: skip
    assert queued["state"] == "pending"
    asyncio.run(cancel_on_kaufland(sandbox, unit))  # the buyer cancelled meanwhile

    run = cli_json("outbox", "run", "--account", "shop", env=env)
    assert run["failed"] == 1 and run["sent"] == 0
    (failed,) = cli_json("outbox", "list", "--state", "failed", env=env)
    assert failed["id"] == queued["id"] and "cannot send" in failed["last_error"]
    listed = run_cli("outbox", "list", "--account", "shop", env=env)
    assert listed.returncode == 0 and "failed" in listed.stdout and "send" in listed.stdout

    resolved = run_cli(
        "outbox", "resolve", str(failed["id"]), "--note", "buyer cancelled; not shipped", env=env
    )
    assert resolved.returncode == 0 and "done (by hand" in resolved.stdout
    again = run_cli("outbox", "resolve", str(failed["id"]), "--note", "x", env=env)
    assert again.returncode == 1 and "only failed or unknown" in again.stderr
    done = run_cli("outbox", "retry", str(failed["id"]), env=env)
    assert done.returncode == 1 and "is done" in done.stderr
    assert run_cli("outbox", "list", "--state", "lost", env=env).returncode == 2
