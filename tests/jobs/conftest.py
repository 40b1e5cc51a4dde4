"""Fixtures for the job tests: a clock that only moves when told, and an account to run for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import add_account

#: Where the job tests' clocks start.
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class FakeClock:
    """An aware UTC clock that moves only by :meth:`advance` (no test ever sleeps)."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def account_id(factory: sessionmaker[Session]) -> int:
    """The id of an account (``shop``) in the migrated store of ``factory``."""
    return add_account(factory, "shop").id
