"""``kaufland-sync import returns|tickets``, ``returns list|show|accept|reject|clarify`` and
``accounts set --restock-returns`` in process (Typer's runner) against a sandbox over loopback
HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import KauflandClient
from tests.cli.conftest import SHOP_KEY, SHOP_SECRET
from tests.cli.runner import run_cli


def control(sandbox: RunningSandbox, path: str, body: dict[str, Any]) -> Any:
    response = httpx.post(
        f"{sandbox.root_url}/_sandbox/{path}", json={**body, "client_key": SHOP_KEY}, timeout=10
    )
    response.raise_for_status()
    return response.json()["data"]


async def shipped_pieces(sandbox: RunningSandbox, count: int) -> list[int]:
    """A playground order of ``count`` pieces, sent and delivered."""
    async with KauflandClient(
        SHOP_KEY, SHOP_SECRET, base_url=sandbox.base_url, storefront="de"
    ) as client:
        unit = next(
            u
            for u in (await client.units.list(limit=50)).items
            if (u.amount or 0) >= count and u.status == "AVAILABLE"
        )
        placed = await client.playground.create_orders([(unit.id_unit, count)])
        order = await client.orders.get(placed[0].id_order)
        ids = sorted(u.id_order_unit for u in order.order_units or [])
        for id_ou in ids:
            await client.order_units.send(id_ou, carrier_code="DHL", tracking_numbers="0034001")
    for id_ou in ids:
        control(sandbox, "delivered", {"id_order_unit": id_ou})
    return ids


def listed(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    result = run_cli("returns", "list", "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_returns_are_imported_listed_and_decided(
    sandbox: RunningSandbox, env: dict[str, str]
) -> None:
    ids = asyncio.run(shipped_pieces(sandbox, 2))
    assert run_cli("import", "orders", "--account", "shop", env=env).returncode == 0
    for id_ou, reason in zip(ids, ["defect", "wrong_size"], strict=True):
        control(sandbox, "returns", {"id_order_unit": id_ou, "reason": reason})

    imported = run_cli("import", "returns", "--account", "shop", "--json", env=env)
    assert imported.returncode == 0, imported.stderr
    first_import = json.loads(imported.stdout)
    assert first_import["units_new"] == 2
    # Nothing restocked (the account does not restock), so nothing to push.
    assert (first_import["restocked_skus"], first_import["stock_push"]) == ([], [])
    assert first_import["stock_push_error"] is None
    rows = listed(env, "--account", "shop")
    assert sorted(r["reason"] for r in rows) == ["defect", "wrong_size"]
    assert all(r["id_order"] and r["sku"] and r["decide_by"] is None for r in rows)
    assert len(listed(env, "--open")) == 2 and listed(env, "--status", "return_arrived") == []

    first = next(r for r in rows if r["id_order_unit"] == ids[0])
    second = next(r for r in rows if r["id_order_unit"] == ids[1])
    control(sandbox, "return-arrived", {"id_return_unit": first["id_return_unit"]})
    assert run_cli("import", "returns", "--account", "shop", env=env).returncode == 0
    (arrived,) = listed(env, "--status", "return_arrived")
    assert arrived["decide_by"] and arrived["time_left_seconds"] > 2 * 86400
    assert not arrived["overdue"]
    table = run_cli("returns", "list", "--open", env=env)
    assert table.returncode == 0 and "2 return units" in table.stdout and "2d" in table.stdout

    refused = run_cli("returns", "reject", str(first["id_return_unit"]), env=env)
    assert refused.returncode == 1 and "needs a message" in refused.stderr
    unknown = run_cli("returns", "accept", "999", env=env)
    assert unknown.returncode == 1 and "not known locally" in unknown.stderr

    accepted = run_cli("returns", "accept", str(first["id_return_unit"]), env=env)
    assert accepted.returncode == 0, accepted.stderr
    assert "sent to Kaufland" in accepted.stdout
    clarified = run_cli(
        "returns",
        "clarify",
        str(second["id_return_unit"]),
        "--message",
        "Which size did you need?",
        "--json",
        env=env,
    )
    assert clarified.returncode == 0, clarified.stderr
    assert json.loads(clarified.stdout)["state"] == "done"

    assert run_cli("import", "returns", "--account", "shop", env=env).returncode == 0
    shown = run_cli("returns", "show", str(first["id_return_unit"]), "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert detail["status"] == "return_accepted" and detail["decided_at"]
    assert [(d["action"], d["state"]) for d in detail["decisions"]] == [("return_accept", "done")]
    text = run_cli("returns", "show", str(second["id_return_unit"]), env=env)
    assert "return_in_clarification" in text.stdout and "return_clarify done" in text.stdout

    tickets = run_cli("import", "tickets", "--account", "shop", "--json", env=env)
    assert tickets.returncode == 0, tickets.stderr
    assert json.loads(tickets.stdout)["new"] == 1  # the clarification's ticket


def test_restocking_returns_is_an_account_setting(env: dict[str, str]) -> None:
    shown = json.loads(run_cli("accounts", "show", "shop", "--json", env=env).stdout)
    assert shown["restock_returns"] is False
    changed = run_cli("accounts", "set", "shop", "--restock-returns", env=env)
    assert changed.returncode == 0 and "restocking returns" in changed.stderr
    shown = json.loads(run_cli("accounts", "show", "shop", "--json", env=env).stdout)
    assert shown["restock_returns"] is True
    assert "restock returns: yes" in run_cli("accounts", "show", "shop", env=env).stdout
    run_cli("accounts", "set", "shop", "--no-restock-returns", env=env)
    shown = json.loads(run_cli("accounts", "show", "shop", "--json", env=env).stdout)
    assert shown["restock_returns"] is False
