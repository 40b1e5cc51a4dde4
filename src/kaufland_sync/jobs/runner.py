"""Run one job of the ledger: claim it, keep its lease alive while the handler works, record
the outcome.

``JobRunner.run(job_id)`` is what a queue message turns into on a worker:

1. **claim** (``ledger.claim``): the job must be pending and due, and the per-account lease
   ``job:{kind}:{account_id}`` free; the claim takes the lease, marks the job ``running`` and
   counts the attempt, atomically (also between machines on PostgreSQL). Otherwise nothing
   runs: ``busy`` (another job of that account and kind runs) sends the message again in
   ``busy_delay`` seconds without spending an attempt; ``not_due`` sends it again at the due
   time; ``gone`` and ``not_pending`` (a duplicate message, a dropped job) end here.
2. **run** the handler with ``asyncio.run`` in the calling thread (a Huey worker thread),
   while a heartbeat thread renews the lease every ``renew_every`` seconds. If a renewal finds
   the lease lost (this worker stalled past its lease and recovery handed the job on), the
   handler is cancelled and the outcome left to whoever holds the job now.
3. **record**: ``ledger.complete`` with the counts, or ``ledger.fail`` with the error's message
   (never a traceback or request: no secret reaches the ledger); a job going back to
   ``retrying`` is sent again for its new due time.

One structured log line per job run, and the ``JOBS`` / ``JOB_SECONDS`` metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.jobs import ledger
from kaufland_sync.jobs.handlers import ClientFactory, Handler, JobContext, JobFailed, run_handler
from kaufland_sync.logging import get_logger
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.models.jobs import Job, JobKind, JobState

__all__ = ["BUSY_DELAY", "JobRunner", "QueueSend", "default_worker_name"]

log = get_logger(__name__)

#: Seconds before a job whose account and kind are busy is tried again.
BUSY_DELAY = 2.0

#: Sends "run job N" at an optional due time (``JobQueue.send``).
QueueSend = Callable[[int, datetime | None], None]


def default_worker_name() -> str:
    """``host:pid``: names the process in leases and on the jobs it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


class _LeaseLost(Exception):
    """The job's lease was taken over while its handler ran."""


class _Heartbeat:
    """Renews a running job's lease every ``every`` seconds from a thread of its own, so a
    handler that blocks its event loop (a long SQL statement) still keeps the lease. On a lost
    lease it calls ``on_lost`` once and stops."""

    def __init__(
        self,
        renew: Callable[[], bool],
        every: float,
        on_lost: Callable[[], None],
        *,
        name: str,
    ) -> None:
        self._renew = renew
        self._every = every
        self._on_lost = on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.renewals = 0

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                kept = self._renew()
            except Exception as exc:  # a database hiccup: try again next beat
                log.warning("job.lease_renew_failed", error=str(exc) or type(exc).__name__)
                continue
            if not kept:
                self._on_lost()
                return
            self.renewals += 1


class JobRunner:
    """Runs ledger jobs by id (see the module docstring).

    ``queue_send(job_id, eta)`` puts a job back on the queue; ``worker`` names this process
    on the jobs it runs; ``clock`` gives aware UTC times; ``monotonic`` measures durations.
    ``handlers`` replaces the handler table and ``client_factory`` the account's client
    (tests). The lease owner is ``worker`` plus the job id (``ledger``), so the threads of
    one worker exclude each other too.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        queue_send: QueueSend,
        *,
        worker: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        lease_seconds: float = 60.0,
        renew_every: float = 15.0,
        busy_delay: float = BUSY_DELAY,
        handlers: Mapping[JobKind, Handler] | None = None,
        client_factory: ClientFactory | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < renew_every < lease_seconds:
            raise ValueError("renew_every must be positive and shorter than lease_seconds")
        self.factory = factory
        self.settings = settings
        self.queue_send = queue_send
        self.worker = worker or default_worker_name()
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.renew_every = renew_every
        self.busy_delay = busy_delay
        self.handlers = handlers
        self.client_factory = client_factory
        self.monotonic = monotonic

    def run(self, job_id: int) -> str:
        """Run job ``job_id`` if it can run now; returns the outcome: ``done``, ``retrying``,
        ``failed``, ``dropped`` (failed, and a newer pending job of the same account and kind
        takes over), ``lost`` (the lease was taken over), or why the claim was refused
        (``busy``, ``not_due``, ``not_pending``, ``gone``). Never raises for a handler's
        failure."""
        now = self.clock()
        with self.factory() as session:
            claim = ledger.claim(
                session, job_id, worker=self.worker, now=now, lease_seconds=self.lease_seconds
            )
        if claim.job is None:
            return self._refused(job_id, claim, now)
        return self._execute(claim.job)

    def _refused(self, job_id: int, claim: ledger.Claim, now: datetime) -> str:
        if claim.reason == "busy":
            # Another run of this account and kind holds the lease: try again soon; the claim
            # was rolled back, so no attempt was spent.
            self.queue_send(job_id, now + timedelta(seconds=self.busy_delay))
            from kaufland_sync.metrics import JOBS

            with self.factory() as session:
                job = session.get(Job, job_id)
                if job is not None:
                    JOBS.labels(kind=job.kind.value, outcome="busy").inc()
        elif claim.reason == "not_due" and claim.not_before is not None:
            self.queue_send(job_id, claim.not_before)
        log.debug("job.not_run", job_id=job_id, reason=claim.reason)
        return claim.reason

    def _execute(self, job: Job) -> str:
        kind, account_id, trigger = job.kind, job.account_id, job.trigger
        ctx = JobContext(
            factory=self.factory,
            settings=self.settings,
            account_id=account_id,
            trigger=trigger,
            clock=self.clock,
            client_factory=self.client_factory,
        )
        started = self.monotonic()
        loop_box: dict[str, Any] = {}
        lost = threading.Event()

        def renew() -> bool:
            with self.factory() as session:
                kept = ledger.renew(
                    session,
                    job.id,
                    worker=self.worker,
                    now=self.clock(),
                    lease_seconds=self.lease_seconds,
                )
                session.commit()
            return kept

        def on_lost() -> None:
            lost.set()
            task = loop_box.get("task")
            loop = loop_box.get("loop")
            if task is not None and loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(task.cancel)

        async def guarded() -> dict[str, int]:
            task = asyncio.ensure_future(run_handler(kind, ctx, self.handlers))
            loop_box["loop"], loop_box["task"] = asyncio.get_running_loop(), task
            if lost.is_set():
                task.cancel()
            try:
                return await task
            except asyncio.CancelledError:
                if lost.is_set():
                    raise _LeaseLost from None
                raise

        counts: dict[str, int] = {}
        error: BaseException | None = None
        with _Heartbeat(renew, self.renew_every, on_lost, name=f"lease-{job.id}"):
            try:
                counts = asyncio.run(guarded())
            except _LeaseLost:
                error = None
            except Exception as exc:
                error = exc
        seconds = self.monotonic() - started
        if lost.is_set():
            outcome = "lost"
            log.warning(
                "job.lease_lost",
                job_id=job.id,
                kind=kind.value,
                account_id=account_id,
                worker=self.worker,
                seconds=round(seconds, 3),
            )
        elif error is None:
            outcome = self._complete(job.id, counts)
        else:
            if isinstance(error, JobFailed):
                counts = error.counts
            outcome = self._fail(job.id, error)
        self._report(job, outcome, counts, seconds, error)
        return outcome

    def _complete(self, job_id: int, counts: dict[str, int]) -> str:
        with self.factory() as session:
            recorded = ledger.complete(
                session, job_id, now=self.clock(), counts=counts, worker=self.worker
            )
            session.commit()
        # Not recorded: recovery gave the job to another run meanwhile; its outcome counts.
        return JobState.DONE.value if recorded else "lost"

    def _fail(self, job_id: int, error: BaseException) -> str:
        message = _message(error)
        with self.factory() as session:
            state = ledger.fail(
                session, job_id, now=self.clock(), error=message, worker=self.worker
            )
            due = None
            if state is JobState.RETRYING:
                found = session.get(Job, job_id)
                due = found.not_before if found is not None else None
            session.commit()
        if state is JobState.RETRYING:
            self.queue_send(job_id, due)
        if state not in (JobState.RETRYING, JobState.FAILED, JobState.DROPPED):
            return "lost"  # no longer ours: recovery handed the job on
        return JobState(state).value

    def _report(
        self,
        job: Job,
        outcome: str,
        counts: Mapping[str, int],
        seconds: float,
        error: BaseException | None,
    ) -> None:
        from kaufland_sync.metrics import JOB_SECONDS, JOBS

        JOBS.labels(kind=job.kind.value, outcome=outcome).inc()
        JOB_SECONDS.labels(kind=job.kind.value).observe(seconds)
        fields: dict[str, Any] = {
            "job_id": job.id,
            "kind": job.kind.value,
            "account_id": job.account_id,
            "trigger": job.trigger.value,
            "attempt": job.attempts,
            "outcome": outcome,
            "counts": dict(counts),
            "duration_ms": round(seconds * 1000),
        }
        if error is None:
            log.info("job.finished", **fields)
        elif isinstance(error, JobFailed) or _expected(error):
            log.warning("job.finished", error=_message(error), **fields)
        else:  # a bug or a store failure: keep the traceback in the log (not in the ledger)
            log.error("job.finished", error=_message(error), exc_info=error, **fields)


def _expected(error: BaseException) -> bool:
    """Failures that are about the outside world (Kaufland, the network, the account's
    secret), not about this program: logged without a traceback."""
    from kaufland_sync.secrets import MasterKeyError, SecretDecryptionError
    from kaufland_sync.sellerapi.errors import KauflandError

    return isinstance(error, KauflandError | MasterKeyError | SecretDecryptionError)


def _message(error: BaseException) -> str:
    """The error's own message for the ledger; unexpected errors are prefixed by their type
    so the failed list says what broke."""
    text = str(error).strip()
    if isinstance(error, JobFailed) or _expected(error):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
