"""Fixtures of the web tests: a migrated SQLite store per test (copied from one migrated once:
running the migrations for every test would cost a second each), settings with a master key,
and cheap password hashing for the modules that ask for it
(``pytestmark = pytest.mark.usefixtures("cheap_hashing")``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from tests.web.support import copied_store, migrate_template, settings_for, use_cheap_hashing


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrate_template(tmp_path_factory.mktemp("web-template") / "store.db")


@pytest.fixture
def store(migrated_template: Path, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated, empty SQLite store of this test's own."""
    with copied_store(migrated_template, tmp_path / "store.db") as factory:
        yield factory


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path / "data")


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """See :func:`tests.web.support.use_cheap_hashing`."""
    use_cheap_hashing(monkeypatch)
