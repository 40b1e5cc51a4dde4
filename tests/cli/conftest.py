"""Shared fixtures for command-line tests that need a sandbox seller and a configured account.

A module that defines its own ``sandbox`` or ``env`` fixture overrides these.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import ALL_STOREFRONTS, SandboxConfig, SellerCredentials
from tests.cli.runner import run_cli

SHOP_KEY = "cli_shop_main_client_key_0000001"
SHOP_SECRET = "cli_shop_main_secret_" + "f" * 43


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """One demo-seeded sandbox per test module, with the ``SHOP_KEY`` seller on every storefront."""
    config = SandboxConfig(
        sellers=[SellerCredentials(SHOP_KEY, SHOP_SECRET, ALL_STOREFRONTS)],
        seed="demo",
        random_seed=7,
    )
    with RunningSandbox(config) as running:
        yield running


@pytest.fixture
def env(sandbox: RunningSandbox, tmp_path: Path) -> dict[str, str]:
    """A fresh data folder with the account ``shop`` (storefront de) pointing at the sandbox."""
    env = {"KAUFLAND_SYNC_DATA_DIR": str(tmp_path / "data")}
    result = run_cli(
        "accounts",
        "add",
        "shop",
        "--client-key",
        SHOP_KEY,
        "--base-url",
        sandbox.base_url,
        "--storefront",
        "de",
        env=env | {"KAUFLAND_SYNC_SECRET_KEY": SHOP_SECRET},
    )
    assert result.returncode == 0, result.stderr
    return env
