"""The importers' shared machinery on SQLite and PostgreSQL: summaries, the redo of a transaction
that lost a race, the forward-only cursor and the sync-log row of a storefront's run."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import SyncCursor
from kaufland_sync.store.models.sync import RunOutcome, SyncKind, SyncRun
from kaufland_sync.sync.importers._common import (
    ATTEMPTS,
    OVERLAP,
    Cursor,
    ImportSummary,
    is_conflict,
    logged_run,
    redone,
    write_counted,
)
from tests.builders import add_account, at

T0 = at("2026-03-01")


@dataclass
class Counts(ImportSummary):
    RUN_COUNTS: ClassVar[tuple[str, str, str]] = ("made", "changed", "same")

    made: int = 0
    changed: int = 0
    same: int = 0
    skus: set[str] = field(default_factory=set)
    pieces: list[str] = field(default_factory=list)


@pytest.fixture
def account(factory: sessionmaker[Session]) -> Account:
    return add_account(factory)


def cursor_rows(factory: sessionmaker[Session]) -> list[tuple[str, Storefront, object]]:
    with factory() as session:
        return [
            (row.kind, row.storefront, row.position)
            for row in session.scalars(select(SyncCursor).order_by(SyncCursor.id))
        ]


def test_summaries_add_field_by_field_and_read_as_json_ready_data() -> None:
    total = Counts(made=1, skus={"B"}, pieces=["B"])
    total.add(Counts(made=2, changed=1, same=4, skus={"A", "B"}, pieces=["B", "A"]))
    assert total.as_dict() == {
        "made": 3,
        "changed": 1,
        "same": 4,
        "skus": ["A", "B"],
        "pieces": ["B", "B", "A"],
    }
    assert total.run_counts() == (3, 1, 4)
    # as_dict hands out copies: changing them leaves the summary as it was.
    data = total.as_dict()
    data["pieces"].append("C")
    assert total.pieces == ["B", "B", "A"]


class _Dbapi(Exception):
    """A driver error carrying PostgreSQL's SQLSTATE, as psycopg's errors do."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def test_conflicts_are_lost_races_not_any_database_error(tmp_path: Path) -> None:
    # A real "database is locked": one connection holds SQLite's write lock, the other gives up
    # at once (no busy timeout).
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    holder = create_engine(url)
    waiter = create_engine(url, connect_args={"timeout": 0})
    try:
        with holder.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        with holder.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            with pytest.raises(OperationalError) as locked, waiter.begin() as other:
                other.execute(text("INSERT INTO t (id) VALUES (1)"))
            conn.rollback()
        with pytest.raises(OperationalError) as missing, waiter.begin() as other:
            other.execute(text("SELECT * FROM no_such_table"))
    finally:
        holder.dispose()
        waiter.dispose()
    assert isinstance(locked.value.orig, sqlite3.OperationalError)
    assert is_conflict(locked.value)
    assert not is_conflict(missing.value)

    assert is_conflict(IntegrityError("INSERT", {}, Exception("duplicate key")))
    for sqlstate, retry in (("40001", True), ("40P01", True), ("08006", False)):
        error = OperationalError("UPDATE", {}, _Dbapi(sqlstate))
        assert is_conflict(error) is retry, sqlstate
    assert not is_conflict(ValueError("not a database error"))


def test_a_transaction_that_lost_a_unique_key_is_redone_and_finds_the_winners_row(
    factory: sessionmaker[Session], account: Account
) -> None:
    attempts: list[int] = []

    def work(session: Session, scratch: Counts) -> None:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            # Another run commits the same key between our look-up and our insert.
            with transaction(factory) as other:
                other.add(
                    SyncCursor(
                        account_id=account.id, storefront=Storefront.DE, kind="k", position=T0
                    )
                )
        row = session.scalar(select(SyncCursor).where(SyncCursor.kind == "k"))
        if len(attempts) == 1 or row is None:
            session.add(
                SyncCursor(account_id=account.id, storefront=Storefront.DE, kind="k", position=T0)
            )
            session.flush()
            scratch.made += 1
        else:
            row.position = T0 + timedelta(hours=1)
            scratch.changed += 1

    summary = Counts()
    write_counted(factory, summary, work)
    assert attempts == [1, 2]
    # Only the committed attempt counts; the store holds the winner's row, updated once.
    assert (summary.made, summary.changed) == (0, 1)
    assert cursor_rows(factory) == [("k", Storefront.DE, T0 + timedelta(hours=1))]


def test_a_redo_gives_up_after_the_last_attempt_and_other_errors_are_not_redone(
    factory: sessionmaker[Session], account: Account
) -> None:
    calls: list[str] = []

    def always_losing(session: Session) -> None:
        calls.append("conflict")
        session.add(
            SyncRun(
                kind=SyncKind.ORDERS, account_id=account.id, storefront=Storefront.DE, started_at=T0
            )
        )
        session.flush()
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(IntegrityError):
        redone(factory, always_losing)
    assert len(calls) == ATTEMPTS

    def broken(session: Session) -> None:
        calls.append("bug")
        raise ValueError("a bug, not a race")

    with pytest.raises(ValueError, match="a bug"):
        redone(factory, broken)
    assert calls.count("bug") == 1
    with factory() as session:  # nothing of the failed attempts was kept
        assert session.scalar(select(func.count()).select_from(SyncRun)) == 0
    assert redone(factory, lambda session: "done") == "done"


def test_the_cursor_starts_everything_then_reads_with_overlap_and_only_moves_forward(
    factory: sessionmaker[Session], account: Account
) -> None:
    orders = Cursor("order_units", account.id, Storefront.DE)
    assert orders.position(factory) is None
    assert orders.read_from(factory) is None

    orders.advance(factory, T0)
    orders.advance(factory, T0 - timedelta(hours=1))  # never backwards
    assert orders.read_from(factory) == T0 - OVERLAP
    assert orders.read_from(factory, overlap=timedelta(0)) == T0
    orders.advance(factory, T0 + timedelta(minutes=1))

    # Each kind and storefront keeps its own bookmark.
    Cursor("tickets", account.id, Storefront.DE).advance(factory, T0)
    assert Cursor("order_units", account.id, Storefront.CZ).position(factory) is None
    assert cursor_rows(factory) == [
        ("order_units", Storefront.DE, T0 + timedelta(minutes=1)),
        ("tickets", Storefront.DE, T0),
    ]


def runs(factory: sessionmaker[Session]) -> list[SyncRun]:
    with factory() as session:
        return list(session.scalars(select(SyncRun).order_by(SyncRun.id)))


def test_a_storefront_run_is_logged_running_then_ok_with_the_counts_at_its_end(
    factory: sessionmaker[Session], account: Account
) -> None:
    part = Counts()
    with logged_run(
        factory,
        kind=SyncKind.TICKETS,
        account_id=account.id,
        storefront=Storefront.DE,
        started=T0,
        summary=part,
        clock=lambda: T0 + timedelta(seconds=5),
    ) as run_id:
        (row,) = runs(factory)
        assert (row.id, row.outcome, row.finished_at) == (run_id, RunOutcome.RUNNING, None)
        part.made, part.changed, part.same = 3, 2, 1
    (row,) = runs(factory)
    assert (row.kind, row.storefront, row.started_at, row.finished_at) == (
        SyncKind.TICKETS,
        Storefront.DE,
        T0,
        T0 + timedelta(seconds=5),
    )
    assert (row.outcome, row.created, row.updated, row.unchanged) == (RunOutcome.OK, 3, 2, 1)
    assert row.error_summary is None


@pytest.mark.parametrize(
    "error", [RuntimeError("Kaufland is down"), asyncio.CancelledError("stopped")]
)
def test_a_failed_or_cancelled_run_is_logged_failed_and_the_error_propagates(
    factory: sessionmaker[Session], account: Account, error: BaseException
) -> None:
    part = Counts()
    with (
        pytest.raises(type(error)) as raised,
        logged_run(
            factory,
            kind=SyncKind.RETURNS,
            account_id=account.id,
            storefront=Storefront.CZ,
            started=T0,
            summary=part,
            clock=lambda: T0,
        ),
    ):
        part.made = 1
        raise error
    assert raised.value is error
    (row,) = runs(factory)
    assert (row.outcome, row.created, row.finished_at) == (RunOutcome.FAILED, 1, T0)
    assert row.error_summary == f"{type(error).__name__}: {error}"


def test_a_run_whose_row_was_removed_meanwhile_ends_quietly(
    factory: sessionmaker[Session], account: Account
) -> None:
    with (
        logged_run(
            factory,
            kind=SyncKind.ORDERS,
            account_id=account.id,
            storefront=Storefront.DE,
            started=T0,
            summary=Counts(),
            clock=lambda: T0,
        ),
        transaction(factory) as session,
    ):
        session.execute(delete(SyncRun))
    assert runs(factory) == []
