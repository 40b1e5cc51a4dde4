"""The job ledger: every state change of a job, lease and schedule, as database statements.

The database is the truth about work (docs/adr/0003-jobs.md); the queue only carries "run job N"
messages. Each function here takes a synchronous :class:`~sqlalchemy.orm.Session` and leaves
committing to its caller, except :func:`claim`, which commits (a claim must be visible to other
workers before the job body starts).

Concurrency: every state change is a *conditional* ``UPDATE`` (``... WHERE state = ...``) whose
row count says whether it happened, so two workers, a worker and the scheduler's recovery, or two
scheduler processes never both win. On PostgreSQL a second writer waits for the first one's row
lock and then re-checks the condition; on SQLite writers take turns on the database lock. The
one-pending-job rule is a partial unique index, used with ``INSERT ... ON CONFLICT DO NOTHING``
(both backends), so a race to enqueue the same job ends with one row and no error.

Leases: ``job:{kind}:{account_id}`` is held by a job's run while it runs, so no two runs of the
same kind for the same account overlap even across machines. Its owner is the worker *and* the
job (``{worker}#{job_id}``): two threads of one worker that share a name still exclude each
other. A lease expires unless renewed; an expired lease is free for anyone.

Obligations of the caller: whenever a function says the job must be sent (:func:`enqueue`
returning ``created``, :func:`retry`, :func:`fail` returning ``retrying``, :func:`recover`), the
caller sends "run job N" to the queue after committing. A send that is lost anyway (a crash
between commit and send) is repaired by :func:`recover`, which re-sends pending jobs that have
been due for a while.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, Table, and_, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.jobs import (
    ALLOWED_INTERVALS,
    DEFAULT_INTERVALS,
    PENDING_STATES,
    PENDING_WHERE,
    Job,
    JobKind,
    JobSchedule,
    JobState,
    JobTrigger,
    Lease,
)

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "MAX_ERROR_LENGTH",
    "RESEND_AFTER",
    "SCHEDULER_LEASE",
    "WORKER_LOST",
    "Claim",
    "ClaimReason",
    "Enqueued",
    "JobError",
    "acquire_lease",
    "backoff_seconds",
    "claim",
    "complete",
    "counts_by_state",
    "drop",
    "enqueue",
    "ensure_schedules",
    "fail",
    "job_lease_name",
    "last_success",
    "list_jobs",
    "recover",
    "release_lease",
    "renew",
    "retry",
    "set_interval",
]

#: Name of the lease held by the one scheduler that leads.
SCHEDULER_LEASE = "scheduler"
#: Seconds before the first retry; each further failed attempt doubles it, up to the cap.
BACKOFF_BASE = 30.0
BACKOFF_CAP = 15 * 60.0
#: Jitter spreads retries of jobs that failed together (one outage) by +-20 %.
_JITTER = 0.2
#: Longest error text kept on a job (the rest of a huge traceback text is noise).
MAX_ERROR_LENGTH = 2000
#: A pending job due this long without a run is sent to the queue again (its message is lost).
RESEND_AFTER = 60.0
#: ``last_error`` of a job whose worker stopped renewing its lease.
WORKER_LOST = "worker lost (lease expired)"

ClaimReason = Literal["claimed", "gone", "not_pending", "not_due", "busy"]


class JobError(ValueError):
    """A request the ledger refuses (a job in the wrong state, an unknown interval...); the
    message names the job or value and says what is allowed."""


@dataclass(frozen=True)
class Enqueued:
    """The pending job for an account and kind; ``created`` when this call made it (the caller
    must then send it to the queue)."""

    job_id: int
    created: bool


@dataclass(frozen=True)
class Claim:
    """The outcome of :func:`claim`: the job (now ``running``), or None and why not.

    ``gone``: no such job; ``not_pending``: it is not queued or retrying (already running, done,
    failed, dropped, or another worker claimed it first); ``not_due``: its ``not_before`` (given
    here) is still ahead; ``busy``: another run of the same kind for the same account holds the
    lease (try again shortly; no attempt was counted).
    """

    job: Job | None
    reason: ClaimReason
    not_before: datetime | None = None

    @property
    def claimed(self) -> bool:
        return self.job is not None


def job_lease_name(kind: JobKind | str, account_id: int) -> str:
    """The lease that keeps runs of ``kind`` for one account from overlapping."""
    return f"job:{JobKind(kind).value}:{account_id}"


def _lease_owner(worker: str, job_id: int) -> str:
    return f"{worker}#{job_id}"


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _insert(session: Session, table: Table) -> Any:
    """The dialect's ``INSERT`` with ``ON CONFLICT`` (typed loosely: two unrelated classes)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database {name!r}: use SQLite or PostgreSQL")


def _kind(value: JobKind | str) -> JobKind:
    try:
        return JobKind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in JobKind)
        raise JobError(f"unknown job kind {value!r}; one of {allowed}") from None


def _state(value: JobState | str) -> JobState:
    try:
        return JobState(value)
    except ValueError:
        allowed = ", ".join(s.value for s in JobState)
        raise JobError(f"unknown job state {value!r}; one of {allowed}") from None


def _pending_job(session: Session, account_id: int, kind: JobKind) -> Job | None:
    return session.scalars(
        select(Job)
        .where(Job.account_id == account_id, Job.kind == kind, Job.state.in_(PENDING_STATES))
        .execution_options(populate_existing=True)
    ).one_or_none()


def _load(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id, populate_existing=True)


def _require(session: Session, job_id: int) -> Job:
    job = _load(session, job_id)
    if job is None:
        raise JobError(f"job {job_id} does not exist")
    return job


def _transition(session: Session, job_id: int, *conditions: Any, **values: Any) -> bool:
    """``UPDATE jobs SET values WHERE id = job_id AND conditions``; True when the row changed.
    In-memory objects of the session are brought up to date."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    return _rowcount(result) == 1


# --- enqueue ---------------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    account_id: int,
    kind: JobKind | str,
    trigger: JobTrigger | str,
    now: datetime,
    not_before: datetime | None = None,
    max_attempts: int = 5,
) -> Enqueued:
    """Queue ``kind`` for an account, due at ``not_before`` (default ``now``).

    When a pending job of the same account and kind exists, that one is returned instead
    (``created`` False) and its due time is moved to the earlier of the two: a push or a change
    arriving while a scheduled job waits makes the waiting job run sooner rather than adding a
    second one. A job that is *running* does not count: a new pending job may wait behind it
    (its changes may have come too late for the run in progress).
    """
    kind = _kind(kind)
    trigger = JobTrigger(trigger)
    due = now if not_before is None else not_before
    table = cast(Table, Job.__table__)
    # Three rounds cover the race "the pending job we collided with was claimed before we could
    # read it"; more would mean a claim every few microseconds, which does not happen.
    for _ in range(3):
        existing = _pending_job(session, account_id, kind)
        if existing is not None:
            _transition(
                session,
                existing.id,
                Job.state.in_(PENDING_STATES),
                Job.not_before > due,
                not_before=due,
            )
            return Enqueued(existing.id, created=False)
        stmt = (
            _insert(session, table)
            .values(
                kind=kind,
                account_id=account_id,
                trigger=trigger,
                state=JobState.QUEUED,
                attempts=0,
                max_attempts=max_attempts,
                enqueued_at=now,
                not_before=due,
                sent_at=now,
                counts={},
            )
            .on_conflict_do_nothing(
                index_elements=[table.c.account_id, table.c.kind], index_where=text(PENDING_WHERE)
            )
            .returning(table.c.id)
        )
        job_id = session.execute(stmt).scalar_one_or_none()
        if job_id is not None:
            return Enqueued(int(job_id), created=True)
    raise RuntimeError(
        f"could not queue {kind.value} for account {account_id}: too much contention"
    )


# --- running a job ---------------------------------------------------------------------------


def claim(
    session: Session, job_id: int, *, worker: str, now: datetime, lease_seconds: float
) -> Claim:
    """Start a run of a pending, due job: take its account-and-kind lease, mark it ``running``
    (one more attempt, ``started_at``, ``lease_until``, ``worker``) and **commit**.

    Both happen in one transaction or not at all, so of two workers claiming the same job, or two
    jobs of the same account and kind, exactly one wins. Use a session without other pending
    work: a refused claim rolls the session back.
    """
    until = now + timedelta(seconds=lease_seconds)
    # The job row is written first: on SQLite the transaction then holds the write lock from its
    # first statement, so it never tries to upgrade a stale read snapshot (which fails at once
    # instead of waiting its turn).
    taken = _transition(
        session,
        job_id,
        Job.state.in_(PENDING_STATES),
        Job.not_before <= now,
        state=JobState.RUNNING,
        attempts=Job.attempts + 1,
        started_at=now,
        finished_at=None,
        lease_until=until,
        worker=worker,
    )
    job = _load(session, job_id)
    if not taken:
        if job is None:
            refused = Claim(None, "gone")
        elif job.state not in PENDING_STATES:
            refused = Claim(None, "not_pending")
        else:
            refused = Claim(None, "not_due", not_before=job.not_before)
        session.rollback()
        return refused
    assert job is not None  # the row was just updated in this transaction
    lease = job_lease_name(job.kind, job.account_id)
    if not acquire_lease(
        session, lease, _lease_owner(worker, job_id), now=now, seconds=lease_seconds
    ):
        session.rollback()  # undoes the state change too
        return Claim(None, "busy")
    session.commit()
    return Claim(job, "claimed")


def renew(
    session: Session, job_id: int, *, worker: str, now: datetime, lease_seconds: float
) -> bool:
    """Extend the lease of a job ``worker`` is running; False when the job is no longer running
    by this worker or its lease was taken over (the run should stop: recovery gave it away)."""
    until = now + timedelta(seconds=lease_seconds)
    job = _load(session, job_id)
    if job is None:
        return False
    if not _transition(
        session, job_id, Job.state == JobState.RUNNING, Job.worker == worker, lease_until=until
    ):
        return False
    result = session.execute(
        update(Lease)
        .where(
            Lease.name == job_lease_name(job.kind, job.account_id),
            Lease.owner == _lease_owner(worker, job_id),
        )
        .values(expires_at=until)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def _release_job_lease(session: Session, job: Job) -> None:
    if job.worker is not None:
        release_lease(
            session, job_lease_name(job.kind, job.account_id), _lease_owner(job.worker, job.id)
        )


def _running(session: Session, job_id: int, worker: str | None) -> Job | None:
    """The job if it is running (by ``worker`` when given), else None."""
    job = _load(session, job_id)
    if job is None or job.state is not JobState.RUNNING:
        return None
    if worker is not None and job.worker != worker:
        return None
    return job


def _duration_ms(job: Job, now: datetime) -> int | None:
    if job.started_at is None:
        return None
    return max(0, int((now - job.started_at).total_seconds() * 1000))


def complete(
    session: Session,
    job_id: int,
    *,
    now: datetime,
    counts: Mapping[str, Any],
    worker: str | None = None,
) -> bool:
    """Record a successful run: ``done``, ``finished_at``, ``duration_ms``, ``counts``; the lease
    is released. Returns False (and changes nothing) when the job is not running (by ``worker``
    when given): recovery gave it to another run meanwhile, whose outcome counts instead."""
    job = _running(session, job_id, worker)
    if job is None:
        return False
    _release_job_lease(session, job)
    return _transition(
        session,
        job_id,
        Job.state == JobState.RUNNING,
        Job.worker == job.worker,
        state=JobState.DONE,
        finished_at=now,
        duration_ms=_duration_ms(job, now),
        counts=dict(counts),
        lease_until=None,
        last_error=None,
    )


def backoff_seconds(attempts: int, *, jitter: Callable[[], float] = random.random) -> float:
    """Delay before the next try after ``attempts`` failed runs: 30 s, 60 s, 120 s... capped at
    15 minutes, each +-20 % (``jitter`` returns a number in [0, 1))."""
    # The exponent is bounded so a huge attempt count cannot overflow a float.
    base = BACKOFF_BASE * 2.0 ** min(max(0, attempts - 1), 32)
    return min(base * (1 - _JITTER + 2 * _JITTER * jitter()), BACKOFF_CAP)


def _error_text(error: str) -> str:
    error = error.strip() or "error"
    if len(error) <= MAX_ERROR_LENGTH:
        return error
    return error[: MAX_ERROR_LENGTH - 1] + "…"


def fail(
    session: Session,
    job_id: int,
    *,
    now: datetime,
    error: str,
    worker: str | None = None,
    jitter: Callable[[], float] = random.random,
) -> JobState:
    """Record a failed run and return the job's state afterwards; the lease is released.

    * ``failed`` once ``attempts`` reached ``max_attempts`` (the failed list);
    * else ``retrying`` at ``now + backoff_seconds(attempts)`` (the caller sends it with that
      ETA);
    * ``dropped`` when another pending job of the same account and kind was queued while this
      one ran: that job does the same work, so it inherits this job's attempt count and error
      and waits out the backoff (a failing kind is not hammered by extra triggers);
    * unchanged when the job is not running (by ``worker`` when given) any more.

    ``error`` is stored as given (truncated to ``MAX_ERROR_LENGTH``); pass ``str(exc)``, which
    the client's errors keep free of secrets and signatures.
    """
    job = _running(session, job_id, worker)
    if job is None:
        current = _load(session, job_id)
        if current is None:
            raise JobError(f"job {job_id} does not exist")
        return current.state
    message = _error_text(error)
    running = (Job.state == JobState.RUNNING, Job.worker == job.worker)
    _release_job_lease(session, job)
    done_with = {"finished_at": now, "duration_ms": _duration_ms(job, now), "lease_until": None}
    if job.attempts >= job.max_attempts:
        if _transition(
            session, job_id, *running, state=JobState.FAILED, last_error=message, **done_with
        ):
            return JobState.FAILED
        return _require(session, job_id).state
    due = now + timedelta(seconds=backoff_seconds(job.attempts, jitter=jitter))
    other = _pending_job(session, job.account_id, job.kind)
    if other is not None:
        if not _transition(
            session,
            job_id,
            *running,
            state=JobState.DROPPED,
            last_error=f"{message} (superseded by job {other.id})",
            **done_with,
        ):
            return _require(session, job_id).state
        _transition(
            session,
            other.id,
            Job.state.in_(PENDING_STATES),
            attempts=max(other.attempts, job.attempts),
            last_error=message,
            not_before=max(other.not_before, due),
        )
        return JobState.DROPPED
    if not _transition(
        session,
        job_id,
        *running,
        state=JobState.RETRYING,
        not_before=due,
        sent_at=now,
        last_error=message,
        lease_until=None,
        duration_ms=done_with["duration_ms"],
    ):
        return _require(session, job_id).state
    return JobState.RETRYING


# --- the failed list -------------------------------------------------------------------------


def retry(session: Session, job_id: int, *, now: datetime) -> Enqueued:
    """Put a ``failed`` job back in the queue, due now, with a fresh set of attempts (its last
    error stays until the next run ends). When another job of the same account and kind is
    pending already, that one is made due now and returned instead, and the failed job is
    dropped (one pending job does the work). Send the returned job to the queue either way.

    Raises :class:`JobError` for a missing job or one that is not failed.
    """
    job = _require(session, job_id)
    if job.state is not JobState.FAILED:
        raise JobError(f"job {job_id} is {job.state.value}; only failed jobs can be retried")
    other = _pending_job(session, job.account_id, job.kind)
    if other is not None:
        _transition(
            session, job_id, Job.state == JobState.FAILED, state=JobState.DROPPED, finished_at=now
        )
        _transition(
            session,
            other.id,
            Job.state.in_(PENDING_STATES),
            not_before=min(other.not_before, now),
            sent_at=now,
        )
        return Enqueued(other.id, created=False)
    if not _transition(
        session,
        job_id,
        Job.state == JobState.FAILED,
        state=JobState.QUEUED,
        trigger=JobTrigger.MANUAL,
        attempts=0,
        not_before=now,
        enqueued_at=now,
        sent_at=now,
        started_at=None,
        finished_at=None,
        lease_until=None,
    ):
        raise JobError(f"job {job_id} changed while being retried; look again")
    return Enqueued(job_id, created=True)


def drop(session: Session, job_id: int, *, now: datetime) -> None:
    """Take a failed or pending job off the list for good (``dropped``).

    Raises :class:`JobError` for a missing job or one in another state (a running job cannot be
    dropped: it ends by itself; a finished one is history).
    """
    job = _require(session, job_id)
    droppable = (JobState.FAILED, *PENDING_STATES)
    if job.state not in droppable or not _transition(
        session, job_id, Job.state.in_(droppable), state=JobState.DROPPED, finished_at=now
    ):
        state = _require(session, job_id).state.value
        raise JobError(
            f"job {job_id} is {state}; only failed, queued or retrying jobs can be dropped"
        )


# --- recovery --------------------------------------------------------------------------------


def recover(
    session: Session, *, now: datetime, limit: int = 500, resend_after: float = RESEND_AFTER
) -> list[int]:
    """Repair what lost messages and killed workers leave behind; returns the ids of pending
    jobs to send to the queue now (ordered by ``not_before``, at most ``limit``).

    1. A ``running`` job whose lease ran out lost its worker: it becomes ``retrying``, due now,
       with ``last_error`` saying so (its trigger is kept), or ``failed`` when its attempts are
       used up. If another job of the same account and kind is pending already, that one takes
       over (it inherits the attempt count) and the lost one is dropped.
    2. Every pending job that has been due for ``resend_after`` seconds, and was not sent in
       that time either, is re-sent: its message was lost (a worker killed between taking the
       message and claiming the job, a crash between commit and send).

    Re-sending is harmless (a duplicate message finds the job claimed or done), and each job
    returned is stamped ``sent_at = now`` so the next call does not return it again at once.
    """
    lost = session.scalars(
        select(Job)
        .where(Job.state == JobState.RUNNING, Job.lease_until < now)
        .order_by(Job.lease_until)
        .limit(limit)
        .execution_options(populate_existing=True)
    ).all()
    send: set[int] = set()
    for job in lost:
        expired = (Job.state == JobState.RUNNING, Job.lease_until < now)
        _release_job_lease(session, job)
        ended = {"finished_at": now, "lease_until": None}
        if job.attempts >= job.max_attempts:
            _transition(
                session, job.id, *expired, state=JobState.FAILED, last_error=WORKER_LOST, **ended
            )
            continue
        other = _pending_job(session, job.account_id, job.kind)
        if other is not None:
            if _transition(
                session,
                job.id,
                *expired,
                state=JobState.DROPPED,
                last_error=f"{WORKER_LOST}; superseded by job {other.id}",
                **ended,
            ):
                _transition(
                    session,
                    other.id,
                    Job.state.in_(PENDING_STATES),
                    attempts=max(other.attempts, job.attempts),
                    not_before=min(other.not_before, now),
                )
                send.add(other.id)
            continue
        if _transition(
            session,
            job.id,
            *expired,
            state=JobState.RETRYING,
            not_before=now,
            lease_until=None,
            last_error=f"{WORKER_LOST}; retrying",
        ):
            send.add(job.id)
    stale = now - timedelta(seconds=resend_after)
    rows = session.execute(
        select(Job.id, Job.not_before)
        .where(
            Job.state.in_(PENDING_STATES),
            Job.not_before <= now,
            or_(
                Job.id.in_(send),
                and_(
                    Job.not_before <= stale,
                    or_(Job.sent_at.is_(None), Job.sent_at <= stale),
                ),
            ),
        )
        .order_by(Job.not_before, Job.id)
        .limit(limit)
    ).all()
    ids = [int(row.id) for row in rows]
    if ids:
        session.execute(
            update(Job)
            .where(Job.id.in_(ids))
            .values(sent_at=now)
            .execution_options(synchronize_session="fetch")
        )
    return ids


# --- leases ----------------------------------------------------------------------------------


def acquire_lease(
    session: Session, name: str, owner: str, *, now: datetime, seconds: float
) -> bool:
    """Take or renew the lease ``name`` for ``owner`` until ``now + seconds``; False when another
    owner holds it and it has not expired.

    One ``UPDATE`` takes it when it exists and is expired or ours; otherwise one ``INSERT ...
    ON CONFLICT DO NOTHING`` creates it. Each reports whether it wrote, so concurrent takers
    (threads, processes, machines) never both succeed.
    """
    until = now + timedelta(seconds=seconds)
    taken = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.expires_at < now, Lease.owner == owner))
        .values(owner=owner, expires_at=until)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(taken) == 1:
        return True
    table = cast(Table, Lease.__table__)
    # RETURNING rather than the row count: psycopg reports no count for an INSERT whose row
    # may have been skipped.
    created = session.execute(
        _insert(session, table)
        .values(name=name, owner=owner, expires_at=until)
        .on_conflict_do_nothing(index_elements=[table.c.name])
        .returning(table.c.name)
    )
    return created.scalar_one_or_none() is not None


def release_lease(session: Session, name: str, owner: str) -> bool:
    """Give the lease up if ``owner`` holds it (expired or not); True when it did."""
    result = session.execute(
        delete(Lease)
        .where(Lease.name == name, Lease.owner == owner)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


# --- queries for the command line, the web and metrics --------------------------------------


def list_jobs(
    session: Session,
    *,
    states: Collection[JobState | str] | None = None,
    account_id: int | None = None,
    kind: JobKind | str | None = None,
    limit: int = 100,
) -> list[Job]:
    """Jobs, newest first, optionally only in ``states``, of one account, of one kind."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if states is not None:
        query = query.where(Job.state.in_([_state(s) for s in states]))
    if account_id is not None:
        query = query.where(Job.account_id == account_id)
    if kind is not None:
        query = query.where(Job.kind == _kind(kind))
    return list(session.scalars(query))


def counts_by_state(session: Session) -> dict[JobState, int]:
    """How many jobs are in each state (every state present, zeros included)."""
    counts = dict.fromkeys(JobState, 0)
    for state, count in session.execute(select(Job.state, func.count()).group_by(Job.state)):
        counts[JobState(state)] = int(count)
    return counts


def last_success(session: Session) -> dict[tuple[int, JobKind], datetime]:
    """When the newest successful run of each kind ended, per account (for sync-lag metrics)."""
    rows = session.execute(
        select(Job.account_id, Job.kind, func.max(Job.finished_at))
        .where(Job.state == JobState.DONE, Job.finished_at.is_not(None))
        .group_by(Job.account_id, Job.kind)
    )
    return {
        (int(account_id), JobKind(kind)): finished
        for account_id, kind, finished in rows
        if finished is not None
    }


# --- schedules -------------------------------------------------------------------------------


def ensure_schedules(session: Session, account_id: int, *, now: datetime) -> list[JobSchedule]:
    """Create the account's missing schedules (``DEFAULT_INTERVALS``, due now) and return all of
    them, in ``JobKind`` order. Safe to call concurrently: existing rows are never touched."""
    table = cast(Table, JobSchedule.__table__)
    have = set(
        session.scalars(select(JobSchedule.kind).where(JobSchedule.account_id == account_id))
    )
    missing = [kind for kind in JobKind if kind not in have]
    if missing:
        session.execute(
            _insert(session, table).on_conflict_do_nothing(
                index_elements=[table.c.account_id, table.c.kind]
            ),
            [
                {
                    "account_id": account_id,
                    "kind": kind,
                    "interval_minutes": DEFAULT_INTERVALS[kind],
                    "next_due_at": now,
                }
                for kind in missing
            ],
        )
    order = {kind: i for i, kind in enumerate(JobKind)}
    schedules = session.scalars(
        select(JobSchedule)
        .where(JobSchedule.account_id == account_id)
        .execution_options(populate_existing=True)
    ).all()
    return sorted(schedules, key=lambda s: order[s.kind])


def set_interval(
    session: Session, account_id: int, kind: JobKind | str, minutes: int, *, now: datetime
) -> JobSchedule:
    """Set how often ``kind`` runs for an account (minutes; 0 = off) and return the schedule.

    A shorter interval, or switching a kind on, takes effect at once: the next run is due no
    later than ``now + minutes``. Raises :class:`JobError` for an interval other than 0, 5, 15
    or 60, or an account that does not exist.
    """
    kind = _kind(kind)
    if minutes not in ALLOWED_INTERVALS:
        allowed = ", ".join(str(m) for m in ALLOWED_INTERVALS)
        raise JobError(
            f"interval {minutes!r} minutes is not allowed; choose one of {allowed} (0 = off)"
        )
    if session.get(Account, account_id) is None:
        raise JobError(f"account {account_id} does not exist")
    schedule = next(s for s in ensure_schedules(session, account_id, now=now) if s.kind is kind)
    schedule.interval_minutes = minutes
    if minutes:
        schedule.next_due_at = min(schedule.next_due_at, now + timedelta(minutes=minutes))
    session.flush()
    return schedule
