"""Fixtures for the back office: a migrated, empty store on every backend ``db_url`` offers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.store.db import create_db_engine, session_factory
from kaufland_sync.store.migrate import upgrade

_ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

# The root conftest provides ``db_url`` over SQLite and PostgreSQL; without it (a partial
# checkout) these tests still run on SQLite.
if not (_ROOT_CONFTEST.exists() and "def db_url" in _ROOT_CONFTEST.read_text(encoding="utf-8")):

    @pytest.fixture
    def db_url(tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'catalog.db'}"


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(db_url)
    upgrade(engine)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()
