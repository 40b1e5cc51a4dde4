"""What every importer does the same way: summaries, conflict redo, cursors and the sync log.

* :class:`ImportSummary` — the base of the importers' summaries: a dataclass of counters (``int``),
  SKU sets and SKU lists that adds up field by field (:meth:`~ImportSummary.add`) and turns into
  JSON-ready data (:meth:`~ImportSummary.as_dict`, fields in declaration order, sets sorted).
  Each subclass names the three fields the sync log records (:attr:`~ImportSummary.RUN_COUNTS`).
* :func:`redone` / :func:`write_counted` — one transaction, rolled back and run again from the
  start when a concurrent run got in the way (:func:`is_conflict`), at most :data:`ATTEMPTS`
  times. This is how the importers stay exactly-once under concurrent runs: rows are keyed by
  Kaufland's ids (unique constraints), a batch looks its rows up before inserting them, and the
  run that loses a race on a key redoes its batch, which then finds the winner's rows.
* :class:`Cursor` — the forward-only bookmark (:class:`SyncCursor`) of one importer, account and
  storefront: where the next read starts (:data:`OVERLAP` before the position) and how it
  moves (only forward, only after a storefront's whole read succeeded: the caller's job).
* :func:`logged_run` — one :class:`SyncRun` row per storefront and run: ``running`` when it
  starts, ``ok`` or ``failed`` (with the error) when it ends, with the summary's counts. A process
  killed outright leaves it ``running``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.orders import SyncCursor
from kaufland_sync.store.models.sync import RunOutcome, SyncKind, SyncRun

__all__ = [
    "ATTEMPTS",
    "OVERLAP",
    "Cursor",
    "ImportSummary",
    "is_conflict",
    "logged_run",
    "redone",
    "write_counted",
]

#: Read this much before a cursor: a record Kaufland stamped slightly before our clock said the
#: last run started is still read (clock skew). Reading a record again is harmless (upserts).
OVERLAP = timedelta(minutes=5)
#: A transaction that collided with a concurrent run is run this many times before giving up.
ATTEMPTS = 5
#: PostgreSQL SQLSTATEs of a transaction that lost to a concurrent one and may simply be redone:
#: serialization_failure and deadlock_detected.
_PG_RETRYABLE = frozenset({"40001", "40P01"})
#: Longest error text kept in the sync log.
_ERROR_LENGTH = 2000

T = TypeVar("T")
S = TypeVar("S", bound="ImportSummary")


@dataclass
class ImportSummary:
    """Counts of one import call, over all its storefronts.

    Subclasses are dataclasses whose fields are all ``int`` (counters), ``set[str]`` or
    ``list[str]`` (SKUs), every one with a default, so that ``type(summary)()`` is an empty
    summary."""

    #: The fields the sync log records as its ``created``, ``updated`` and ``unchanged``.
    RUN_COUNTS: ClassVar[tuple[str, str, str]]

    def add(self, other: Self) -> None:
        """Add ``other`` into this summary: counters summed, sets joined, lists extended."""
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, set):
                mine |= theirs
            elif isinstance(mine, list):
                mine.extend(theirs)
            else:
                setattr(self, f.name, mine + theirs)

    def as_dict(self) -> dict[str, Any]:
        """The fields in declaration order; sets as sorted lists, lists copied."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, set):
                value = sorted(value)
            elif isinstance(value, list):
                value = list(value)
            out[f.name] = value
        return out

    def run_counts(self) -> tuple[int, int, int]:
        """``(created, updated, unchanged)`` for the sync log."""
        created, updated, unchanged = (int(getattr(self, name)) for name in self.RUN_COUNTS)
        return created, updated, unchanged


def is_conflict(error: BaseException) -> bool:
    """Whether ``error`` means a concurrent run got in the way, so the transaction may be redone:
    a unique key another run filled first (:class:`IntegrityError`), SQLite's "database is
    locked" or "table is locked" after its busy timeout, or PostgreSQL's serialization failure
    or deadlock. Anything else (a lost connection, a missing table) is not."""
    if isinstance(error, IntegrityError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.orig
    name = getattr(cause, "sqlite_errorname", None)
    if isinstance(name, str):  # sqlite3 (Python 3.11+): SQLITE_BUSY, SQLITE_LOCKED and variants
        return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    return getattr(cause, "sqlstate", None) in _PG_RETRYABLE


def redone(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction and return its result once committed.

    When the transaction fails with a conflict (:func:`is_conflict`) it is rolled back and
    ``work`` runs again, from the start and in a new session, up to :data:`ATTEMPTS` times in
    all; the last conflict, or any other error, propagates. ``work`` must therefore read what it
    needs inside the transaction and keep no effects outside it (count into a fresh object, see
    :func:`write_counted`)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction(factory) as session:
                return work(session)
        except (IntegrityError, OperationalError) as error:
            if attempt == ATTEMPTS or not is_conflict(error):
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover


def write_counted(
    factory: sessionmaker[Session], summary: S, work: Callable[[Session, S], None]
) -> None:
    """:func:`redone` for a batch that counts what it does: each attempt counts into an empty
    summary of ``summary``'s type, and only the attempt that committed is added to ``summary``."""

    def attempt(session: Session) -> S:
        scratch = type(summary)()
        work(session, scratch)
        return scratch

    summary.add(redone(factory, attempt))


@dataclass(frozen=True)
class Cursor:
    """The bookmark of importer ``kind`` for one account and storefront: every change up to its
    position has been read. It never moves backwards; it does not exist before the first
    complete read."""

    kind: str
    account_id: int
    storefront: Storefront

    def _row(self, session: Session) -> SyncCursor | None:
        return session.scalar(
            select(SyncCursor).where(
                SyncCursor.account_id == self.account_id,
                SyncCursor.storefront == self.storefront,
                SyncCursor.kind == self.kind,
            )
        )

    def position(self, factory: sessionmaker[Session]) -> datetime | None:
        """The stored position, or None before the first complete read."""
        with factory() as session:
            row = self._row(session)
            return None if row is None else row.position

    def read_from(
        self, factory: sessionmaker[Session], overlap: timedelta = OVERLAP
    ) -> datetime | None:
        """Where the next incremental read starts: ``overlap`` before the position (clock
        skew), or None (read everything) before the first complete read."""
        position = self.position(factory)
        return None if position is None else position - overlap

    def advance(self, factory: sessionmaker[Session], to: datetime) -> None:
        """Move the position to ``to`` if that is later (created at ``to`` when missing), in its
        own transaction, redone when a concurrent run created the row first."""

        def move(session: Session) -> None:
            row = self._row(session)
            if row is None:
                session.add(
                    SyncCursor(
                        account_id=self.account_id,
                        storefront=self.storefront,
                        kind=self.kind,
                        position=to,
                    )
                )
            elif to > row.position:
                row.position = to

        redone(factory, move)


@contextlib.contextmanager
def logged_run(
    factory: sessionmaker[Session],
    *,
    kind: SyncKind,
    account_id: int,
    storefront: Storefront,
    started: datetime,
    summary: ImportSummary,
    clock: Callable[[], datetime],
) -> Iterator[int]:
    """One storefront's import as a :class:`SyncRun` row; yields the row's id.

    The row is committed ``running`` (started at ``started``) on entry. When the block ends it
    gets ``finished_at = clock()``, ``summary``'s :meth:`~ImportSummary.run_counts` as read at
    that moment, and the outcome: ``ok``, or ``failed`` with the error's type and message when
    the block raised (anything, cancellation included). The error then propagates unchanged; a
    store that fails while recording it does not hide it. A row deleted meanwhile (its account
    was removed) is left alone."""
    with transaction(factory) as session:
        row = SyncRun(
            kind=kind,
            account_id=account_id,
            storefront=storefront,
            started_at=started,
            outcome=RunOutcome.RUNNING,
        )
        session.add(row)
        session.flush()
        run_id = row.id
    try:
        yield run_id
    except BaseException as error:
        with contextlib.suppress(SQLAlchemyError):
            _finish(factory, run_id, summary, clock(), error)
        raise
    _finish(factory, run_id, summary, clock(), None)


def _finish(
    factory: sessionmaker[Session],
    run_id: int,
    summary: ImportSummary,
    finished: datetime,
    error: BaseException | None,
) -> None:
    with transaction(factory) as session:
        row = session.get(SyncRun, run_id)
        if row is None:
            return
        row.finished_at = finished
        row.created, row.updated, row.unchanged = summary.run_counts()
        if error is None:
            row.outcome = RunOutcome.OK
        else:
            row.outcome = RunOutcome.FAILED
            row.error_summary = f"{type(error).__name__}: {error}"[:_ERROR_LENGTH]
