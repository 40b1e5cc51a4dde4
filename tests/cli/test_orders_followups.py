"""Follow-ups of the new-user walkthrough of ``orders``, ``outbox`` and ``returns``, in process
against a sandbox over loopback HTTP: order commands push the stock their refresh changed, a
cancel of a unit already sent says so, refund limits in major units, carrier and tracking
numbers shown, a readable ``outbox list``, ``(queued before)`` for a repeated return decision,
plain help texts and the order's payment, shipping method and buyer e-mail in ``orders show``."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import KauflandClient
from tests.cli.conftest import SHOP_KEY, SHOP_SECRET
from tests.cli.runner import Ran, run_cli

NARROW = {"COLUMNS": "80"}


def control(sandbox: RunningSandbox, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{sandbox.root_url}/_sandbox{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()["data"]


def ok(*args: str, env: dict[str, str]) -> Ran:
    result = run_cli(*args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def as_json(*args: str, env: dict[str, str]) -> Any:
    return json.loads(ok(*args, "--json", env=env).stdout)


@pytest.fixture(scope="module")
def shop(
    sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """A data folder with the account ``shop`` (storefronts de and at) and six fresh orders on
    ``de``, imported and released. Each test works on orders of its own."""
    env = {"KAUFLAND_SYNC_DATA_DIR": str(tmp_path_factory.mktemp("data"))}
    ok(
        "accounts", "add", "shop", "--client-key", SHOP_KEY, "--base-url", sandbox.base_url,
        "--storefront", "de", "--storefront", "at",
        env=env | {"KAUFLAND_SYNC_SECRET_KEY": SHOP_SECRET},
    )  # fmt: skip
    placed = control(sandbox, "POST", "/orders", {"count": 6, "storefront": "de"})
    ok("import", "orders", "--account", "shop", env=env)
    orders = [o for o in as_json("orders", "list", env=env) if o["id_order"] in placed["ids_order"]]
    assert len(orders) == 6
    assert all(line["status"] == "need_to_be_sent" for o in orders for line in o["lines"])
    return env, orders


def test_an_order_command_pushes_the_stock_its_refresh_changed(
    shop: tuple[dict[str, str], list[dict[str, Any]]],
) -> None:
    env, orders = shop
    order = orders[0]
    assert {line["stock_state"] for line in order["lines"]} == {"reserved"}

    queued = run_cli(
        "orders", "cancel", order["id_order"], "--reason", "no stock", "--queue-only", env=env
    )
    assert queued.returncode == 0 and "stock pushed" not in queued.stdout + queued.stderr

    cancelled = ok("orders", "cancel", order["id_order"], "--reason", "no stock", env=env)
    # The refresh released the reserved pieces; their stock went out to every storefront.
    pushed = re.findall(r"stock pushed to (\w+): \d+ updated", cancelled.stdout)
    assert sorted(pushed) == ["at", "de"], cancelled.stdout
    shown = as_json("orders", "show", order["id_order"], env=env)
    assert {line["stock_state"] for line in shown["lines"]} == {"released"}

    # With --json, stdout stays the list of messages; the push is reported on stderr.
    other = orders[5]
    cancelled_json = run_cli(
        "orders", "cancel", other["id_order"], "--reason", "no stock", "--json", env=env
    )
    assert cancelled_json.returncode == 0, cancelled_json.stderr
    assert {m["state"] for m in json.loads(cancelled_json.stdout)} == {"done"}
    assert "stock pushed to de" in cancelled_json.stderr
    assert "stock pushed to at" in cancelled_json.stderr


def test_outbox_run_refreshes_the_orders_and_pushes_stock(
    shop: tuple[dict[str, str], list[dict[str, Any]]],
) -> None:
    env, orders = shop
    order = orders[1]
    ok(
        "orders", "cancel", order["id_order"], "--reason", "no stock", "--queue-only", env=env
    )  # fmt: skip
    ran = as_json("outbox", "run", "--account", "shop", env=env)
    assert ran["sent"] == len(order["lines"]) and ran["errors"] == {}
    assert ran["orders"] is not None and ran["orders"]["released"] == len(order["lines"])
    assert sorted(p["storefront"] for p in ran["stock"]) == ["at", "de"]
    shown = as_json("orders", "show", order["id_order"], env=env)
    assert {line["status"] for line in shown["lines"]} == {"cancelled"}


def test_cancel_of_a_shipped_unit_says_it_is_sent_and_tracking_is_shown(
    shop: tuple[dict[str, str], list[dict[str, Any]]],
) -> None:
    env, orders = shop
    order = orders[2]
    unit = order["lines"][0]["id_order_unit"]
    ok(
        "orders", "ship", order["id_order"], "--carrier", "dhl", "--tracking", "T-7",
        "--tracking", "T-8", "--unit", str(unit), "--queue-only", env=env,
    )  # fmt: skip
    # Sent by the outbox but not imported again: the local copy still says need_to_be_sent.
    run_cli("outbox", "run", "--account", "shop", env=env)
    refused = run_cli(
        "orders", "cancel", order["id_order"], "--reason", "no stock", "--unit", str(unit),
        env=env | NARROW,
    )  # fmt: skip
    assert refused.returncode == 1
    assert f"{unit} of order {order['id_order']} is sent and cannot be cancelled" in (
        refused.stderr
    )
    assert "(refund it or handle a return instead)" in refused.stderr
    assert "being sent" not in refused.stderr

    shown = as_json("orders", "show", order["id_order"], env=env)
    (send,) = [m for m in shown["outbox"] if m["action"] == "send"]
    assert send["payload"] == {"carrier_code": "DHL", "tracking_numbers": "T-7,T-8"}
    line = next(li for li in shown["lines"] if li["id_order_unit"] == unit)
    assert line["shipments"] == [
        {"carrier": "DHL", "tracking_numbers": ["T-7", "T-8"], "outbox_id": send["id"],
         "state": "done"}
    ]  # fmt: skip
    text = ok("orders", "show", order["id_order"], env=env | NARROW).stdout
    assert f"shipped {unit}: DHL T-7, T-8 (done, outbox #{send['id']})" in text

    listed = as_json("outbox", "list", "--account", "shop", env=env)
    mine = next(m for m in listed if m["id"] == send["id"])
    assert mine["payload"] == send["payload"]


def test_refund_over_the_limit_is_shown_in_major_units(
    shop: tuple[dict[str, str], list[dict[str, Any]]],
) -> None:
    env, orders = shop
    order = orders[3]
    line = order["lines"][0]
    unit = str(line["id_order_unit"])
    ok("orders", "ship", order["id_order"], "--carrier", "DHL", "--tracking", "R-1", env=env)
    paid = line["price"] + (line["shipping_rate"] or 0)
    too_much = run_cli(
        "orders", "refund", order["id_order"], "--unit", unit, "--amount",
        f"{(paid + 1) / 100:.2f}", "--reason", "late", env=env | NARROW,
    )  # fmt: skip
    assert too_much.returncode == 1
    message = " ".join(too_much.stderr.split())
    assert f"amount: {(paid + 1) / 100:.2f} is more than what is left to refund" in message
    assert f": {paid / 100:.2f} EUR (price + shipping minus earlier refunds)" in message


def test_an_invoice_shows_its_file_name_and_size_never_its_bytes(
    shop: tuple[dict[str, str], list[dict[str, Any]]], tmp_path: Any
) -> None:
    env, orders = shop
    order = orders[3]
    pdf = tmp_path / "R-2026-7.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%secret-content\n%%EOF\n")
    (uploaded,) = as_json("orders", "invoice", order["id_order"], str(pdf), env=env)
    assert uploaded["payload"] == {
        "original_name": "R-2026-7.pdf",
        "mime_type": "application/pdf",
        "attachment_bytes": len(pdf.read_bytes()),
    }
    listed = ok("outbox", "list", "--json", env=env).stdout
    assert "secret-content" not in listed and "attachment_bytes" in listed
    text = ok("orders", "show", order["id_order"], env=env | {"COLUMNS": "160"}).stdout
    assert f"R-2026-7.pdf ({len(pdf.read_bytes())} bytes)" in text


def test_orders_show_prints_payment_shipping_method_and_buyer_email(
    shop: tuple[dict[str, str], list[dict[str, Any]]],
) -> None:
    env, orders = shop
    shown = as_json("orders", "show", orders[0]["id_order"], env=env)
    assert shown["payment_method"] and shown["shipping_method"]
    assert "buyer_email" in shown
    text = " ".join(ok("orders", "show", orders[0]["id_order"], env=env).stdout.split())
    assert f"payment: {shown['payment_method']}" in text
    assert f"shipping method: {shown['shipping_method']}" in text
    assert f"buyer e-mail: {shown['buyer_email'] or '(not known)'}" in text


def test_outbox_list_fits_80_columns(
    sandbox: RunningSandbox, shop: tuple[dict[str, str], list[dict[str, Any]]]
) -> None:
    env, orders = shop
    order = orders[4]
    control(sandbox, "PUT", "/faults", {"error_rate": 1.0})
    try:
        down = run_cli("orders", "ship", order["id_order"], "--carrier", "Other", env=env | NARROW)
    finally:
        control(sandbox, "PUT", "/faults", {"error_rate": 0.0})
    assert down.returncode == 0 and "stays queued" in down.stdout, down.stderr
    full = as_json("outbox", "list", "--account", "shop", env=env)
    errors = [m["last_error"] for m in full if m["last_error"]]
    assert errors and max(len(e) for e in errors) > 60
    assert all(m["last_error"] is None for m in full if m["state"] == "done")
    table = ok("outbox", "list", "--account", "shop", env=env | NARROW).stdout
    assert max(len(line) for line in table.splitlines()) <= 80
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d", table)  # no fractions of seconds
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", table)
    assert "…" in table


async def delivered_piece(sandbox: RunningSandbox) -> int:
    """A playground order of one piece on ``de``, sent; returns its id_order_unit."""
    async with KauflandClient(
        SHOP_KEY, SHOP_SECRET, base_url=sandbox.base_url, storefront="de"
    ) as client:
        unit = next(
            u
            for u in (await client.units.list(limit=50)).items
            if (u.amount or 0) >= 1 and u.status == "AVAILABLE"
        )
        placed = await client.playground.create_orders([(unit.id_unit, 1)])
        order = await client.orders.get(placed[0].id_order)
        (id_ou,) = [u.id_order_unit for u in order.order_units or []]
        await client.order_units.send(id_ou, carrier_code="DHL", tracking_numbers="0034001")
    return id_ou


def test_a_return_decision_given_twice_says_it_was_queued_before(
    sandbox: RunningSandbox, shop: tuple[dict[str, str], list[dict[str, Any]]]
) -> None:
    env, _ = shop
    id_ou = asyncio.run(delivered_piece(sandbox))
    mine = {"client_key": SHOP_KEY}
    control(sandbox, "POST", "/delivered", {"id_order_unit": id_ou} | mine)
    ok("import", "orders", "--account", "shop", env=env)
    control(sandbox, "POST", "/returns", {"id_order_unit": id_ou, "reason": "defect"} | mine)
    ok("import", "returns", "--account", "shop", env=env)
    (row,) = [r for r in as_json("returns", "list", env=env) if r["id_order_unit"] == id_ou]
    unit = str(row["id_return_unit"])

    first = ok("returns", "accept", unit, env=env)
    assert "queued before" not in first.stdout and "sent to Kaufland" in first.stdout
    second = ok("returns", "accept", unit, env=env)
    assert f"accept of return unit {unit} (queued before): sent to Kaufland" in second.stdout
    assert as_json("returns", "accept", unit, env=env)["queued_now"] is False


@pytest.mark.parametrize("group", ["orders", "outbox", "returns"])
def test_help_texts_are_plain_and_unbroken(group: str) -> None:
    helped = ok(group, "--help", env=NARROW).stdout
    assert "``" not in helped
    commands = re.findall(r"│ (\w+) {2,}", helped.split("Commands")[-1])
    assert commands
    for command in commands:
        text = ok(group, command, "--help", env=NARROW).stdout
        assert "``" not in text, f"{group} {command}"
    # On a wide terminal each command's summary takes one line: none is broken mid-sentence.
    wide = ok(group, "--help", env={"COLUMNS": "200"}).stdout
    rows = [line for line in wide.split("Commands")[-1].splitlines() if line.startswith("│")]
    continued = [r for r in rows if re.match(r"│ {10}\S", r)]
    assert not continued, continued
