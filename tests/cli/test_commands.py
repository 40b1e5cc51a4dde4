"""The command line as a user runs it: real processes, the sandbox over loopback HTTP."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import typer

from kaufland_sync.cli.api import parse_data, split_target
from kaufland_sync.cli.sandbox import DEMO_CLIENT_KEY, DEMO_SECRET_KEY
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import ALL_STOREFRONTS, SandboxConfig, SellerCredentials
from tests.cli.runner import run_process as run_cli


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    config = SandboxConfig(
        sellers=[SellerCredentials(DEMO_CLIENT_KEY, DEMO_SECRET_KEY, ALL_STOREFRONTS)]
    )
    with RunningSandbox(config) as running:
        yield running


def env_for(sandbox: RunningSandbox) -> dict[str, str]:
    return {
        "KAUFLAND_SYNC_BASE_URL": sandbox.base_url,
        "KAUFLAND_SYNC_CLIENT_KEY": DEMO_CLIENT_KEY,
        "KAUFLAND_SYNC_SECRET_KEY": DEMO_SECRET_KEY,
    }


def test_split_target_keeps_repeated_keys_and_drops_v2() -> None:
    path, params = split_target("/v2/order-units?status=open&status=sent&limit=5")
    assert path == "/order-units"
    assert params == {"status": ["open", "sent"], "limit": ["5"]}
    assert split_target("units")[0] == "/units"


def test_split_target_refuses_a_full_url() -> None:
    with pytest.raises(typer.BadParameter, match="path only"):
        split_target("https://sellerapi.kaufland.com/v2/units")


def test_parse_data_names_the_json_error(tmp_path: Path) -> None:
    with pytest.raises(typer.BadParameter, match="line 1, column 2"):
        parse_data("{oops}")
    body = tmp_path / "unit.json"
    body.write_text('{ "amount": 3 }', encoding="utf-8")
    assert parse_data(f"@{body}") == '{"amount":3}'


def test_api_get_prints_json(sandbox: RunningSandbox) -> None:
    result = run_cli("api", "GET", "/units?limit=2", "--storefront", "de", env=env_for(sandbox))
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert len(body["data"]) == 2
    assert body["pagination"]["limit"] == 2
    assert "HTTP 200" in result.stderr
    assert DEMO_SECRET_KEY not in result.stdout + result.stderr


def test_api_patch_with_data_changes_the_unit(sandbox: RunningSandbox) -> None:
    env = env_for(sandbox)
    first = json.loads(run_cli("api", "GET", "/units?limit=1&storefront=de", env=env).stdout)
    id_unit = first["data"][0]["id_unit"]
    result = run_cli(
        "api",
        "PATCH",
        f"/units/{id_unit}",
        "--storefront",
        "de",
        "--data",
        '{"amount": 77}',
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"]["amount"] == 77


def test_api_error_answer_exits_1_with_the_problem(sandbox: RunningSandbox) -> None:
    result = run_cli("api", "GET", "/units", env=env_for(sandbox))
    assert result.returncode == 1
    problem = json.loads(result.stdout)
    assert problem["type"] == "/problems/validation-error"
    assert problem["errors"][0]["field"] == "storefront"


def test_api_wrong_secret_shows_the_signature_problem(sandbox: RunningSandbox) -> None:
    env = env_for(sandbox) | {"KAUFLAND_SYNC_SECRET_KEY": "not-the-secret"}
    result = run_cli("api", "GET", "/status/ping", env=env)
    assert result.returncode == 1
    assert json.loads(result.stdout)["type"] == "/problems/corrupted-signature"
    assert "HTTP 401" in result.stderr


def test_api_without_keys_says_which_flag_is_missing() -> None:
    result = run_cli("api", "GET", "/status/ping")
    assert result.returncode == 2
    assert "--client-key" in result.stderr
    assert "KAUFLAND_SYNC_CLIENT_KEY" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sandbox_process(port: int, state: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "kaufland_sync",
            "sandbox",
            "--port",
            str(port),
            "--state",
            str(state),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_sandbox/state", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            if process.poll() is not None:
                raise AssertionError(
                    process.stderr.read() if process.stderr else "exited"
                ) from None
            time.sleep(0.1)
    process.kill()
    raise AssertionError("sandbox did not start")


def test_sandbox_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    port = free_port()
    env = {
        "KAUFLAND_SYNC_BASE_URL": f"http://127.0.0.1:{port}/v2",
        "KAUFLAND_SYNC_CLIENT_KEY": DEMO_CLIENT_KEY,
        "KAUFLAND_SYNC_SECRET_KEY": DEMO_SECRET_KEY,
    }
    process = start_sandbox_process(port, state)
    try:
        page = json.loads(run_cli("api", "GET", "/units?limit=1&storefront=de", env=env).stdout)
        id_unit = page["data"][0]["id_unit"]
        changed = run_cli(
            "api", "PATCH", f"/units/{id_unit}?storefront=de", "--data", '{"amount": 4321}', env=env
        )
        assert changed.returncode == 0, changed.stderr
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    assert state.exists()
    process = start_sandbox_process(port, state)
    try:
        again = run_cli("api", "GET", f"/units/{id_unit}?storefront=de", env=env)
        assert json.loads(again.stdout)["data"]["amount"] == 4321
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
