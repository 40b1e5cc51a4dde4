"""Shared by the tests of the operations pages (queue, logs, performance, commission): a queue
that also sends, jobs in any state, and a client of the whole app (``ui=True``) on the test's
store. Users and signing in are tests/web/support.py's (``add_users``, ``sign_in``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from tests.builders import at
from tests.web.support import RecordingQueue, client_of, page_app, sign_in

__all__ = ["NOW", "SendingQueue", "add_failed_job", "add_job", "serve"]

NOW = at("2026-03-10", "15:30")


@dataclass
class SendingQueue(RecordingQueue):
    """A :class:`RecordingQueue` that also has ``JobQueue.send``: the ids it was asked to send."""

    sent: list[int] = field(default_factory=list)

    def send(self, job_id: int) -> None:
        self.sent.append(job_id)


def add_job(
    session: Session,
    account_id: int,
    kind: JobKind,
    state: JobState,
    *,
    minutes_ago: int = 10,
    error: str | None = None,
    counts: dict[str, int] | None = None,
    worker: str | None = None,
    attempts: int = 0,
) -> Job:
    """A job in ``state``; finished ones have ``finished_at``, running ones a lease."""
    moment = NOW - timedelta(minutes=minutes_ago)
    finished = state in (JobState.DONE, JobState.FAILED, JobState.DROPPED)
    job = Job(
        kind=kind,
        account_id=account_id,
        trigger=JobTrigger.SCHEDULE,
        state=state,
        attempts=attempts,
        max_attempts=5,
        enqueued_at=moment - timedelta(minutes=1),
        not_before=moment,
        started_at=moment if state is not JobState.QUEUED else None,
        finished_at=moment + timedelta(seconds=30) if finished else None,
        lease_until=NOW + timedelta(minutes=5) if state is JobState.RUNNING else None,
        worker=worker,
        last_error=error,
        counts=counts or {},
    )
    session.add(job)
    session.flush()
    return job


def add_failed_job(
    session: Session,
    account_id: int,
    kind: JobKind,
    error: str | None = None,
    *,
    minutes_ago: int = 10,
) -> int:
    """The id of a job that failed for good (all of its attempts used), with ``error``."""
    return add_job(
        session, account_id, kind, JobState.FAILED, minutes_ago=minutes_ago, error=error, attempts=5
    ).id


@asynccontextmanager
async def serve(
    settings: Settings,
    store: sessionmaker[Session],
    queue: RecordingQueue | None = None,
    clock: datetime = NOW,
    *,
    user: str | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the whole web app (``ui=True``) on ``store``, its clock at ``clock``; with
    ``user``, signed in as that user (see ``add_users``) through the login form."""
    app = page_app(settings, store, lambda: clock, queue or SendingQueue(store, lambda: clock))
    async with client_of(app) as client:
        if user is not None:
            await sign_in(client, user)
        yield client
