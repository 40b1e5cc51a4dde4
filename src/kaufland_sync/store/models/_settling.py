"""What the tables kept true in the writing transaction share (``rollup`` for orders and
customer chains, ``job_rollup`` for jobs; see docs/adr/0004): a per-session record of what a
transaction wrote, settled just before it commits and forgotten when it ends, and the small
readers of what the session's events hand over."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any, Generic, TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction

from kaufland_sync.store.models._days import day_runs

__all__ = ["Marks", "flushed_values", "in_day_runs", "statement_rows"]

T = TypeVar("T")


class Marks(Generic[T]):
    """What each session wrote since it last settled, kept in ``session.info[key]``.

    ``settle`` runs before every commit (it takes the marks with :meth:`take` and brings its
    table up to date in the same transaction). When the outermost transaction ends the marks are
    dropped: committed, they were settled; rolled back, their writes are gone. A savepoint's
    end keeps them (the outer transaction's writes are still to be settled, and settling a
    key too many is harmless)."""

    def __init__(self, key: str, kind: type[T], settle: Callable[[Session], None]) -> None:
        self.key = key
        self.kind = kind
        event.listen(Session, "before_commit", settle)
        event.listen(Session, "after_transaction_end", self._forget)

    def of(self, session: Session) -> T:
        """The session's marks, new ones when it has none."""
        found = self.peek(session)
        if found is None:
            found = self.kind()
            session.info[self.key] = found
        return found

    def peek(self, session: Session) -> T | None:
        found = session.info.get(self.key)
        return found if isinstance(found, self.kind) else None

    def take(self, session: Session) -> T | None:
        """The session's marks, removed from it (None when it has none)."""
        found = self.peek(session)
        session.info.pop(self.key, None)
        return found

    def _forget(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            session.info.pop(self.key, None)


def statement_rows(parameters: Any) -> list[Mapping[str, Any]]:
    """The rows of a statement's parameters (one mapping, a list of them, or none)."""
    if isinstance(parameters, Mapping):
        return [parameters]
    if isinstance(parameters, list):
        return parameters
    return []


def flushed_values(obj: object, name: str) -> list[Any]:
    """Every value attribute ``name`` had in this flush (old and new) that is known without
    loading it."""
    state = inspect(obj)
    history = state.attrs[name].history
    known = [*history.added, *history.unchanged, *history.deleted]
    if not known and name in state.dict:
        known = [state.dict[name]]
    return known


def in_day_runs(
    keys: Iterable[tuple[int, date]], recompute: Callable[[int, date, date], None]
) -> None:
    """Call ``recompute(account, first, last)`` once per run of consecutive days of each
    account among ``keys``."""
    days_of: dict[int, list[date]] = {}
    for account_id, key_day in sorted(set(keys)):
        days_of.setdefault(account_id, []).append(key_day)
    for account_id, days in days_of.items():
        for first, last in day_runs(days):
            recompute(account_id, first, last)
