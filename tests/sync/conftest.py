"""Fixtures for the sync tests: the account most of them work for, and the outbox tests' store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.store.models.accounts import Account
from tests.builders import add_account, migrated_store
from tests.sync.test_outbox import add_shop


@pytest.fixture
def account(factory: sessionmaker[Session]) -> Account:
    """The account ``shop`` selling on ``de``, in the test's migrated store (``factory``)."""
    return add_account(factory)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[sessionmaker[Session], int]]:
    """A migrated SQLite store with the account ``shop`` of the outbox tests' sandbox seller:
    (session factory, account id)."""
    with migrated_store(f"sqlite:///{tmp_path / 'store.db'}") as factory:
        yield factory, add_shop(factory)
