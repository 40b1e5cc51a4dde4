"""The worker end to end on one machine: a SQLite store and a SQLite queue file, a job submitted
by another queue object (another process in real life), run by the worker's threads, then a
graceful stop. The job kind is ``performance``: it reads the store only, so no sandbox is
needed to see the whole path (queue -> runner -> handler -> ledger) work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.jobs import ledger
from kaufland_sync.jobs.queue import JobQueue
from kaufland_sync.jobs.worker import run_worker, start_in_thread
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from tests.builders import add_account, migrated_store

DEADLINE = 30.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        master_key=SecretStr(Fernet.generate_key().decode("ascii")),
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[sessionmaker[Session]]:
    with migrated_store(settings.resolved_database_url) as made:
        yield made


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds (the worker runs in real time); fail at the deadline."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)  # polling a database a worker writes to, not timing anything


def job_state(factory: sessionmaker[Session], job_id: int) -> JobState:
    with factory() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job.state


def test_a_submitted_job_is_run_by_the_worker_which_then_stops_gracefully(
    settings: Settings, store: sessionmaker[Session]
) -> None:
    account = add_account(store)
    stop, ready = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def work() -> None:
        try:
            run_worker(settings, concurrency=2, stop=stop, ready=ready, worker="test-worker")
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    thread = threading.Thread(target=work, name="worker-under-test")
    thread.start()
    try:
        assert ready.wait(DEADLINE), failures
        submitter = JobQueue(settings, store)
        try:
            made = submitter.submit(
                account_id=account.id, kind=JobKind.PERFORMANCE, trigger=JobTrigger.MANUAL
            )
        finally:
            submitter.close()
        wait_for(lambda: job_state(store, made.job_id) is JobState.DONE, "the job to be done")
    finally:
        stop.set()
        thread.join(DEADLINE)
    assert not thread.is_alive()
    assert failures == []
    with store() as session:
        job = session.get(Job, made.job_id)
        assert job is not None
        assert job.worker == "test-worker" and job.attempts == 1
        assert job.counts["de_lines"] == 0


def test_the_worker_in_a_thread_with_the_scheduler_runs_scheduled_jobs(
    settings: Settings, store: sessionmaker[Session]
) -> None:
    account = add_account(store)
    now = datetime.now(UTC)
    with transaction(store) as session:  # only the store-only kind is on
        for kind in JobKind:
            minutes = 60 if kind is JobKind.PERFORMANCE else 0
            ledger.set_interval(session, account.id, kind, minutes, now=now)

    handle = start_in_thread(settings, concurrency=1, with_scheduler=True)
    try:
        assert handle.alive

        def ran() -> bool:
            with store() as session:
                done = ledger.list_jobs(session, states=[JobState.DONE], account_id=account.id)
                return any(j.kind is JobKind.PERFORMANCE for j in done)

        wait_for(ran, "the scheduled performance job to run")
    finally:
        assert handle.stop(DEADLINE)
    assert not handle.alive
    with store() as session:
        kinds = {j.kind for j in ledger.list_jobs(session, account_id=account.id)}
    assert kinds == {JobKind.PERFORMANCE}


def test_a_worker_that_cannot_start_says_so(tmp_path: Path) -> None:
    broken = Settings(data_dir=tmp_path, queue_url="amqp://nowhere")
    with pytest.raises(RuntimeError, match="did not start"):
        start_in_thread(broken, with_scheduler=False)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_a_worker_process_gracefully(settings: Settings, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    script = (
        "import sys, threading\n"
        "from pathlib import Path\n"
        "from kaufland_sync.config import Settings\n"
        "from kaufland_sync.jobs.worker import run_worker\n"
        "ready = threading.Event()\n"
        "def mark():\n"
        "    ready.wait(); Path(sys.argv[1]).write_text('ok')\n"
        "threading.Thread(target=mark, daemon=True).start()\n"
        "run_worker(Settings(), concurrency=1, ready=ready)\n"
        "print('stopped cleanly')\n"
    )
    env = {
        **os.environ,
        "KAUFLAND_SYNC_DATA_DIR": str(settings.data_dir),
        "KAUFLAND_SYNC_DATABASE_URL": settings.resolved_database_url,
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script, str(ready)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: ready.exists() or process.poll() is not None, "the worker to start")
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped cleanly" in out
