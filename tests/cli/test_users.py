"""``kaufland-sync users``: adding users (password asked twice, hidden), listing, removing,
changing passwords, and API tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from argon2 import PasswordHasher
from sqlalchemy import select
from typer.testing import CliRunner

from kaufland_sync.cli import users
from kaufland_sync.store.db import create_db_engine, session_factory
from kaufland_sync.store.migrate import upgrade
from kaufland_sync.store.models.users import ApiToken, User
from kaufland_sync.web import auth
from tests.cli.runner import Ran

PASSWORD = "correct horse battery"

# Until ``users`` is registered on the root command: a root like the real one (which disposes
# the stores a command opened when it ends) with only this group.
_root = typer.Typer()


@_root.callback()
def _callback(ctx: typer.Context) -> None:
    from kaufland_sync.cli.catalog import close_stores
    from kaufland_sync.logging import configure

    configure("WARNING")
    ctx.call_on_close(close_stores)


_root.add_typer(users.app, name="users")


def run_cli(*args: str, env: dict[str, str], input: str | None = None) -> Ran:
    result = CliRunner().invoke(
        _root, list(args), env=env, input=input, prog_name="kaufland-sync", catch_exceptions=False
    )
    return Ran(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"KAUFLAND_SYNC_DATA_DIR": str(tmp_path / "data")}


def _users(env: dict[str, str]) -> list[User]:
    engine = create_db_engine(f"sqlite:///{env['KAUFLAND_SYNC_DATA_DIR']}/kaufland-sync.db")
    try:
        upgrade(engine)
        with session_factory(engine)() as session:
            return list(session.scalars(select(User).order_by(User.name)))
    finally:
        engine.dispose()


def _tokens(env: dict[str, str]) -> list[ApiToken]:
    engine = create_db_engine(f"sqlite:///{env['KAUFLAND_SYNC_DATA_DIR']}/kaufland-sync.db")
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
    finally:
        engine.dispose()


def test_add_with_password_and_list(env: dict[str, str]) -> None:
    added = run_cli("users", "add", "ann", "--role", "admin", "--password", PASSWORD, env=env)
    assert added.returncode == 0, added.stderr
    assert "Added ann (admin)" in added.stderr
    assert PASSWORD not in added.stdout + added.stderr
    (ann,) = _users(env)
    assert ann.role.value == "admin"
    assert auth.verify_password(ann.password_hash, PASSWORD)

    listed = run_cli("users", "list", "--json", env=env)
    assert listed.returncode == 0
    (row,) = json.loads(listed.stdout)
    assert row | {"created_at": None} == {
        "name": "ann",
        "role": "admin",
        "active": True,
        "created_at": None,
        "last_login_at": None,
        "tokens": 0,
    }
    table = run_cli("users", "list", env=env)
    assert "ann" in table.stdout and "admin" in table.stdout


def test_add_prompts_twice_with_hidden_input(env: dict[str, str]) -> None:
    added = run_cli(
        "users", "add", "olga", "--role", "operator", env=env, input=f"{PASSWORD}\n" * 2
    )
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr  # hidden input is not echoed
    assert "Repeat for confirmation" in added.stderr
    (olga,) = _users(env)
    assert auth.verify_password(olga.password_hash, PASSWORD)


def test_add_refuses_short_passwords_bad_roles_and_taken_names(env: dict[str, str]) -> None:
    short = run_cli("users", "add", "ann", "--password", "too short", env=env)
    assert short.returncode == 1
    assert "at least 12" in short.stderr
    assert _users(env) == []

    role = run_cli("users", "add", "ann", "--role", "owner", "--password", PASSWORD, env=env)
    assert role.returncode == 2
    assert "owner" in role.stderr

    run_cli("users", "add", "ann", "--password", PASSWORD, env=env)
    taken = run_cli("users", "add", "ann", "--password", PASSWORD, env=env)
    assert taken.returncode == 1
    assert "exists already" in taken.stderr


def test_passwd_and_remove(env: dict[str, str]) -> None:
    run_cli("users", "add", "ann", "--role", "admin", "--password", PASSWORD, env=env)
    run_cli("users", "add", "vera", "--password", PASSWORD, env=env)

    new = "a much better password"
    changed = run_cli("users", "passwd", "vera", env=env, input=f"{new}\n{new}\n")
    assert changed.returncode == 0, changed.stderr
    vera = _users(env)[1]
    assert auth.verify_password(vera.password_hash, new)
    unknown = run_cli("users", "passwd", "nobody", env=env, input=f"{new}\n{new}\n")
    assert unknown.returncode == 1
    assert "no user named 'nobody'" in unknown.stderr

    last_admin = run_cli("users", "remove", "ann", env=env)
    assert last_admin.returncode == 1
    assert "last admin" in last_admin.stderr
    removed = run_cli("users", "remove", "vera", env=env)
    assert removed.returncode == 0
    assert [u.name for u in _users(env)] == ["ann"]


def test_tokens_create_list_revoke(env: dict[str, str]) -> None:
    run_cli("users", "add", "ann", "--role", "operator", "--password", PASSWORD, env=env)
    created = run_cli("users", "token", "create", "ann", "--name", "ERP", env=env)
    assert created.returncode == 0, created.stderr
    raw = created.stdout.strip()
    assert raw.startswith("ks_") and "\n" not in raw
    assert "shown only now" in created.stderr
    (stored,) = _tokens(env)
    assert stored.prefix == raw[:8]
    assert raw not in stored.token_hash

    listed = run_cli("users", "token", "list", "ann", "--json", env=env)
    (row,) = json.loads(listed.stdout)
    assert (row["prefix"], row["name"], row["revoked_at"]) == (raw[:8], "ERP", None)
    assert raw not in listed.stdout
    assert raw[:8] in run_cli("users", "token", "list", "ann", env=env).stdout
    assert json.loads(run_cli("users", "list", "--json", env=env).stdout)[0]["tokens"] == 1

    revoked = run_cli("users", "token", "revoke", "ann", raw[:8], env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert _tokens(env)[0].revoked_at is not None
    again = run_cli("users", "token", "revoke", "ann", raw[:8], env=env)
    assert again.returncode == 1
    assert "no active token" in again.stderr

    unknown = run_cli("users", "token", "create", "nobody", "--name", "x", env=env)
    assert unknown.returncode == 1
