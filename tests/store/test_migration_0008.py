"""Migration 0008 (users) on SQLite and PostgreSQL: it keeps what is there, enforces unique
names, known roles and unique token hashes, deletes a user's tokens with the user, and goes
back cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from kaufland_sync.store.db import create_db_engine
from kaufland_sync.store.migrate import current_revision, downgrade, upgrade

NOW = "2026-01-01 00:00:00+00:00"
USER_TABLES = {"users", "api_tokens", "login_failures"}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    made = create_db_engine(db_url)
    try:
        yield made
    finally:
        made.dispose()


def _insert_user(engine: Engine, user_id: int, name: str, role: str = "viewer") -> None:
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO users (id, name, password_hash, role, active, created_at)"
                " VALUES (:id, :name, '$argon2id$x', :role, true, :t)"
            ),
            {"id": user_id, "name": name, "role": role, "t": NOW},
        )


def _insert_token(engine: Engine, token_id: int, user_id: int, token_hash: str) -> None:
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at)"
                " VALUES (:id, :user_id, 'ERP', :hash, 'ks_abcde', :t)"
            ),
            {"id": token_id, "user_id": user_id, "hash": token_hash, "t": NOW},
        )


def test_users_keeps_accounts_enforces_its_rules_and_goes_back(engine: Engine) -> None:
    upgrade(engine, "0007_jobs")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO accounts (id, name, client_key, secret_key_encrypted, environment,"
                " restock_returns, created_at, updated_at)"
                " VALUES (1, 'a', 'k', 's', 'production', false, :t, :t)"
            ),
            {"t": NOW},
        )
    assert upgrade(engine, "0008_users") == "0008_users"
    assert set(inspect(engine).get_table_names()) >= USER_TABLES

    _insert_user(engine, 1, "ann", "admin")
    _insert_user(engine, 2, "bob", "operator")
    with pytest.raises(IntegrityError):
        _insert_user(engine, 3, "ann")  # names are unique
    with pytest.raises(IntegrityError):
        _insert_user(engine, 4, "eve", "owner")  # not a role
    _insert_token(engine, 1, 1, "a" * 64)
    _insert_token(engine, 2, 2, "b" * 64)
    with pytest.raises(IntegrityError):
        _insert_token(engine, 3, 2, "a" * 64)  # token hashes are unique
    with pytest.raises(IntegrityError):
        _insert_token(engine, 4, 99, "c" * 64)  # no such user

    # Removing a user removes their tokens (the database does it, whoever deletes).
    with engine.begin() as c:
        c.execute(text("DELETE FROM users WHERE id = 1"))
    with engine.begin() as c:
        assert c.execute(text("SELECT id FROM api_tokens")).scalars().all() == [2]
        c.execute(
            text("INSERT INTO login_failures (name, ip, failed_at) VALUES ('x', '1.2.3.4', :t)"),
            {"t": NOW},
        )

    assert downgrade(engine, "0007_jobs") == "0007_jobs"
    assert not USER_TABLES & set(inspect(engine).get_table_names())
    with engine.begin() as c:
        assert c.execute(text("SELECT name FROM accounts")).scalar_one() == "a"

    # And up again, empty.
    upgrade(engine)
    assert current_revision(engine) is not None
    with engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM users")).scalar_one() == 0
