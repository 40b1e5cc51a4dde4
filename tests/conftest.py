"""Fixtures shared by the whole suite: a real PostgreSQL server for the store tests.

``db_url`` runs a test on SQLite and on PostgreSQL, each time on an empty database: a fresh
SQLite file, or a fresh schema (set as the connection's ``search_path``) in the session's
PostgreSQL database. ``factory`` is that database migrated, as a session factory. A missing
PostgreSQL fails the tests (never skips): run ``make test``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import migrated_store
from tests.pg import PostgresNotFoundError, PostgresServer


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of a database on a PostgreSQL server started for this test session."""
    try:
        server = PostgresServer()
    except PostgresNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    try:
        yield server.create_database("kaufland_sync_tests")
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database to migrate, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    import psycopg

    base: str = request.getfixturevalue("postgres_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on a freshly migrated, empty store, on each backend of ``db_url``."""
    with migrated_store(db_url) as made:
        yield made
