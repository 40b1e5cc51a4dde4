"""The job ledger on SQLite and PostgreSQL: one pending job per account and kind, exclusive
claims, leases that expire, backoff, the failed list, recovery and schedules."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.jobs import ledger
from kaufland_sync.jobs.ledger import JobError
from kaufland_sync.store.models.jobs import (
    DEFAULT_INTERVALS,
    Job,
    JobKind,
    JobSchedule,
    JobState,
    JobTrigger,
    Lease,
)
from tests.builders import add_account
from tests.jobs.conftest import START

T = TypeVar("T")
LEASE = 30.0
ORDERS = JobKind.ORDERS


def in_session(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run ``work`` in a session and commit."""
    with factory() as session:
        result = work(session)
        session.commit()
        return result


def queue(
    factory: sessionmaker[Session],
    account_id: int,
    kind: JobKind = ORDERS,
    *,
    now: datetime = START,
    not_before: datetime | None = None,
    trigger: JobTrigger = JobTrigger.SCHEDULE,
) -> ledger.Enqueued:
    return in_session(
        factory,
        lambda s: ledger.enqueue(
            s, account_id=account_id, kind=kind, trigger=trigger, now=now, not_before=not_before
        ),
    )


def claim(
    factory: sessionmaker[Session], job_id: int, *, worker: str = "w1", now: datetime = START
) -> ledger.Claim:
    with factory() as session:
        return ledger.claim(session, job_id, worker=worker, now=now, lease_seconds=LEASE)


def job(factory: sessionmaker[Session], job_id: int) -> Job:
    with factory() as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def later(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


# --- enqueue ---------------------------------------------------------------------------------


def test_the_same_job_is_never_queued_twice(
    factory: sessionmaker[Session], account_id: int
) -> None:
    first = queue(factory, account_id, not_before=later(60))
    assert first.created
    # A push arriving meanwhile: same job, made due sooner (never later).
    again = queue(factory, account_id, now=later(1), trigger=JobTrigger.PUSH)
    assert again == ledger.Enqueued(first.job_id, created=False)
    assert job(factory, first.job_id).not_before == later(1)
    queue(factory, account_id, now=later(2), not_before=later(600))
    assert job(factory, first.job_id).not_before == later(1)
    # Another kind or another account is another job.
    other_kind = queue(factory, account_id, JobKind.STOCK)
    other_account = queue(factory, add_account(factory, "second").id)
    assert other_kind.created and other_account.created
    assert len({first.job_id, other_kind.job_id, other_account.job_id}) == 3
    stored = job(factory, first.job_id)
    assert (stored.state, stored.trigger, stored.attempts, stored.max_attempts) == (
        JobState.QUEUED,
        JobTrigger.SCHEDULE,
        0,
        5,
    )
    assert stored.enqueued_at == START and stored.counts == {}


def test_a_new_job_may_wait_behind_a_running_one(
    factory: sessionmaker[Session], account_id: int
) -> None:
    first = queue(factory, account_id)
    assert claim(factory, first.job_id).claimed
    second = queue(factory, account_id, now=later(1))
    assert second.created and second.job_id != first.job_id
    assert queue(factory, account_id, now=later(2)) == ledger.Enqueued(second.job_id, False)


def test_enqueue_names_an_unknown_kind(factory: sessionmaker[Session], account_id: int) -> None:
    with factory() as session, pytest.raises(JobError, match="unknown job kind 'coffee'"):
        ledger.enqueue(session, account_id=account_id, kind="coffee", trigger="manual", now=START)


# --- claims and leases -----------------------------------------------------------------------


def test_claim_starts_the_run_and_takes_the_accounts_lease(
    factory: sessionmaker[Session], account_id: int
) -> None:
    queued = queue(factory, account_id)
    result = claim(factory, queued.job_id, now=later(5))
    assert result.reason == "claimed" and result.job is not None
    assert (result.job.state, result.job.attempts) == (JobState.RUNNING, 1)
    stored = job(factory, queued.job_id)  # committed: visible from another session
    assert stored.state is JobState.RUNNING
    assert (stored.started_at, stored.lease_until, stored.worker) == (later(5), later(35), "w1")
    with factory() as session:
        lease = session.get(Lease, ledger.job_lease_name(ORDERS, account_id))
        assert lease is not None and lease.expires_at == later(35)


def test_claim_says_why_it_did_not_run(factory: sessionmaker[Session], account_id: int) -> None:
    assert claim(factory, 999_999) == ledger.Claim(None, "gone")
    queued = queue(factory, account_id, not_before=later(60))
    assert claim(factory, queued.job_id) == ledger.Claim(None, "not_due", not_before=later(60))
    assert job(factory, queued.job_id).attempts == 0
    assert claim(factory, queued.job_id, now=later(60)).claimed
    # A duplicate message for a job that already runs.
    assert claim(factory, queued.job_id, worker="w2", now=later(61)).reason == "not_pending"
    assert job(factory, queued.job_id).attempts == 1


def test_two_runs_of_one_account_and_kind_never_overlap(
    factory: sessionmaker[Session], account_id: int
) -> None:
    first = queue(factory, account_id)
    assert claim(factory, first.job_id).claimed
    second = queue(factory, account_id, now=later(1))
    # The second job waits for the lease without spending an attempt, on any worker.
    assert claim(factory, second.job_id, worker="w2", now=later(2)) == ledger.Claim(None, "busy")
    assert claim(factory, second.job_id, worker="w1", now=later(2)).reason == "busy"
    stored = job(factory, second.job_id)
    assert (stored.state, stored.attempts) == (JobState.QUEUED, 0)
    # Other kinds and other accounts are not held up.
    stock = queue(factory, account_id, JobKind.STOCK)
    assert claim(factory, stock.job_id, now=later(2)).claimed
    other = queue(factory, add_account(factory, "second").id)
    assert claim(factory, other.job_id, now=later(2)).claimed
    # Once the first run ends, the second one may start.
    assert in_session(
        factory, lambda s: ledger.complete(s, first.job_id, now=later(3), counts={"orders": 2})
    )
    assert claim(factory, second.job_id, worker="w2", now=later(4)).claimed


def test_concurrent_claims_of_one_job_have_one_winner(
    factory: sessionmaker[Session], account_id: int
) -> None:
    queued = queue(factory, account_id)
    workers = 6
    barrier = threading.Barrier(workers)
    reasons: list[str] = []
    errors: list[BaseException] = []

    def attempt(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            reasons.append(claim(factory, queued.job_id, worker=name).reason)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(reasons) == ["claimed", *["not_pending"] * (workers - 1)]
    assert job(factory, queued.job_id).attempts == 1


def test_concurrent_lease_takers_have_one_winner(factory: sessionmaker[Session]) -> None:
    """The lease is what keeps two jobs of one account and kind apart across machines."""
    takers = 6
    barrier = threading.Barrier(takers)
    results: list[bool] = []
    errors: list[BaseException] = []

    def take(owner: str) -> None:
        try:
            barrier.wait(timeout=10)
            with factory() as session:
                results.append(
                    ledger.acquire_lease(session, "job:orders:1", owner, now=START, seconds=30)
                )
                session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(f"owner{i}",)) for i in range(takers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [False] * (takers - 1) + [True]


def test_leases_expire_and_belong_to_their_owner(factory: sessionmaker[Session]) -> None:
    def take(owner: str, at: datetime) -> bool:
        return in_session(
            factory, lambda s: ledger.acquire_lease(s, "scheduler", owner, now=at, seconds=30)
        )

    assert take("a", START)
    assert not take("b", later(29))
    assert take("a", later(29))  # renewed until later(59)
    assert not take("b", later(58))
    assert not in_session(factory, lambda s: ledger.release_lease(s, "scheduler", "b"))
    assert take("b", later(60))  # expired: anyone may take it
    assert not in_session(factory, lambda s: ledger.release_lease(s, "scheduler", "a"))
    assert in_session(factory, lambda s: ledger.release_lease(s, "scheduler", "b"))
    assert take("a", later(61))


def test_renew_keeps_the_lease_of_the_running_worker_only(
    factory: sessionmaker[Session], account_id: int
) -> None:
    queued = queue(factory, account_id)
    assert claim(factory, queued.job_id).claimed

    def renew(worker: str, at: datetime) -> bool:
        return in_session(
            factory,
            lambda s: ledger.renew(s, queued.job_id, worker=worker, now=at, lease_seconds=LEASE),
        )

    assert renew("w1", later(20))
    assert job(factory, queued.job_id).lease_until == later(50)
    assert not renew("w2", later(21))
    assert not in_session(
        factory, lambda s: ledger.renew(s, 424_242, worker="w1", now=START, lease_seconds=1)
    )
    # Renewed, so not lost: recovery leaves it alone past the first lease's end.
    assert in_session(factory, lambda s: ledger.recover(s, now=later(40))) == []
    assert job(factory, queued.job_id).state is JobState.RUNNING


# --- outcomes --------------------------------------------------------------------------------


def test_complete_records_the_outcome_and_frees_the_lease(
    factory: sessionmaker[Session], account_id: int
) -> None:
    queued = queue(factory, account_id)
    claim(factory, queued.job_id, now=later(1))
    assert in_session(
        factory,
        lambda s: ledger.complete(s, queued.job_id, now=later(3.5), counts={"created": 4}),
    )
    stored = job(factory, queued.job_id)
    assert (stored.state, stored.finished_at, stored.duration_ms, stored.counts) == (
        JobState.DONE,
        later(3.5),
        2500,
        {"created": 4},
    )
    assert stored.lease_until is None and stored.last_error is None
    with factory() as session:
        assert session.get(Lease, ledger.job_lease_name(ORDERS, account_id)) is None
    # A second completion (a duplicate) changes nothing.
    assert not in_session(
        factory, lambda s: ledger.complete(s, queued.job_id, now=later(9), counts={})
    )
    assert job(factory, queued.job_id).finished_at == later(3.5)


def test_a_stale_worker_cannot_complete_a_job_handed_on(
    factory: sessionmaker[Session], account_id: int
) -> None:
    queued = queue(factory, account_id)
    claim(factory, queued.job_id, worker="old")
    in_session(factory, lambda s: ledger.recover(s, now=later(31)))
    assert claim(factory, queued.job_id, worker="new", now=later(31)).claimed
    assert not in_session(
        factory,
        lambda s: ledger.complete(s, queued.job_id, now=later(32), counts={}, worker="old"),
    )
    assert (
        in_session(
            factory,
            lambda s: ledger.fail(s, queued.job_id, now=later(32), error="x", worker="old"),
        )
        is JobState.RUNNING
    )
    assert job(factory, queued.job_id).worker == "new"


def test_backoff_doubles_from_30_seconds_up_to_15_minutes_with_20_percent_jitter() -> None:
    def middle() -> float:
        return 0.5

    assert [ledger.backoff_seconds(n, jitter=middle) for n in range(1, 8)] == [
        30,
        60,
        120,
        240,
        480,
        900,
        900,
    ]
    assert ledger.backoff_seconds(1, jitter=lambda: 0.0) == pytest.approx(24)
    assert ledger.backoff_seconds(1, jitter=lambda: 0.999999) == pytest.approx(36, abs=1e-3)
    assert ledger.backoff_seconds(4, jitter=lambda: 0.0) == pytest.approx(192)
    assert ledger.backoff_seconds(10_000, jitter=lambda: 0.999) == 900


def test_failing_jobs_back_off_then_land_in_the_failed_list(
    factory: sessionmaker[Session], account_id: int
) -> None:
    queued = queue(factory, account_id)
    at = START
    delays = []
    for attempt in range(1, 6):
        assert claim(factory, queued.job_id, now=at).claimed
        state = in_session(
            factory,
            lambda s, at=at, attempt=attempt: ledger.fail(
                s, queued.job_id, now=at, error=f"HTTP 503 #{attempt}", jitter=lambda: 0.5
            ),
        )
        stored = job(factory, queued.job_id)
        assert stored.attempts == attempt and stored.last_error == f"HTTP 503 #{attempt}"
        if attempt < 5:
            assert state is JobState.RETRYING and stored.state is JobState.RETRYING
            delays.append((stored.not_before - at).total_seconds())
            # Not due before its backoff is over.
            assert claim(
                factory, queued.job_id, now=stored.not_before - timedelta(1e-3)
            ).reason == ("not_due")
            at = stored.not_before
        else:
            assert state is JobState.FAILED and stored.state is JobState.FAILED
            assert stored.finished_at == at
    assert delays == [30, 60, 120, 240]
    with factory() as session:
        assert session.get(Lease, ledger.job_lease_name(ORDERS, account_id)) is None
        failed = ledger.list_jobs(session, states=[JobState.FAILED])
        assert [j.id for j in failed] == [queued.job_id]
        assert ledger.counts_by_state(session)[JobState.FAILED] == 1
    # A failed job is not pending: the schedule may queue a new one.
    assert queue(factory, account_id, now=at).created


def test_a_failed_job_can_be_retried(factory: sessionmaker[Session], account_id: int) -> None:
    failed = _failed_job(factory, account_id)
    retried = in_session(factory, lambda s: ledger.retry(s, failed, now=later(999)))
    assert retried == ledger.Enqueued(failed, created=True)
    stored = job(factory, failed)
    assert (stored.state, stored.attempts, stored.not_before, stored.trigger) == (
        JobState.QUEUED,
        0,
        later(999),
        JobTrigger.MANUAL,
    )
    assert stored.finished_at is None and stored.last_error is not None
    assert claim(factory, failed, now=later(999)).claimed
    with factory() as session, pytest.raises(JobError, match=rf"job {failed} is running"):
        ledger.retry(session, failed, now=later(1000))


def test_retrying_a_failed_job_reuses_a_pending_one(
    factory: sessionmaker[Session], account_id: int
) -> None:
    failed = _failed_job(factory, account_id)
    pending = queue(factory, account_id, not_before=later(5000))
    retried = in_session(factory, lambda s: ledger.retry(s, failed, now=later(999)))
    assert retried == ledger.Enqueued(pending.job_id, created=False)
    assert job(factory, pending.job_id).not_before == later(999)
    assert job(factory, failed).state is JobState.DROPPED


def test_drop_takes_failed_and_pending_jobs_only(
    factory: sessionmaker[Session], account_id: int
) -> None:
    failed = _failed_job(factory, account_id)
    in_session(factory, lambda s: ledger.drop(s, failed, now=later(999)))
    assert job(factory, failed).state is JobState.DROPPED
    pending = queue(factory, account_id, JobKind.STOCK).job_id
    in_session(factory, lambda s: ledger.drop(s, pending, now=later(999)))
    assert job(factory, pending).state is JobState.DROPPED
    running = queue(factory, account_id, JobKind.OFFERS).job_id
    claim(factory, running)
    with factory() as session:
        with pytest.raises(JobError, match=rf"job {running} is running; only failed, queued"):
            ledger.drop(session, running, now=later(999))
        with pytest.raises(JobError, match=rf"job {failed} is dropped"):
            ledger.drop(session, failed, now=later(999))
        with pytest.raises(JobError, match="job 777777 does not exist"):
            ledger.drop(session, 777_777, now=later(999))
        with pytest.raises(JobError, match=rf"job {failed} is dropped; only failed jobs"):
            ledger.retry(session, failed, now=later(999))


def _failed_job(factory: sessionmaker[Session], account_id: int) -> int:
    queued = queue(factory, account_id)
    at = START
    for _ in range(5):
        claim(factory, queued.job_id, now=at)
        in_session(factory, lambda s, at=at: ledger.fail(s, queued.job_id, now=at, error="boom"))
        at = job(factory, queued.job_id).not_before
    assert job(factory, queued.job_id).state is JobState.FAILED
    return queued.job_id


def test_fail_keeps_a_bounded_error_text(factory: sessionmaker[Session], account_id: int) -> None:
    queued = queue(factory, account_id)
    claim(factory, queued.job_id)
    in_session(factory, lambda s: ledger.fail(s, queued.job_id, now=later(1), error="x" * 50_000))
    error = job(factory, queued.job_id).last_error
    assert error is not None and len(error) == ledger.MAX_ERROR_LENGTH


def test_a_failure_hands_over_to_a_job_queued_during_the_run(
    factory: sessionmaker[Session], account_id: int
) -> None:
    first = queue(factory, account_id)
    claim(factory, first.job_id)
    second = queue(factory, account_id, now=later(1), trigger=JobTrigger.PUSH)
    state = in_session(
        factory,
        lambda s: ledger.fail(s, first.job_id, now=later(2), error="HTTP 500", jitter=lambda: 0.5),
    )
    assert state is JobState.DROPPED
    dropped, waiting = job(factory, first.job_id), job(factory, second.job_id)
    assert dropped.last_error == f"HTTP 500 (superseded by job {second.job_id})"
    # The waiting job does the work, after the backoff, and counts the failed attempt.
    assert (waiting.state, waiting.attempts, waiting.not_before) == (
        JobState.QUEUED,
        1,
        later(32),
    )


# --- recovery --------------------------------------------------------------------------------


def test_a_lost_worker_is_noticed_when_its_lease_expires(
    factory: sessionmaker[Session], account_id: int
) -> None:
    queued = queue(factory, account_id, trigger=JobTrigger.PUSH)
    claim(factory, queued.job_id, worker="killed")
    assert in_session(factory, lambda s: ledger.recover(s, now=later(29))) == []
    assert job(factory, queued.job_id).state is JobState.RUNNING
    assert in_session(factory, lambda s: ledger.recover(s, now=later(31))) == [queued.job_id]
    stored = job(factory, queued.job_id)
    assert (stored.state, stored.not_before, stored.trigger) == (
        JobState.RETRYING,
        later(31),
        JobTrigger.PUSH,
    )
    assert stored.last_error is not None and stored.last_error.startswith("worker lost")
    # Sent once: the next tick does not send it again.
    assert in_session(factory, lambda s: ledger.recover(s, now=later(32))) == []
    # Another worker takes it over although the dead worker's lease row is still there.
    result = claim(factory, queued.job_id, worker="alive", now=later(32))
    assert result.claimed and result.job is not None and result.job.attempts == 2


def test_a_lost_worker_on_the_last_attempt_fails_the_job(
    factory: sessionmaker[Session], account_id: int
) -> None:
    queued = queue(factory, account_id)
    with factory() as session:
        session.get_one(Job, queued.job_id).max_attempts = 1
        session.commit()
    claim(factory, queued.job_id)
    assert in_session(factory, lambda s: ledger.recover(s, now=later(60))) == []
    stored = job(factory, queued.job_id)
    assert (stored.state, stored.last_error) == (JobState.FAILED, ledger.WORKER_LOST)


def test_a_lost_job_hands_over_to_a_pending_one(
    factory: sessionmaker[Session], account_id: int
) -> None:
    first = queue(factory, account_id)
    claim(factory, first.job_id)
    second = queue(factory, account_id, not_before=later(600))
    assert in_session(factory, lambda s: ledger.recover(s, now=later(31))) == [second.job_id]
    assert job(factory, first.job_id).state is JobState.DROPPED
    waiting = job(factory, second.job_id)
    assert (waiting.state, waiting.attempts, waiting.not_before) == (
        JobState.QUEUED,
        1,
        later(31),
    )


def test_recover_resends_pending_jobs_whose_message_was_lost(
    factory: sessionmaker[Session], account_id: int
) -> None:
    stock = queue(factory, account_id, JobKind.STOCK, now=START).job_id
    orders = queue(factory, account_id, now=later(-30)).job_id
    future = queue(factory, account_id, JobKind.OFFERS, not_before=later(3600)).job_id

    def recover(seconds: float, limit: int = 500) -> list[int]:
        return in_session(factory, lambda s: ledger.recover(s, now=later(seconds), limit=limit))

    assert recover(1) == []  # just sent: their messages are on their way
    assert recover(61) == [orders, stock]  # by due time
    assert recover(62) == []
    assert recover(200, limit=1) == [orders]
    assert recover(201) == [stock]
    assert future not in recover(3600 + 30)
    assert future in recover(3600 + 61)


# --- queries ---------------------------------------------------------------------------------


def test_queries_for_the_command_line_and_metrics(
    factory: sessionmaker[Session], account_id: int
) -> None:
    other = add_account(factory, "second").id
    orders = queue(factory, account_id).job_id
    stock = queue(factory, account_id, JobKind.STOCK).job_id
    elsewhere = queue(factory, other).job_id
    for job_id, end in ((orders, 10), (elsewhere, 20)):
        claim(factory, job_id)
        in_session(
            factory, lambda s, j=job_id, e=end: ledger.complete(s, j, now=later(e), counts={})
        )
    again = queue(factory, account_id, now=later(30)).job_id
    claim(factory, again, now=later(30))
    in_session(factory, lambda s: ledger.complete(s, again, now=later(40), counts={}))
    with factory() as session:
        assert [j.id for j in ledger.list_jobs(session)] == [again, elsewhere, stock, orders]
        assert [j.id for j in ledger.list_jobs(session, account_id=other)] == [elsewhere]
        assert [j.id for j in ledger.list_jobs(session, kind="stock")] == [stock]
        assert [j.id for j in ledger.list_jobs(session, states=["queued"])] == [stock]
        assert [j.id for j in ledger.list_jobs(session, limit=1)] == [again]
        with pytest.raises(JobError, match="unknown job state 'lost'; one of queued, running"):
            ledger.list_jobs(session, states=["lost"])
        counts = ledger.counts_by_state(session)
        assert counts == {**dict.fromkeys(JobState, 0), JobState.DONE: 3, JobState.QUEUED: 1}
        assert ledger.last_success(session) == {
            (account_id, ORDERS): later(40),
            (other, ORDERS): later(20),
        }


# --- schedules -------------------------------------------------------------------------------


def test_every_account_gets_the_default_schedules(
    factory: sessionmaker[Session], account_id: int
) -> None:
    made = in_session(factory, lambda s: ledger.ensure_schedules(s, account_id, now=START))
    assert {s.kind: s.interval_minutes for s in made} == DEFAULT_INTERVALS
    assert [s.kind for s in made] == list(JobKind)
    assert {s.next_due_at for s in made} == {START}
    # Again: nothing is created or changed.
    in_session(factory, lambda s: ledger.set_interval(s, account_id, "orders", 60, now=START))
    again = in_session(factory, lambda s: ledger.ensure_schedules(s, account_id, now=later(99)))
    assert {s.kind: s.interval_minutes for s in again}[ORDERS] == 60
    with factory() as session:
        assert len(session.scalars(select(JobSchedule)).all()) == len(JobKind)


def test_set_interval_takes_effect_and_names_what_is_allowed(
    factory: sessionmaker[Session], account_id: int
) -> None:
    def set_to(minutes: int, at: datetime) -> JobSchedule:
        return in_session(
            factory, lambda s: ledger.set_interval(s, account_id, ORDERS, minutes, now=at)
        )

    in_session(factory, lambda s: ledger.ensure_schedules(s, account_id, now=later(3600)))
    assert set_to(60, START).next_due_at == later(3600)
    assert set_to(15, START).next_due_at == later(900)  # shorter: due sooner
    off = set_to(0, START)
    assert (off.interval_minutes, off.next_due_at) == (0, later(900))
    with factory() as session:
        with pytest.raises(JobError, match=r"interval 10 minutes is not allowed; .*0, 5, 15, 60"):
            ledger.set_interval(session, account_id, ORDERS, 10, now=START)
        with pytest.raises(JobError, match="unknown job kind 'nap'"):
            ledger.set_interval(session, account_id, "nap", 5, now=START)
        with pytest.raises(JobError, match="account 4242 does not exist"):
            ledger.set_interval(session, 4242, ORDERS, 5, now=START)
