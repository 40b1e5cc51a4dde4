"""``orders show|ship|cancel|invoice|refund`` in process against a sandbox over loopback
HTTP: each action is queued, sent at once and reported; refusals exit 1 and queue nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from kaufland_sync.sandbox.server import RunningSandbox
from tests.cli.conftest import SHOP_KEY, SHOP_SECRET
from tests.cli.runner import run_cli


def control(sandbox: RunningSandbox, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{sandbox.root_url}/_sandbox{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()["data"]


def cli_json(*args: str, env: dict[str, str]) -> Any:
    result = run_cli(*args, "--json", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def shop(
    sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """One data folder for the module with the account ``shop`` and five fresh orders on ``de``,
    imported (their lines need to be sent). Each test works on orders of its own."""
    env = {"KAUFLAND_SYNC_DATA_DIR": str(tmp_path_factory.mktemp("data"))}
    added = run_cli(
        "accounts", "add", "shop", "--client-key", SHOP_KEY, "--base-url", sandbox.base_url,
        "--storefront", "de", env=env | {"KAUFLAND_SYNC_SECRET_KEY": SHOP_SECRET},
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    placed = control(sandbox, "POST", "/orders", {"count": 5, "storefront": "de"})
    assert run_cli("import", "orders", "--account", "shop", env=env).returncode == 0
    listed = cli_json("orders", "list", env=env)
    mine = [o for o in listed if o["id_order"] in placed["ids_order"]]
    assert len(mine) == 5
    assert all(line["status"] == "need_to_be_sent" for o in mine for line in o["lines"])
    assert all("local_status" in o and "local_status" in o["lines"][0] for o in mine)
    return env, mine


def test_ship_cancel_invoice_and_refund_are_sent_and_shown(
    sandbox: RunningSandbox, shop: tuple[dict[str, str], list[dict[str, Any]]], tmp_path: Path
) -> None:
    env, orders = shop
    first, second = orders[0], orders[1]
    unit = first["lines"][0]["id_order_unit"]

    shipped = cli_json(
        "orders", "ship", first["id_order"], "--carrier", "dhl", "--tracking", "T-1",
        "--tracking", "T-2", "--unit", str(unit), env=env,
    )  # fmt: skip
    assert [(m["action"], m["target"], m["state"]) for m in shipped] == [
        ("send", str(unit), "done")
    ]

    refused = run_cli(
        "orders", "ship", first["id_order"], "--carrier", "Hermes2", "--tracking", "1", env=env
    )
    assert refused.returncode == 1
    assert "nothing queued" in refused.stderr and "closest: Hermes" in refused.stderr

    cancelled = cli_json(
        "orders", "cancel", second["id_order"], "--reason", "out of stock", env=env
    )
    assert {m["state"] for m in cancelled} == {"done"}
    assert len(cancelled) == len(second["lines"])

    pdf = tmp_path / "R-2026-1.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n")
    (uploaded,) = cli_json("orders", "invoice", first["id_order"], str(pdf), env=env)
    assert uploaded["state"] == "done" and uploaded["result"]["id_invoice"]

    (refund,) = cli_json(
        "orders", "refund", first["id_order"], "--unit", str(unit), "--amount", "1.50",
        "--reason", "late", env=env,
    )  # fmt: skip
    assert refund["state"] == "done"

    shown = cli_json("orders", "show", first["id_order"], env=env)
    line = next(li for li in shown["lines"] if li["id_order_unit"] == unit)
    assert line["status"] == "sent"  # refreshed from Kaufland after sending
    assert [m["action"] for m in shown["outbox"]] == ["send", "invoice", "refund"]
    assert shown["refunds"] == [
        {
            "id_order_unit": unit,
            "amount": 150,
            "currency": "EUR",
            "reason": "delivery_delay",
            "outbox_id": refund["id"],
            "state": "done",
            "created_at": shown["refunds"][0]["created_at"],
        }
    ]
    table = run_cli("orders", "show", first["id_order"], env=env)
    assert table.returncode == 0 and "1.50 EUR" in table.stdout and "invoice" in table.stdout

    unit_on_kaufland = control(sandbox, "GET", "/state")["sellers"][SHOP_KEY]
    assert unit_on_kaufland["order_units_by_status"]["sent"] >= 1
    assert unit_on_kaufland["order_units_by_status"]["cancelled"] >= len(second["lines"])


def test_refusals_and_bad_input_exit_1_without_queueing(
    shop: tuple[dict[str, str], list[dict[str, Any]]], tmp_path: Path
) -> None:
    env, orders = shop
    order = orders[2]
    bad_reason = run_cli("orders", "cancel", order["id_order"], "--reason", "moon", env=env)
    assert bad_reason.returncode == 1 and "unknown reason 'moon'" in bad_reason.stderr
    not_pdf = tmp_path / "x.pdf"
    not_pdf.write_bytes(b"hello")
    wrong = run_cli("orders", "invoice", order["id_order"], str(not_pdf), env=env)
    assert wrong.returncode == 1 and "is not a PDF" in wrong.stderr
    unit = str(order["lines"][0]["id_order_unit"])
    too_precise = run_cli(
        "orders", "refund", order["id_order"], "--unit", unit, "--amount", "1.005",
        "--reason", "late", env=env,
    )  # fmt: skip
    assert too_precise.returncode == 2 and "more than 2 decimals" in too_precise.stderr
    unsent = run_cli(
        "orders", "refund", order["id_order"], "--unit", unit, "--amount", "1",
        "--reason", "late", env=env,
    )  # fmt: skip
    assert unsent.returncode == 1 and "refunds need a sent or returned unit" in unsent.stderr
    missing = run_cli("orders", "show", "NOPE123", env=env)
    assert missing.returncode == 1 and "not in the local store" in missing.stderr


def test_an_order_held_by_two_accounts_needs_account(
    sandbox: RunningSandbox, shop: tuple[dict[str, str], list[dict[str, Any]]]
) -> None:
    env, orders = shop
    secret = env | {"KAUFLAND_SYNC_SECRET_KEY": SHOP_SECRET}
    # The same seller twice on one Kaufland is refused: its orders would be imported twice.
    twin = run_cli(
        "accounts", "add", "shop2", "--client-key", SHOP_KEY, "--base-url", sandbox.base_url,
        "--storefront", "de", env=secret,
    )  # fmt: skip
    assert twin.returncode == 1 and "already uses this client key" in twin.stderr
    # Another Kaufland (as a playground is to production) may reuse the same ids: reached here
    # through another host name of the same sandbox.
    elsewhere = sandbox.base_url.replace("127.0.0.1", "localhost")
    added = run_cli(
        "accounts", "add", "shop2", "--client-key", SHOP_KEY, "--base-url", elsewhere,
        "--storefront", "de", env=secret,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert run_cli("import", "orders", "--account", "shop2", env=env).returncode == 0
    order = orders[3]["id_order"]
    ambiguous = run_cli("orders", "show", order, env=env)
    assert ambiguous.returncode == 1 and "several accounts (shop, shop2)" in ambiguous.stderr
    queued = cli_json(
        "orders", "cancel", order, "--reason", "NoInventory", "--account", "shop",
        "--queue-only", env=env,
    )  # fmt: skip
    assert {m["state"] for m in queued} == {"pending"}
    text = run_cli(
        "orders", "cancel", order, "--reason", "noinventory", "--account", "shop",
        "--queue-only", env=env,
    )  # fmt: skip
    assert text.returncode == 0 and "(queued before)" in text.stdout
    assert "outbox run --account shop" in text.stdout
