"""``kaufland-sync sync offers`` in process against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import ALL_STOREFRONTS, SandboxConfig, SellerCredentials
from tests.cli.runner import run_cli

KEY = "cli_sync_main_key_000000000000001"
SECRET = "cli_sync_main_secret_" + "e" * 43


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    config = SandboxConfig(sellers=[SellerCredentials(KEY, SECRET, ALL_STOREFRONTS)], seed="empty")
    with RunningSandbox(config) as running:
        yield running


def test_sync_offers_dry_run_then_real_run(sandbox: RunningSandbox, tmp_path: Path) -> None:
    env = {"KAUFLAND_SYNC_DATA_DIR": str(tmp_path / "data")}
    add = run_cli(
        "accounts", "add", "shop", "--client-key", KEY, "--base-url", sandbox.base_url,
        "--storefront", "de", env=env | {"KAUFLAND_SYNC_SECRET_KEY": SECRET},
    )  # fmt: skip
    assert add.returncode == 0, add.stderr
    assert (
        run_cli(
            "accounts", "set", "shop", "--storefront", "de", "--handling-time", "2", env=env
        ).returncode
        == 0
    )
    csv_file = tmp_path / "c.csv"
    csv_file.write_text(
        "sku,ean,title,price,currency,stock\n"
        "A-1,4006381333931,Pen,1.99,EUR,3\n"
        "A-2,5901234123457,Cup,4.50,EUR,0\n"
        "A-3,0012345678905,Big,2000000,EUR,1\n",
        encoding="utf-8",
    )
    assert run_cli("catalog", "import", str(csv_file), env=env).returncode == 0

    plan = run_cli("sync", "offers", "--account", "shop", "--dry-run", "--json", env=env)
    data = json.loads(plan.stdout)["storefronts"][0]
    assert data["dry_run"] and data["created"] == 2 and data["write_calls"] == 0
    assert [f["sku"] for f in data["failed"]] == ["A-3"]  # above the EUR maximum
    assert plan.returncode == 1

    real = run_cli("sync", "offers", "--account", "shop", env=env)
    assert real.returncode == 1, real.stderr
    assert "A-3" in real.stdout and "listing_price" in real.stdout
    again = run_cli("sync", "offers", "--account", "shop", "--json", env=env)
    summary = json.loads(again.stdout)["storefronts"][0]
    assert summary["unchanged"] == 2 and summary["created"] == 0
    stock = run_cli("sync", "stock", "--account", "shop", "--json", env=env)
    assert json.loads(stock.stdout)["storefronts"][0]["unchanged"] == 2
