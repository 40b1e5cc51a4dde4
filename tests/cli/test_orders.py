"""``kaufland-sync import orders`` and ``orders list`` in process against a sandbox over
loopback HTTP (demo seed)."""

from __future__ import annotations

import json

import httpx

from kaufland_sync.sandbox.server import RunningSandbox
from tests.cli.conftest import SHOP_KEY as KEY
from tests.cli.runner import run_cli


def test_import_orders_then_list_them(sandbox: RunningSandbox, env: dict[str, str]) -> None:
    placed = httpx.post(
        f"{sandbox.root_url}/_sandbox/orders",
        json={"count": 3, "storefront": "de", "client_key": KEY},
        timeout=10,
    )
    placed.raise_for_status()

    result = run_cli("import", "orders", "--account", "shop", "--json", env=env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["orders_new"] >= 3 and summary["lines_new"] >= summary["orders_new"]

    again = run_cli("import", "orders", "--account", "shop", env=env)
    assert again.returncode == 0, again.stderr
    assert "orders: 0 new" in again.stdout

    listed = json.loads(run_cli("orders", "list", "--json", env=env).stdout)
    assert len(listed) == summary["orders_new"]
    assert sum(len(o["lines"]) for o in listed) == summary["lines_new"]
    assert all(o["account"] == "shop" and o["id_order"] for o in listed)
    assert all(line["id_order_unit"] and line["status"] for o in listed for line in o["lines"])

    table = run_cli("orders", "list", env=env)
    assert table.returncode == 0 and f"{len(listed)} orders" in table.stdout


def test_import_orders_refuses_bad_dates_and_unknown_accounts(env: dict[str, str]) -> None:
    bad = run_cli("import", "orders", "--account", "shop", "--since", "yesterday", env=env)
    assert bad.returncode == 2 and "ISO date" in bad.stderr
    reversed_range = run_cli(
        "import",
        "orders",
        "--account",
        "shop",
        "--since",
        "2026-02-01",
        "--until",
        "2026-01-01",
        env=env,
    )
    assert reversed_range.returncode == 1 and "--since is after --until" in reversed_range.stderr
    nobody = run_cli("import", "orders", "--account", "nobody", env=env)
    assert nobody.returncode == 1 and "no account named 'nobody'" in nobody.stderr
    assert run_cli("orders", "list", "--account", "nobody", env=env).returncode == 1


def test_sync_orders_runs_every_step_and_reports_each(
    sandbox: RunningSandbox, env: dict[str, str]
) -> None:
    placed = httpx.post(
        f"{sandbox.root_url}/_sandbox/orders",
        json={"count": 2, "storefront": "de", "client_key": KEY},
        timeout=10,
    )
    placed.raise_for_status()

    result = run_cli("sync", "orders", "--account", "shop", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["errors"] == {}
    assert report["orders"]["orders_new"] >= 2
    assert report["outbox"]["processed"] == []
    assert report["returns"] is not None and report["tickets"] is not None

    again = run_cli("sync", "orders", "--account", "shop", env=env)
    assert again.returncode == 0, again.stderr
    assert "outbox: 0 sent" in again.stdout and "orders: 0 new" in again.stdout
    unsold = run_cli("sync", "orders", "--account", "shop", "--storefront", "pl", env=env)
    assert unsold.returncode == 1 and "does not sell on storefront 'pl'" in unsold.stderr
