"""The job runner's state transitions, with handlers replaced by small fakes: claim, run,
record; busy and not-due jobs go back on the queue; the lease is renewed while a handler
works and a lost lease stops it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.jobs import ledger
from kaufland_sync.jobs.handlers import Handler, JobContext, JobFailed
from kaufland_sync.jobs.runner import JobRunner
from kaufland_sync.metrics import REGISTRY
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger, Lease
from tests.builders import add_account
from tests.jobs.conftest import START, FakeClock

NOW = START
# Heartbeats in these tests: fast enough to observe, the deadline guards a broken runner.
BEAT = 0.02
DEADLINE = 10.0


Sent = list[tuple[int, datetime | None]]


def make_runner(
    factory: sessionmaker[Session],
    tmp_path: Path,
    handler: Handler,
    *,
    kind: JobKind = JobKind.ORDERS,
    clock: FakeClock | None = None,
    sent: Sent | None = None,
    worker: str = "test-worker",
) -> JobRunner:
    record = sent if sent is not None else []
    return JobRunner(
        factory,
        Settings(data_dir=tmp_path),
        lambda job_id, eta: record.append((job_id, eta)),
        worker=worker,
        clock=clock or FakeClock(),
        lease_seconds=60,
        renew_every=BEAT,
        handlers={kind: handler},
    )


def enqueue(
    factory: sessionmaker[Session],
    account_id: int,
    *,
    kind: JobKind = JobKind.ORDERS,
    trigger: JobTrigger = JobTrigger.SCHEDULE,
    not_before: datetime | None = None,
    max_attempts: int = 5,
) -> int:
    with transaction(factory) as session:
        made = ledger.enqueue(
            session,
            account_id=account_id,
            kind=kind,
            trigger=trigger,
            now=NOW,
            not_before=not_before,
            max_attempts=max_attempts,
        )
    return made.job_id


def job(factory: sessionmaker[Session], job_id: int) -> Job:
    with factory() as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def returning(counts: dict[str, int]) -> Handler:
    async def handler(ctx: JobContext) -> dict[str, int]:
        return counts

    return handler


def raising(error: Exception) -> Handler:
    async def handler(ctx: JobContext) -> dict[str, int]:
        raise error

    return handler


def runs(kind: str, outcome: str) -> float:
    labels = {"kind": kind, "outcome": outcome}
    return REGISTRY.get_sample_value("kaufland_sync_job_runs_total", labels) or 0.0


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` (a database read) until it holds; fail after ``DEADLINE``."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(BEAT / 2)


def test_a_job_runs_its_handler_and_is_done_with_its_counts(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    account = add_account(factory)
    job_id = enqueue(factory, account.id, trigger=JobTrigger.PUSH)
    seen: list[tuple[int, JobTrigger]] = []

    async def handler(ctx: JobContext) -> dict[str, int]:
        seen.append((ctx.account_id, ctx.trigger))
        return {"orders_new": 3}

    sent: Sent = []
    before = runs("orders", "done")
    outcome = make_runner(factory, tmp_path, handler, sent=sent).run(job_id)

    assert outcome == "done"
    assert seen == [(account.id, JobTrigger.PUSH)]
    done = job(factory, job_id)
    assert (done.state, done.attempts, done.counts, done.last_error) == (
        JobState.DONE,
        1,
        {"orders_new": 3},
        None,
    )
    assert done.worker == "test-worker"
    assert sent == []
    assert runs("orders", "done") == before + 1
    with factory() as session:  # the account's lock is free again
        assert session.scalars(select(Lease)).all() == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_failure_is_recorded_and_the_job_sent_again_for_its_retry(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    account = add_account(factory)
    job_id = enqueue(factory, account.id)
    sent: Sent = []

    outcome = make_runner(
        factory, tmp_path, raising(ConnectionError("Kaufland unreachable")), sent=sent
    ).run(job_id)

    assert outcome == "retrying"
    retrying = job(factory, job_id)
    assert retrying.state is JobState.RETRYING
    assert retrying.last_error == "ConnectionError: Kaufland unreachable"
    assert retrying.not_before > NOW
    assert sent == [(job_id, retrying.not_before)]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_partial_failure_keeps_the_engines_message(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    account = add_account(factory)
    job_id = enqueue(factory, account.id)

    failing = raising(JobFailed("2 offer(s) failed: A: no EAN; B: no EAN", {"updated": 5}))
    outcome = make_runner(factory, tmp_path, failing).run(job_id)

    assert outcome == "retrying"
    assert job(factory, job_id).last_error == "2 offer(s) failed: A: no EAN; B: no EAN"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_last_attempt_lands_in_the_failed_list_and_is_not_sent(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    account = add_account(factory)
    job_id = enqueue(factory, account.id, max_attempts=1)
    sent: Sent = []

    outcome = make_runner(factory, tmp_path, raising(RuntimeError("boom")), sent=sent).run(job_id)

    assert outcome == "failed"
    failed = job(factory, job_id)
    assert (failed.state, failed.attempts, failed.last_error) == (
        JobState.FAILED,
        1,
        "RuntimeError: boom",
    )
    assert sent == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_busy_account_sends_the_job_again_shortly_without_spending_an_attempt(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    account = add_account(factory)
    job_id = enqueue(factory, account.id)
    with transaction(factory) as session:
        name = ledger.job_lease_name(JobKind.ORDERS, account.id)
        assert ledger.acquire_lease(session, name, "other-worker#1", now=NOW, seconds=60)
    sent: Sent = []
    before = runs("orders", "busy")

    outcome = make_runner(factory, tmp_path, returning({}), sent=sent).run(job_id)

    assert outcome == "busy"
    waiting = job(factory, job_id)
    assert (waiting.state, waiting.attempts) == (JobState.QUEUED, 0)
    assert sent == [(job_id, NOW + timedelta(seconds=2))]
    assert runs("orders", "busy") == before + 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_job_not_due_yet_is_sent_again_for_its_due_time(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    account = add_account(factory)
    due = NOW + timedelta(minutes=15)
    job_id = enqueue(factory, account.id, not_before=due)
    sent: Sent = []

    outcome = make_runner(factory, tmp_path, returning({}), sent=sent).run(job_id)

    assert outcome == "not_due"
    assert sent == [(job_id, due)]
    assert job(factory, job_id).state is JobState.QUEUED


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_duplicate_message_or_a_missing_job_does_nothing(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    account = add_account(factory)
    job_id = enqueue(factory, account.id)
    calls: list[int] = []

    async def handler(ctx: JobContext) -> dict[str, int]:
        calls.append(ctx.account_id)
        return {}

    sent: Sent = []
    runner = make_runner(factory, tmp_path, handler, sent=sent)

    assert runner.run(job_id) == "done"
    assert runner.run(job_id) == "not_pending"
    assert runner.run(job_id + 1000) == "gone"
    assert calls == [account.id]
    assert sent == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_lease_is_renewed_while_the_handler_works(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    account = add_account(factory)
    job_id = enqueue(factory, account.id)
    clock = FakeClock()

    def lease_until() -> datetime | None:
        with factory() as session:
            lease = session.get(Lease, ledger.job_lease_name(JobKind.ORDERS, account.id))
            return None if lease is None else lease.expires_at

    async def slow(ctx: JobContext) -> dict[str, int]:
        assert lease_until() == NOW + timedelta(seconds=60)
        # Time passes during a long run; the heartbeat keeps pushing the lease ahead of it.
        clock.advance(45)
        await until(lambda: lease_until() == clock() + timedelta(seconds=60), "a renewal")
        assert job(factory, job_id).lease_until == clock() + timedelta(seconds=60)
        return {"pages": 9}

    outcome = make_runner(factory, tmp_path, slow, clock=clock).run(job_id)

    assert outcome == "done"
    assert job(factory, job_id).counts == {"pages": 9}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_run_whose_lease_was_taken_over_is_cancelled_and_records_nothing(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    account = add_account(factory)
    job_id = enqueue(factory, account.id)
    clock = FakeClock()
    cancelled: list[bool] = []

    async def stalled(ctx: JobContext) -> dict[str, int]:
        # This worker stalls past its lease; recovery elsewhere makes the job retrying.
        clock.advance(120)
        with transaction(factory) as session:
            assert ledger.recover(session, now=clock()) == [job_id]
        try:
            await asyncio.get_running_loop().create_future()  # never completes by itself
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return {}

    sent: Sent = []
    outcome = make_runner(factory, tmp_path, stalled, clock=clock, sent=sent).run(job_id)

    assert outcome == "lost"
    assert cancelled == [True]
    recovered = job(factory, job_id)
    assert recovered.state is JobState.RETRYING
    assert recovered.last_error is not None and "worker lost" in recovered.last_error
    assert sent == []  # recovery's caller sends it, not the run that lost it


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_jobs_of_one_account_and_kind_never_run_together(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """A second job queued while the first runs waits for it (busy), then runs."""
    account = add_account(factory)
    first = enqueue(factory, account.id)
    second: list[int] = []
    sent: Sent = []
    inner: list[str] = []

    async def handler(ctx: JobContext) -> dict[str, int]:
        if not second:
            second.append(enqueue(factory, account.id, trigger=JobTrigger.PUSH))
            # Another thread of the same worker picks the second job up meanwhile.
            inner.append(await asyncio.to_thread(runner.run, second[0]))
        return {}

    runner = make_runner(factory, tmp_path, handler, sent=sent)

    assert runner.run(first) == "done"
    assert inner == ["busy"]
    assert sent == [(second[0], NOW + timedelta(seconds=2))]
    assert runner.run(second[0]) == "done"
