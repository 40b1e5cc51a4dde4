"""The worker: a Huey consumer whose threads run ledger jobs, optionally with the scheduler.

``run_worker(settings)`` is ``kaufland-sync worker``: it opens the store (migrated first, as
every command does), the queue and a :class:`~kaufland_sync.jobs.runner.JobRunner`, binds the
runner to the queue and consumes with ``concurrency`` threads until told to stop. With
``with_scheduler`` the job scheduler (``kaufland_sync.jobs.scheduler.Scheduler``) ticks in a
thread of its own too (``kaufland-sync run`` and single-machine setups).

Stopping is graceful: the first SIGTERM or SIGINT (or ``stop.set()``) stops taking messages and
waits for the jobs in progress to finish; a second signal stops at once (the unfinished jobs'
leases then expire and the scheduler's recovery runs them again). Signal handlers can only be
installed from the main thread, so :func:`start_in_thread` (the worker inside the web app's
process) runs without them and is stopped through its handle.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from huey.consumer import Consumer, ConsumerStopped  # type: ignore[import-untyped]

from kaufland_sync.config import Settings
from kaufland_sync.jobs.queue import JobQueue
from kaufland_sync.jobs.runner import JobRunner, default_worker_name
from kaufland_sync.logging import get_logger
from kaufland_sync.store.base import utc_now

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "IDLE_POLL_SECONDS",
    "SCHEDULER_TICK_SECONDS",
    "WorkerHandle",
    "run_scheduler",
    "run_worker",
    "start_in_thread",
]

log = get_logger(__name__)

#: Longest pause between two looks at an empty SQLite queue (Redis blocks on the list
#: instead): bounds how long a new job waits for an idle worker.
IDLE_POLL_SECONDS = 1.0
#: Seconds between two scheduler ticks (due schedules, debounced changes, recovery).
SCHEDULER_TICK_SECONDS = 1.0


class _JobConsumer(Consumer):  # type: ignore[misc]  # huey ships no type information
    """Huey's consumer with our signal policy: SIGTERM and SIGINT both stop gracefully (wait
    for running jobs), a second one stops at once; SIGHUP is left alone (Huey would re-exec
    the process). Without ``install_signals`` no handler is installed (not the main thread)."""

    def __init__(self, huey: Any, *, install_signals: bool, **options: Any) -> None:
        super().__init__(huey, **options)
        self._install_signals = install_signals
        self._signal_actions = {signal.SIGTERM: (False, True), signal.SIGINT: (False, True)}

    def _set_signal_handlers(self) -> None:
        if self._install_signals:
            super()._set_signal_handlers()


@dataclass
class _Services:
    engine: Engine
    factory: sessionmaker[Session]
    queue: JobQueue
    runner: JobRunner

    def close(self) -> None:
        from kaufland_sync.clients import close_pacers

        self.queue.bind(None)
        self.queue.close()
        self.engine.dispose()
        close_pacers()


def _open(settings: Settings, clock: Callable[[], datetime], worker: str | None) -> _Services:
    """The store (migrated to the newest schema, like every command), queue and runner."""
    from kaufland_sync.store.db import create_db_engine, session_factory
    from kaufland_sync.store.migrate import upgrade

    engine = create_db_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
        factory = session_factory(engine)
        queue = JobQueue(settings, factory, clock=clock)
    except BaseException:
        engine.dispose()
        raise
    runner = JobRunner(
        factory,
        settings,
        queue.send,
        worker=worker or default_worker_name(),
        clock=clock,
        lease_seconds=settings.job_lease_seconds,
        renew_every=settings.job_lease_seconds / 4,
    )
    queue.bind(runner.run)
    return _Services(engine, factory, queue, runner)


def _scheduler_loop(tick: Callable[[], object], stop: threading.Event, every: float) -> None:
    """Tick until ``stop`` is set; a failing tick is logged and the next one tried (the
    scheduler's work is all idempotent: due schedules, recovery)."""
    while not stop.is_set():
        try:
            tick()
        except Exception as exc:
            log.error("scheduler.tick_failed", error=str(exc) or type(exc).__name__, exc_info=exc)
        stop.wait(every)


def _start_scheduler(
    services: _Services, clock: Callable[[], datetime], stop: threading.Event
) -> threading.Thread:
    from kaufland_sync.jobs.scheduler import Scheduler

    scheduler = Scheduler(
        services.factory, services.queue.send, owner=services.runner.worker, clock=clock
    )
    thread = threading.Thread(
        target=_scheduler_loop,
        args=(scheduler.tick, stop, SCHEDULER_TICK_SECONDS),
        name="job-scheduler",
        daemon=True,
    )
    thread.start()
    return thread


def run_worker(
    settings: Settings,
    *,
    concurrency: int = 4,
    with_scheduler: bool = False,
    stop: threading.Event | None = None,
    ready: threading.Event | None = None,
    install_signals: bool | None = None,
    worker: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Consume jobs until stopped (see the module docstring); returns after a graceful stop.

    ``stop``: set it to stop gracefully (besides the signals). ``ready`` is set once the
    consumer runs. ``install_signals`` defaults to "in the main thread". ``worker`` names this
    process in leases and on jobs (default ``host:pid``).
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    stop = stop or threading.Event()
    if install_signals is None:
        install_signals = threading.current_thread() is threading.main_thread()
    services = _open(settings, clock, worker)
    scheduler_stop = threading.Event()
    scheduler_thread: threading.Thread | None = None
    try:
        consumer = _JobConsumer(
            services.queue.huey,
            install_signals=install_signals,
            workers=concurrency,
            worker_type="thread",
            periodic=False,
            initial_delay=0.1,
            backoff=1.15,
            max_delay=IDLE_POLL_SECONDS,
            scheduler_interval=1,
            check_worker_health=True,
        )
        consumer.start()
        if with_scheduler:
            scheduler_thread = _start_scheduler(services, clock, scheduler_stop)
        log.info(
            "worker.started",
            worker=services.runner.worker,
            concurrency=concurrency,
            scheduler=with_scheduler,
            queue=repr(services.queue),
        )
        if ready is not None:
            ready.set()
        health_check = time.monotonic()
        while True:
            if stop.is_set():
                log.info("worker.stopping", worker=services.runner.worker)
                consumer.stop(graceful=True)
                break
            try:
                # Waits up to 0.1 s for the consumer's own stop flag, handles a received
                # signal (graceful stop) and restarts dead worker threads.
                health_check = consumer.loop(health_check)
            except ConsumerStopped:
                break
    finally:
        scheduler_stop.set()
        if scheduler_thread is not None:
            scheduler_thread.join()
        services.close()
        log.info("worker.stopped", worker=services.runner.worker)


def run_scheduler(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    install_signals: bool | None = None,
    owner: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """``kaufland-sync scheduler``: tick the job scheduler (due schedules, debounced changes,
    recovery of lost jobs) until SIGTERM/SIGINT or ``stop``; it runs no jobs itself. A second
    scheduler only takes over once the first one's lease has lapsed (stand-by)."""
    stop = stop or threading.Event()
    if install_signals is None:
        install_signals = threading.current_thread() is threading.main_thread()
    previous: dict[signal.Signals, Any] = {}
    if install_signals:

        def _on_signal(_signum: int, _frame: object) -> None:
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, _on_signal)
    services = _open(settings, clock, owner)
    try:
        from kaufland_sync.jobs.scheduler import Scheduler

        scheduler = Scheduler(
            services.factory, services.queue.send, owner=services.runner.worker, clock=clock
        )
        log.info("scheduler.started", owner=services.runner.worker, queue=repr(services.queue))
        scheduler.run(stop, SCHEDULER_TICK_SECONDS)  # gives up its lease when stopped
    finally:
        services.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        log.info("scheduler.stopped", owner=services.runner.worker)


class WorkerHandle:
    """A worker running in a background thread (:func:`start_in_thread`)."""

    def __init__(self, thread: threading.Thread, stop_event: threading.Event) -> None:
        self._thread = thread
        self._stop = stop_event

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop gracefully (running jobs finish first); True when the worker has ended within
        ``timeout`` seconds (None: wait as long as it takes)."""
        self._stop.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()


def start_in_thread(
    settings: Settings,
    *,
    concurrency: int = 2,
    with_scheduler: bool = True,
    ready_timeout: float | None = 30.0,
    worker: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> WorkerHandle:
    """Run :func:`run_worker` in a daemon thread without signal handlers (the caller, e.g. the
    web server, owns the signals and calls ``handle.stop()``). Returns once the consumer runs;
    raises ``RuntimeError`` when it failed to start within ``ready_timeout`` seconds."""
    stop = threading.Event()
    ready = threading.Event()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            run_worker(
                settings,
                concurrency=concurrency,
                with_scheduler=with_scheduler,
                stop=stop,
                ready=ready,
                install_signals=False,
                worker=worker,
                clock=clock,
            )
        except BaseException as exc:
            failure.append(exc)
            log.error("worker.crashed", error=str(exc) or type(exc).__name__, exc_info=exc)
        finally:
            ready.set()  # never leave the starter waiting

    thread = threading.Thread(target=target, name="kaufland-sync-worker", daemon=True)
    thread.start()
    if not ready.wait(ready_timeout) or failure:
        stop.set()
        cause = failure[0] if failure else None
        raise RuntimeError("the worker did not start") from cause
    return WorkerHandle(thread, stop)
