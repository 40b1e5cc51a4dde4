"""``kaufland-sync accounts`` in process: a data folder in tmp_path, the sandbox over loopback
HTTP for ``accounts test``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import ALL_STOREFRONTS, SandboxConfig, SellerCredentials
from tests.cli.runner import run_cli

MAIN_KEY = "cli_accounts_main_key_00000000001"
MAIN_SECRET = "cli_accounts_main_secret_" + "c" * 39
DE_KEY = "cli_accounts_de_only_key_00000002"
DE_SECRET = "cli_accounts_de_only_secret_" + "d" * 36


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    config = SandboxConfig(
        sellers=[
            SellerCredentials(MAIN_KEY, MAIN_SECRET, ALL_STOREFRONTS),
            SellerCredentials(DE_KEY, DE_SECRET, ("de",)),
        ],
        seed="empty",
    )
    with RunningSandbox(config) as running:
        yield running


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"KAUFLAND_SYNC_DATA_DIR": str(tmp_path / "data")}


def accounts(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    result = run_cli("accounts", *args, env=env)
    return result.returncode, result.stdout, result.stderr


def add_sandbox_account(
    sandbox: RunningSandbox,
    env: dict[str, str],
    name: str = "shop",
    *storefronts: str,
    key: str = MAIN_KEY,
    secret: str = MAIN_SECRET,
) -> None:
    flags = [arg for code in storefronts or ("de", "cz") for arg in ("--storefront", code)]
    code, _out, err = accounts(
        "add",
        name,
        "--client-key",
        key,
        "--base-url",
        sandbox.base_url,
        *flags,
        env=env | {"KAUFLAND_SYNC_SECRET_KEY": secret},
    )
    assert code == 0, err


def assert_no_secret(tmp_path: Path, *texts: str) -> None:
    for text in texts:
        assert MAIN_SECRET not in text
    for path in (tmp_path / "data").iterdir():
        assert MAIN_SECRET.encode() not in path.read_bytes(), path


def test_add_list_show_set_remove(
    sandbox: RunningSandbox, env: dict[str, str], tmp_path: Path
) -> None:
    add_sandbox_account(sandbox, env)
    code, out, err = accounts(
        "add",
        "prod",
        "--client-key",
        "prod-key",
        "--secret-key",
        "prod-secret-0123456789",
        "--storefront",
        "de",
        env=env,
    )
    assert code == 0, err
    code, out, err = accounts("list", "--json", env=env)
    assert code == 0, err
    listed = json.loads(out)
    assert [a["name"] for a in listed] == ["prod", "shop"]
    assert listed[0]["environment"] == "production"
    assert listed[0]["base_url"] == "https://sellerapi.kaufland.com/v2"
    assert listed[1]["environment"] == "custom"
    assert listed[1]["storefronts"] == ["cz", "de"]

    code, out, err = accounts(
        "set",
        "shop",
        "--storefront",
        "cz",
        "--currency-rate",
        "25.2",
        "--rounding",
        "1",
        "--markup-percent",
        "10",
        "--buffer-stock",
        "2",
        "--max-stock",
        "100",
        "--handling-time",
        "2",
        "--minimum-price-percent",
        "80",
        "--direction",
        "stock=both",
        "--warehouse",
        "PRAHA=4711",
        env=env,
    )
    assert code == 0, err
    code, out, err = accounts("show", "shop", "--json", env=env)
    assert code == 0, err
    shown = json.loads(out)
    cz = next(s for s in shown["storefront_settings"] if s["storefront"] == "cz")
    assert cz["currency_rate"] == "25.20000000" or cz["currency_rate"] == "25.2"
    assert (cz["rounding"], cz["markup_percent"]) == ("1", "10")
    assert (cz["buffer_stock"], cz["max_stock"], cz["handling_time"]) == (2, 100, 2)
    assert cz["use_minimum_price"] is True
    assert cz["directions"]["stock"] == "both"
    assert cz["warehouses"] == {"PRAHA": 4711}
    assert shown["secret_key"] == "••••••••"

    code, text_out, err = accounts("show", "shop", env=env)
    assert code == 0, err
    assert "currency_rate:" in text_out
    assert_no_secret(tmp_path, out, text_out, err)

    code, out, err = accounts("remove", "shop", env=env)
    assert code == 2
    assert "--yes" in err
    code, out, err = accounts("remove", "shop", "--yes", env=env)
    assert code == 0, err
    code, out, err = accounts("show", "shop", env=env)
    assert code == 1
    assert "no account named 'shop'" in err


def test_bad_input_names_the_option(sandbox: RunningSandbox, env: dict[str, str]) -> None:
    add_sandbox_account(sandbox, env)
    code, _out, err = accounts("set", "shop", "--storefront", "cz", "--rounding", "0.5x", env=env)
    assert code == 2
    assert "--rounding" in err
    assert "must be one of 0.01" in err
    code, _out, err = accounts("set", "shop", "--storefront", "xx", "--rounding", "1", env=env)
    assert code == 2
    assert "unknown storefront 'xx'" in err
    code, _out, err = accounts("set", "shop", "--storefront", "de", "--buffer-stock", "-3", env=env)
    assert code == 2
    assert "--buffer-stock" in err
    code, _out, err = accounts(
        "add", "shop", "--client-key", "k", "--secret-key", "s", "--storefront", "de", env=env
    )
    assert code == 1
    assert "already exists" in err
    code, _out, err = accounts("add", "other", "--client-key", "k", "--storefront", "de", env=env)
    assert code == 2
    assert "KAUFLAND_SYNC_SECRET_KEY" in err


def test_wrong_master_key_is_a_clear_error(
    sandbox: RunningSandbox, env: dict[str, str], tmp_path: Path
) -> None:
    add_sandbox_account(sandbox, env)
    (tmp_path / "data" / "master.key").unlink()
    code, _out, err = accounts("test", "shop", env=env)
    assert code == 1
    assert "cannot decrypt the secret key of account 'shop'" in err
    assert "Traceback" not in err


def test_accounts_test_succeeds(sandbox: RunningSandbox, env: dict[str, str]) -> None:
    add_sandbox_account(sandbox, env, "shop", "de", "cz")
    code, out, err = accounts("test", "shop", env=env)
    assert code == 0, out + err
    assert "credentials: accepted" in out
    assert "clock: in step with Kaufland's" in out
    assert "storefronts configured on Kaufland: cz, de" in out
    assert out.rstrip().endswith("OK")
    assert MAIN_SECRET not in out + err


def test_accounts_test_wrong_secret_in_plain_words(
    sandbox: RunningSandbox, env: dict[str, str], tmp_path: Path
) -> None:
    add_sandbox_account(sandbox, env, secret="not-the-right-secret-at-all-000000")
    code, out, err = accounts("test", "shop", env=env)
    assert code == 1
    assert "secret key does not belong to this client key" in out
    assert "FAILED" in out
    assert "Traceback" not in err


def test_a_wrong_secret_is_replaced_from_stdin_without_showing_it(
    sandbox: RunningSandbox, env: dict[str, str], tmp_path: Path
) -> None:
    add_sandbox_account(sandbox, env, secret="not-the-right-secret-at-all-000000")
    assert accounts("test", "shop", env=env)[0] == 1

    empty = run_cli("accounts", "set", "shop", "--secret-key", "-", env=env, input="\n")
    assert empty.returncode == 2
    assert "no secret key was given on stdin" in empty.stderr

    replaced = run_cli(
        "accounts", "set", "shop", "--secret-key", "-", env=env, input=MAIN_SECRET + "\n"
    )
    assert replaced.returncode == 0, replaced.stderr
    code, out, err = accounts("test", "shop", env=env)
    assert code == 0, out + err
    assert "credentials: accepted" in out
    assert_no_secret(tmp_path, replaced.stdout, replaced.stderr, out, err)


def test_accounts_test_reports_clock_skew(sandbox: RunningSandbox, env: dict[str, str]) -> None:
    add_sandbox_account(sandbox, env)
    with httpx.Client(base_url=f"{sandbox.root_url}/_sandbox") as control:
        control.put("/clock", json={"offset_seconds": 420}).raise_for_status()
        try:
            code, out, err = accounts("test", "shop", "--json", env=env)
        finally:
            control.put("/clock", json={"offset_seconds": 0}).raise_for_status()
    assert code == 1, err
    report = json.loads(out)
    assert report["credentials_ok"] is True
    assert 400 <= report["clock_skew_seconds"] <= 440
    assert any("your server clock is 7 minutes behind" in p for p in report["problems"])


def test_accounts_test_names_a_storefront_missing_on_kaufland(
    sandbox: RunningSandbox, env: dict[str, str]
) -> None:
    add_sandbox_account(sandbox, env, "shop", "de", "cz", key=DE_KEY, secret=DE_SECRET)
    code, out, err = accounts("test", "shop", env=env)
    assert code == 1, err
    assert "storefronts configured on Kaufland: de" in out
    assert "storefronts missing on Kaufland: cz" in out
    assert "storefront 'cz' is not set up for this seller" in out


def test_accounts_test_cannot_connect(env: dict[str, str]) -> None:
    code, _out, err = accounts(
        "add",
        "gone",
        "--client-key",
        "k",
        "--secret-key",
        "s",
        "--base-url",
        "http://127.0.0.1:9/v2",
        "--storefront",
        "de",
        env=env,
    )
    assert code == 0, err
    code, out, err = accounts("test", "gone", env=env)
    assert code == 1
    assert "could not reach http://127.0.0.1:9/v2" in out
