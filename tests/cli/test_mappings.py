"""``kaufland-sync mappings list|set|unset`` in process (no Kaufland call is made). The account
is added once per module."""

from __future__ import annotations

import json

import pytest

from tests.cli.runner import run_cli


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A data folder with the account ``shop`` on de and cz (the URL is never called)."""
    env = {"KAUFLAND_SYNC_DATA_DIR": str(tmp_path_factory.mktemp("mappings") / "data")}
    added = run_cli(
        "accounts",
        "add",
        "shop",
        "--client-key",
        "mappings_test_client_key_0000001",
        "--base-url",
        "http://127.0.0.1:9/v2",
        "--storefront",
        "de",
        "--storefront",
        "cz",
        env=env | {"KAUFLAND_SYNC_SECRET_KEY": "s" * 64},
    )
    assert added.returncode == 0, added.stderr
    return env


def rules(env: dict[str, str], *args: str) -> list[dict[str, object]]:
    listed = run_cli("mappings", "list", "--json", *args, env=env)
    assert listed.returncode == 0, listed.stderr
    result: list[dict[str, object]] = json.loads(listed.stdout)
    return result


def test_set_list_and_unset_rules(env: dict[str, str]) -> None:
    defaults = rules(env, "--account", "shop", "--kind", "status")
    assert {(r["source"], r["target"], r["origin"]) for r in defaults} >= {
        ("open", "Pending", "default"),
        ("sent", "Dispatched", "default"),
    }
    assert len(defaults) == 8

    done = run_cli(
        "mappings", "set", "--account", "shop", "--kind", "status", "sent", "Shipped", env=env
    )
    assert done.returncode == 0, done.stderr
    assert "sent → Shipped on every storefront; 0 order(s) mapped again" in done.stdout
    cz = run_cli(
        "mappings",
        "set",
        "--account",
        "shop",
        "--kind",
        "cancel_reason",
        "--storefront",
        "cz",
        "out of stock",
        "noinventory",
        env=env,
    )
    assert cz.returncode == 0, cz.stderr

    listed = rules(env, "--account", "shop")
    overrides = {
        (r["kind"], r["storefront"], r["source"]): r["target"]
        for r in listed
        if r["origin"] == "override"
    }
    assert overrides == {
        ("status", "", "sent"): "Shipped",
        ("cancel_reason", "cz", "out of stock"): "NoInventory",
    }
    hidden = [r for r in listed if r["source"] == "sent" and r["origin"] == "default"]
    assert hidden[0]["overridden"] is True
    table = run_cli("mappings", "list", "--account", "shop", "--kind", "status", env=env)
    assert "default (overridden)" in table.stdout and "override of 'Dispatched'" in table.stdout

    gone = run_cli("mappings", "unset", "--account", "shop", "--kind", "status", "sent", env=env)
    assert gone.returncode == 0 and "removed" in gone.stdout
    again = run_cli("mappings", "unset", "--account", "shop", "--kind", "status", "sent", env=env)
    assert again.returncode == 1 and "no status rule for 'sent'" in again.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--kind", "colour", "a", "b"), "--kind 'colour' is not a mapping kind; one of status"),
        (("--kind", "status", "shipped", "x"), "source: 'shipped' is not a Kaufland order status"),
        (
            ("--kind", "refund_reason", "late", "slow"),
            "target: 'slow' is not a Kaufland refund reason; one of delivery_damage",
        ),
        (("--kind", "status", "--storefront", "uk", "sent", "x"), "--storefront 'uk'"),
        (
            ("--kind", "status", "--storefront", "pl", "sent", "x"),
            "--storefront: account 'shop' does not sell on 'pl', so the rule could never apply",
        ),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    env: dict[str, str], args: tuple[str, ...], expected: str
) -> None:
    result = run_cli("mappings", "set", "--account", "shop", *args, env=env)
    assert result.returncode == 1
    assert expected in " ".join(result.stderr.split())


def test_unknown_accounts_are_refused(env: dict[str, str]) -> None:
    result = run_cli("mappings", "list", "--account", "nobody", env=env)
    assert result.returncode == 1 and "no account named 'nobody'" in result.stderr
