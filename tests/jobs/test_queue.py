"""The job queue on its real backends: a SQLite file and a Redis server.

A message sent by one ``JobQueue`` is received by another on the same URL (two processes in
real life), runs the runner bound there, and keeps its due time; ``submit`` writes the ledger
first and never queues the same job twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.jobs.queue import JobQueue, QueueURLError, create_huey
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from tests.builders import add_account
from tests.redis_server import RedisNotFoundError, RedisServer

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    try:
        server = RedisServer()
    except RedisNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue' / 'queue.db'}"
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url(db=1)


def _settings(tmp_path: Path, queue_url: str) -> Settings:
    return Settings(data_dir=tmp_path, queue_url=queue_url)


@pytest.fixture
def queues(
    tmp_path: Path, queue_url: str, factory: sessionmaker[Session]
) -> Iterator[tuple[JobQueue, JobQueue]]:
    """Two queues on one URL: the submitter (web app, scheduler) and the worker's."""
    settings = _settings(tmp_path, queue_url)
    submitter = JobQueue(settings, factory, clock=lambda: NOW)
    worker = JobQueue(settings, factory, clock=lambda: NOW)
    # drain() reads until the queue is empty: on Redis, do not block a second on the last read.
    worker.huey.storage.blocking = False
    submitter.flush()
    try:
        yield submitter, worker
    finally:
        submitter.flush()
        submitter.close()
        worker.close()


def drain(queue: JobQueue, at: datetime = NOW) -> int:
    """Run every message ready at ``at`` (as a consumer's worker would); returns how many."""
    huey = queue.huey
    moment = at.astimezone(UTC).replace(tzinfo=None)
    for task in huey.read_schedule(moment):
        huey.enqueue(task)
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task, moment)
        ran += task.eta is None or task.eta <= moment
    return ran


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_message_sent_by_one_queue_runs_the_runner_bound_to_another(
    queues: tuple[JobQueue, JobQueue],
) -> None:
    submitter, worker = queues
    seen: list[int] = []
    worker.bind(seen.append)

    submitter.send(41)
    submitter.send(42)

    assert submitter.pending_count() == 2
    assert drain(worker) == 2
    assert seen == [41, 42]
    assert submitter.pending_count() == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_due_time_holds_the_message_until_then(queues: tuple[JobQueue, JobQueue]) -> None:
    submitter, worker = queues
    seen: list[int] = []
    worker.bind(seen.append)
    due = NOW + timedelta(minutes=5)

    submitter.send(7, eta=due)

    assert drain(worker, NOW) == 0  # taken off the queue, parked in the schedule
    assert worker.pending_count() == 1
    assert drain(worker, due - timedelta(seconds=1)) == 0
    assert seen == []
    assert drain(worker, due) == 1
    assert seen == [7]
    assert worker.pending_count() == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_due_time_is_kept_in_utc_whatever_the_zone_given(
    queues: tuple[JobQueue, JobQueue],
) -> None:
    submitter, worker = queues
    seen: list[int] = []
    worker.bind(seen.append)
    local = (NOW + timedelta(minutes=1)).astimezone(timezone(timedelta(hours=2)))

    submitter.send(8, eta=local)

    assert drain(worker, NOW + timedelta(seconds=59)) == 0
    assert drain(worker, NOW + timedelta(minutes=1)) == 1
    assert seen == [8]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_past_due_time_is_sent_for_now(queues: tuple[JobQueue, JobQueue]) -> None:
    submitter, worker = queues
    seen: list[int] = []
    worker.bind(seen.append)

    submitter.send(9, eta=NOW - timedelta(hours=1))

    assert drain(worker) == 1
    assert seen == [9]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_naive_due_time_is_refused(queues: tuple[JobQueue, JobQueue]) -> None:
    submitter, _ = queues
    with pytest.raises(ValueError, match="naive"):
        submitter.send(1, eta=datetime(2030, 1, 1))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_queue_without_a_runner_refuses_to_run(queues: tuple[JobQueue, JobQueue]) -> None:
    submitter, worker = queues
    submitter.send(3)
    task = worker.huey.dequeue()
    with pytest.raises(RuntimeError, match="no runner bound"):
        task.execute()


def test_submit_writes_the_ledger_then_sends_once(
    queues: tuple[JobQueue, JobQueue], factory: sessionmaker[Session]
) -> None:
    submitter, worker = queues
    account = add_account(factory)
    seen: list[int] = []
    worker.bind(seen.append)

    first = submitter.submit(account_id=account.id, kind=JobKind.ORDERS, trigger=JobTrigger.PUSH)
    again = submitter.submit(
        account_id=account.id, kind=JobKind.ORDERS, trigger=JobTrigger.SCHEDULE
    )
    other = submitter.submit(account_id=account.id, kind=JobKind.STOCK, trigger=JobTrigger.CHANGE)

    assert first.created and not again.created and other.created
    assert again.job_id == first.job_id
    with factory() as session:
        job = session.get(Job, first.job_id)
        assert job is not None
        assert (job.state, job.trigger, job.enqueued_at) == (
            JobState.QUEUED,
            JobTrigger.PUSH,
            NOW,
        )
    assert drain(worker) == 2
    assert sorted(seen) == sorted([first.job_id, other.job_id])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_submit_that_moves_a_pending_job_earlier_sends_it_again(
    queues: tuple[JobQueue, JobQueue], factory: sessionmaker[Session]
) -> None:
    submitter, worker = queues
    account = add_account(factory)
    seen: list[int] = []
    worker.bind(seen.append)
    later = NOW + timedelta(minutes=10)

    made = submitter.submit(
        account_id=account.id, kind=JobKind.ORDERS, trigger=JobTrigger.SCHEDULE, not_before=later
    )
    pushed = submitter.submit(account_id=account.id, kind=JobKind.ORDERS, trigger=JobTrigger.PUSH)
    same_time = submitter.submit(
        account_id=account.id, kind=JobKind.ORDERS, trigger=JobTrigger.PUSH
    )

    assert pushed.job_id == same_time.job_id == made.job_id
    assert drain(worker, NOW) == 1  # the new message; the old one waits for ``later``
    assert seen == [made.job_id]
    with factory() as session:
        job = session.get(Job, made.job_id)
        assert job is not None and job.not_before == NOW


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_submit_for_later_sends_at_the_due_time(
    queues: tuple[JobQueue, JobQueue], factory: sessionmaker[Session]
) -> None:
    submitter, worker = queues
    account = add_account(factory)
    seen: list[int] = []
    worker.bind(seen.append)
    due = NOW + timedelta(seconds=30)

    made = submitter.submit(
        account_id=account.id, kind=JobKind.OFFERS, trigger=JobTrigger.CHANGE, not_before=due
    )

    assert drain(worker, NOW) == 0
    assert drain(worker, due) == 1
    assert seen == [made.job_id]


def test_the_default_queue_is_a_sqlite_file_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    huey = create_huey(settings.resolved_queue_url)
    try:
        assert huey.storage.filename == str(tmp_path / "data" / "queue.db")
        assert huey.name == "kaufland-sync"
        assert huey.results is False
    finally:
        huey.storage.close()


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///:memory:", "amqp://localhost", "postgresql://x/y"]
)
def test_unsupported_queue_urls_are_refused(url: str) -> None:
    with pytest.raises(QueueURLError):
        create_huey(url)
