"""The task queue: Huey carries "run job N" messages (and their due times) to the workers.

The database is the job ledger (``kaufland_sync.jobs.ledger``): what to run, its state, its
errors. Huey only wakes a worker up, so a lost or duplicated message is harmless: a duplicate
finds the job no longer pending and does nothing, and a lost one (a worker killed after it
popped the message) is found by the scheduler's recovery, which sends it again.

The queue is a SQLite file (one machine, the default: ``sqlite:///<data_dir>/queue.db``) or a
Redis server (``redis://...``: workers on many machines), from ``Settings.resolved_queue_url``.
Results are not stored (``results=False``): the ledger keeps every outcome.

A process that only submits jobs (the web app, the CLI, the scheduler) never runs them: the
Huey task calls the runner bound with :meth:`JobQueue.bind`, which only workers do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.jobs import ledger
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.models.jobs import PENDING_STATES, Job, JobKind, JobTrigger

__all__ = ["QUEUE_NAME", "TASK_NAME", "JobQueue", "QueueURLError", "create_huey"]

#: The Huey queue's name (its table rows / Redis keys): every process of one installation
#: must use the same one.
QUEUE_NAME = "kaufland-sync"
#: The one Huey task. Messages name it by module and name, so both must stay stable while
#: messages may still be queued.
TASK_NAME = "run_job"

#: Runs one job of the ledger by id (a ``JobRunner.run``).
Runner = Callable[[int], object]


class QueueURLError(ValueError):
    """The queue URL is neither ``sqlite:///path`` nor ``redis://...``."""


def create_huey(url: str) -> Any:
    """A Huey instance for ``url``: ``SqliteHuey`` for ``sqlite:///path`` (its folder is
    created), ``RedisHuey`` for ``redis://`` / ``rediss://`` / ``unix://``. Raises
    ``QueueURLError`` for anything else."""
    import huey  # type: ignore[import-untyped]  # huey ships no type information

    if url.startswith(("redis://", "rediss://", "unix://")):
        return huey.RedisHuey(name=QUEUE_NAME, url=url, results=False, utc=True)
    if url.startswith("sqlite:"):
        database = make_url(url).database
        if not database or database == ":memory:":
            raise QueueURLError(
                f"queue URL {url!r}: a SQLite queue must be a file (sqlite:///path/queue.db), "
                "shared by the processes that submit and run jobs"
            )
        path = Path(database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return huey.SqliteHuey(name=QUEUE_NAME, filename=str(path), results=False, utc=True)
    raise QueueURLError(
        f"queue URL {url!r} is not supported: use sqlite:///path/queue.db (one machine) or "
        "redis://host:6379/0 (many machines)"
    )


def _huey_eta(eta: datetime) -> datetime:
    """Huey with ``utc=True`` keeps due times as naive UTC datetimes."""
    if eta.tzinfo is None:
        raise ValueError("naive datetime given as a job's due time; use an aware UTC datetime")
    return eta.astimezone(UTC).replace(tzinfo=None)


class JobQueue:
    """Submit jobs (ledger + queue) and send "run job N" messages.

    ``settings.resolved_queue_url`` chooses the backend; ``factory`` opens sessions on the
    store that holds the ledger; ``clock`` (aware UTC) stamps new jobs. Thread-safe: the web
    app submits from many threads, and a worker's runner re-sends from its worker threads.
    """

    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.clock = clock
        self.url = settings.resolved_queue_url
        self.huey: Any = create_huey(self.url)
        self._runner: Runner | None = None
        self._lock = threading.Lock()

        def run_job(job_id: int) -> None:
            """Run ledger job ``job_id`` with the bound runner."""
            self._dispatch(job_id)

        run_job.__module__ = __name__  # the message names the task as module.name
        self._task: Any = self.huey.task(name=TASK_NAME)(run_job)

    def __repr__(self) -> str:
        backend = "redis" if self.url.startswith(("redis", "unix")) else "sqlite"
        return f"JobQueue({backend})"

    # -- running (workers only) ---------------------------------------------------------------

    def bind(self, runner: Runner | None) -> None:
        """Make ``runner`` run the jobs this process's Huey consumer takes (None: unbind)."""
        with self._lock:
            self._runner = runner

    def _dispatch(self, job_id: int) -> None:
        runner = self._runner
        if runner is None:
            # Only a consumer calls this, and consumers bind first; failing loudly beats
            # silently dropping the message (recovery re-sends the job anyway).
            raise RuntimeError("JobQueue has no runner bound: call bind() before consuming")
        runner(int(job_id))

    # -- submitting ---------------------------------------------------------------------------

    def submit(
        self,
        *,
        account_id: int,
        kind: JobKind,
        trigger: JobTrigger,
        not_before: datetime | None = None,
    ) -> ledger.Enqueued:
        """Queue ``kind`` for the account: a new ledger job (committed), then its message.

        When a job of that account and kind is already pending, that one is returned (its due
        time moved earlier when ``not_before`` is earlier) and nothing new is sent: the same
        job is never queued twice, and its own message is already on its way. A pending job
        moved earlier is sent again, so it runs at the new time (its older message then finds
        it no longer pending and does nothing).
        """
        now = self.clock()
        due = not_before or now
        with self.factory() as session:
            # The pending job's due time before: if this submit moves it earlier, its message
            # (sent for the old time) would be late, so a new one is sent.
            before = session.scalar(
                select(Job.not_before).where(
                    Job.account_id == account_id,
                    Job.kind == kind,
                    Job.state.in_(PENDING_STATES),
                )
            )
            result = ledger.enqueue(
                session,
                account_id=account_id,
                kind=kind,
                trigger=trigger,
                now=now,
                not_before=not_before,
            )
            session.commit()
        if result.created or (before is not None and due < before):
            self.send(result.job_id, eta=due)
        return result

    def send(self, job_id: int, eta: datetime | None = None) -> None:
        """Put "run job ``job_id``" on the queue, to run at ``eta`` (aware UTC; None or a past
        time: now). Sending a job that is not pending is harmless: the runner ignores it."""
        if eta is None:
            self._task(job_id)
            return
        at = _huey_eta(eta)
        if eta <= self.clock():
            self._task(job_id)
        else:
            self._task.schedule(args=(job_id,), eta=at)

    # -- watching -----------------------------------------------------------------------------

    def pending_count(self) -> int:
        """Messages waiting: queued now plus scheduled for later (for metrics and health)."""
        return int(self.huey.pending_count()) + int(self.huey.scheduled_count())

    def flush(self) -> None:
        """Drop every message (tests, and ``jobs`` maintenance): the ledger is untouched and
        recovery sends pending jobs again."""
        self.huey.flush()

    def close(self) -> None:
        """Release the queue's connections (SQLite file handle, Redis pool)."""
        self.huey.storage.close()
        pool = getattr(self.huey.storage, "pool", None)
        if pool is not None:
            pool.disconnect()
