"""Fixtures of the web tests: a migrated SQLite store per test (copied from one migrated once:
running the migrations for every test would cost a second each) and settings with a master key.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.store.db import create_db_engine, session_factory
from tests.builders import migrated_store
from tests.web.support import settings_for


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web-template") / "store.db"
    with migrated_store(f"sqlite:///{path}"):
        pass  # disposing the engine checkpoints the WAL into the file
    return path


@pytest.fixture
def store(migrated_template: Path, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated, empty SQLite store of this test's own."""
    path = tmp_path / "store.db"
    shutil.copyfile(migrated_template, path)
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path / "data")
