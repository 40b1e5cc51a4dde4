"""The daily job rollup: how many jobs finished per UTC day, account and state.

The dashboard's sync health counts the jobs that finished in a period as ``done`` and as
``failed``; a year is some hundred thousand jobs on a busy store. :class:`JobStatsDaily` holds
one row per UTC day of ``finished_at``, account and state with the number of jobs, so a year
is a few thousand rows. Jobs without ``finished_at`` (queued, retrying, running) have no row.

**How it stays true.** As with the order rollup (:mod:`kaufland_sync.store.models.rollup`),
nothing is incremented: the session records which jobs a transaction touched and, just before
commit, recomputes every affected (account, day) from ``jobs`` in that same transaction
(:func:`settle_jobs`). The job ledger (:mod:`kaufland_sync.jobs.ledger`) writes with
``INSERT`` and conditional ``UPDATE`` statements, so the statements are what is watched:

* an ``UPDATE`` that may move a count (it sets ``state``, ``finished_at`` or ``account_id``)
  first reads the (id, account, finish day) of the rows its ``WHERE`` matches — their *old*
  keys, e.g. the day a failed job was counted on before a retry clears it — and the ids are
  resolved to their *new* keys at settle time;
* an ``INSERT`` that gives ``finished_at`` records the (account, day) it names (the ledger's
  inserts never do: a new job is pending);
* flushed :class:`~kaufland_sync.store.models.jobs.Job` objects record their old and new keys;
* a ``DELETE`` of jobs, or anything that cannot be told, recomputes every account.

The read of the old days cannot go stale: on PostgreSQL it locks the rows it reads
(``FOR UPDATE``, as the statement itself would); on SQLite it may run before the transaction
takes the write lock, but every ledger statement that moves a count also moves the job out
of the states its condition matches, and the only changes that keep a job matching another
statement's condition (back to ``queued``/``retrying``) leave it without a finish day.

On PostgreSQL each (account, day) is recomputed under a transaction-level advisory lock (a
one-number key, a key space apart from the order rollup's two-number keys) taken in sorted
order; the recompute reads after the lock is granted, so the last committer sees every earlier
commit. On SQLite the writing transaction holds the database's write lock.

Bulk loads on a raw connection call :func:`rebuild_job_stats`; migration
``0012_job_stats_rollup`` fills the table from the jobs that existed before it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    cast,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    UOWTransaction,
    mapped_column,
)
from sqlalchemy.sql.elements import ColumnElement

from kaufland_sync.store.base import Base
from kaufland_sync.store.models._days import as_date, midnight
from kaufland_sync.store.models._settling import Marks, in_day_runs, statement_rows
from kaufland_sync.store.models.jobs import Job, JobState
from kaufland_sync.store.types import StrEnumType

__all__ = ["JobStatsDaily", "day_of_job", "rebuild_job_stats", "settle_jobs"]

_CHUNK = 500
#: Columns whose change can move a job between rollup rows.
_RELEVANT = frozenset({"state", "finished_at", "account_id", "id"})
#: High bits of the advisory lock key (``"jb"``), so the keys stay clear of other users'.
_LOCK_BASE = 0x6A62 << 44


class JobStatsDaily(Base):
    """How many jobs of one account finished on one UTC day in one state (module doc)."""

    __tablename__ = "job_stats_daily"
    __table_args__ = (
        # The dashboard filtered to one account reads its days (the primary key leads with day).
        Index("ix_job_stats_daily_account_id_day", "account_id", "day"),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[JobState] = mapped_column(StrEnumType(JobState, 16), primary_key=True)
    jobs: Mapped[int] = mapped_column(Integer, default=0)


def day_of_job(dialect: str) -> ColumnElement[Any]:
    """SQL: the UTC day a job finished (SQLite keeps UTC text, whose prefix is the date as a
    ``Date`` is stored; PostgreSQL converts its ``timestamptz`` in UTC)."""
    if dialect == "sqlite":
        return func.substr(Job.finished_at, 1, 10)
    if dialect == "postgresql":
        return cast(func.timezone("UTC", Job.finished_at), Date)
    raise NotImplementedError(f"no job day for the {dialect} dialect")


def _recompute(
    bind: Session | Connection, dialect: str, account_id: int | None, first: date, last: date
) -> None:
    """Replace the rows of ``[first, last]`` (one account, or all) by counts from ``jobs``."""
    gone = delete(JobStatsDaily).where(JobStatsDaily.day >= first, JobStatsDaily.day <= last)
    where = [
        Job.finished_at >= midnight(first),
        Job.finished_at < midnight(last + timedelta(days=1)),
    ]
    if account_id is not None:
        gone = gone.where(JobStatsDaily.account_id == account_id)
        where.append(Job.account_id == account_id)
    bind.execute(gone)
    day = day_of_job(dialect)
    counted = (
        select(day, Job.account_id, Job.state, func.count())
        .where(*where)
        .group_by(day, Job.account_id, Job.state)
    )
    bind.execute(insert(JobStatsDaily).from_select(["day", "account_id", "state", "jobs"], counted))


def rebuild_job_stats(bind: Session | Connection) -> None:
    """Recompute the whole rollup from ``jobs`` (after bulk loads that bypass the session), in a
    transaction of its own; on PostgreSQL the table is locked against concurrent recomputes."""
    dialect = bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name
    if dialect == "postgresql":
        bind.execute(text("LOCK TABLE job_stats_daily IN SHARE ROW EXCLUSIVE MODE"))
    bind.execute(delete(JobStatsDaily))
    span = bind.execute(select(func.min(Job.finished_at), func.max(Job.finished_at))).one()
    if span[0] is None:
        return
    _recompute(bind, dialect, None, as_date(span[0]), as_date(span[1]))


# --- what a transaction touched ------------------------------------------------------------


class _Touched:
    """Job ids (new keys resolved at settle), (account, day) keys, and whether everything
    must be recomputed (a write whose jobs could not be told)."""

    def __init__(self) -> None:
        self.job_ids: set[int] = set()
        self.keys: set[tuple[int, date]] = set()
        self.everything = False

    def __bool__(self) -> bool:
        return bool(self.job_ids or self.keys or self.everything)


_MARKS = Marks("kaufland_sync.job_stats", _Touched, lambda session: settle_jobs(session))


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    """Record flushed jobs: their ids (new keys, resolved at settle) and the old keys their
    change history still holds."""
    touched = _MARKS.of(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, Job):
            continue
        state = inspect(obj)
        histories = {name: state.attrs[name].history for name in _RELEVANT - {"id"}}
        if obj in session.dirty and not any(h.has_changes() for h in histories.values()):
            continue  # e.g. only the counts or the lease changed: no row moves
        if obj.id is not None:
            touched.job_ids.add(obj.id)
        if obj in session.new:
            continue  # no old key
        accounts = [
            a
            for a in (*histories["account_id"].non_added(), *histories["account_id"].added)
            if a is not None
        ]
        if not accounts and "account_id" in state.dict:
            accounts = [state.dict["account_id"]]
        finished = histories["finished_at"]
        old = list(finished.non_added())
        if not old and "finished_at" in state.dict and not finished.added:
            old = [state.dict["finished_at"]]
        if not accounts:
            touched.everything = True
        elif not old:
            # The finish time before this flush was never loaded: it cannot be told.
            for account_id in accounts:
                touched.keys.update((int(account_id), d) for d in _stored_days(session, account_id))
        else:
            touched.keys.update(
                (int(a), as_date(m)) for a in accounts for m in old if m is not None
            )


def _stored_days(session: Session, account_id: int) -> list[date]:
    return list(
        session.scalars(
            select(JobStatsDaily.day).where(JobStatsDaily.account_id == account_id).distinct()
        )
    )


@event.listens_for(Session, "do_orm_execute")
def _on_statement(state: ORMExecuteState) -> None:
    """Record what ``INSERT``/``UPDATE``/``DELETE`` statements on ``jobs`` may move (module
    doc). Runs before the statement, so an ``UPDATE``'s matching rows still hold their old
    finish day."""
    statement = state.statement
    table = getattr(statement, "table", None)
    if table is None or table.name != "jobs":
        return
    touched = _MARKS.of(state.session)
    rows = statement_rows(state.parameters)
    values = getattr(statement, "_values", None) or {}
    given = {str(getattr(key, "key", key)): value for key, value in values.items()}
    names = set(given) | {key for row in rows for key in row}
    if state.is_insert:
        if "finished_at" not in names:
            return  # a job inserted without a finish time is pending: no row to move
        for row in [given, *rows] if given else rows:
            finished, account_id = row.get("finished_at"), row.get("account_id")
            if finished is None:
                continue
            if isinstance(finished, datetime | date) and isinstance(account_id, int):
                touched.keys.add((account_id, as_date(finished)))
            else:
                touched.everything = True
        return
    if state.is_update:
        if not names & _RELEVANT:
            return
        session = state.session
        dialect = session.get_bind().dialect.name
        query = select(Job.id, Job.account_id, day_of_job(dialect))
        if isinstance(state.parameters, list):  # a bulk update by primary key
            ids = [row.get("id") for row in rows]
            if any(i is None for i in ids):
                touched.everything = True
                return
            query = query.where(Job.id.in_(ids))
        elif (where := getattr(statement, "whereclause", None)) is not None:
            query = query.where(where)
        if dialect == "postgresql":
            # Lock what was read, so no other transaction changes a matched row's finish day
            # between this read and the statement (the statement would lock them anyway).
            query = query.with_for_update()
        for job_id, account_id, day in session.execute(query):
            touched.job_ids.add(int(job_id))
            if day is not None:
                touched.keys.add((int(account_id), as_date(day)))
        return
    touched.everything = True


def settle_jobs(session: Session) -> None:
    """Bring the job rollup up to date with what this session wrote, in its transaction.

    Called before every commit; the dashboard calls it before reading, so a session sees its
    own uncommitted job changes in the rollup too."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    found = _MARKS.take(session)
    if not found:
        return
    dialect = session.get_bind().dialect.name
    keys = set(found.keys)
    day = day_of_job(dialect)
    accounts: set[int] = set()
    if found.everything:
        accounts.update(session.scalars(select(Job.account_id).distinct()))
        accounts.update(session.scalars(select(JobStatsDaily.account_id).distinct()))
    ids = sorted(found.job_ids)
    for n in range(0, len(ids), _CHUNK):
        for account_id, value in session.execute(
            select(Job.account_id, day)
            .where(Job.id.in_(ids[n : n + _CHUNK]), Job.finished_at.is_not(None))
            .distinct()
        ):
            keys.add((int(account_id), as_date(value)))
    for account_id in accounts:
        for value in session.scalars(
            select(day).where(Job.account_id == account_id, Job.finished_at.is_not(None)).distinct()
        ):
            keys.add((account_id, as_date(value)))
        keys.update((account_id, stored) for stored in _stored_days(session, account_id))
    if not keys:
        return
    ordered = sorted(keys)
    if dialect == "postgresql":
        for account_id, key_day in ordered:
            session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"),
                {"key": _LOCK_BASE + (account_id << 22) + key_day.toordinal()},
            )
    in_day_runs(
        ordered,
        lambda account_id, first, last: _recompute(session, dialect, account_id, first, last),
    )
