"""``kaufland-sync worker | scheduler | run`` as real processes: each starts, does its part and
stops with exit 0 on SIGTERM; a queue URL it cannot use is one ``error:`` line and exit 1.

The account ``shop`` (tests/cli/conftest.py) points at a sandbox served by this test process.
Waits poll the store with a deadline; reaching a deadline is a failure, never the plan.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kaufland_sync.jobs import ledger
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import create_db_engine
from kaufland_sync.store.models.jobs import Job, JobKind, JobSchedule, JobState, JobTrigger
from tests.cli.conftest import SHOP_KEY
from tests.cli.runner import clean_env, run_cli, run_process

#: Upper bound for anything a test waits for.
DEADLINE = 20.0

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], process: subprocess.Popen[str]) -> T:
    """Poll ``probe`` until it returns something truthy; fail at the deadline, or at once when
    ``process`` ended meanwhile (with what it wrote)."""
    end = time.monotonic() + DEADLINE
    while True:
        found = probe()
        if found:
            return found
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"{what}: the process ended with {process.returncode}\n{out}\n{err}")
        if time.monotonic() > end:
            pytest.fail(f"{what}: not within {DEADLINE} s")
        time.sleep(0.05)  # polling interval, not a timing assumption


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def start(env: dict[str, str]) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """``start(*args)``: ``python -m kaufland_sync ARGS`` in the background on the account's
    data folder; whatever is still running at the end of the test is killed."""
    started: list[subprocess.Popen[str]] = []

    def launch(*args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "kaufland_sync", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(env),
        )
        started.append(process)
        return process

    yield launch
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


@pytest.fixture
def engine(env: dict[str, str]) -> Iterator[Engine]:
    made = create_db_engine(f"sqlite:///{Path(env['KAUFLAND_SYNC_DATA_DIR'])}/kaufland-sync.db")
    yield made
    made.dispose()


def jobs(engine: Engine) -> list[Job]:
    with Session(engine) as session:
        return list(session.scalars(select(Job).order_by(Job.id)))


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, then the process must end by itself with exit 0; returns its stderr."""
    process.send_signal(signal.SIGTERM)
    try:
        out, err = process.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        pytest.fail("did not stop within the deadline after SIGTERM")
    assert process.returncode == 0, (process.returncode, out, err)
    assert "Traceback" not in err, err
    assert out == "", "nothing but output on stdout, and a service has none"
    return err


def test_worker_runs_a_queued_job_serves_metrics_and_stops_on_sigterm(
    sandbox: RunningSandbox,
    env: dict[str, str],
    start: Callable[..., subprocess.Popen[str]],
    engine: Engine,
) -> None:
    placed = httpx.post(
        f"{sandbox.root_url}/_sandbox/orders",
        json={"client_key": SHOP_KEY, "count": 2, "storefront": "de"},
        timeout=10.0,
    )
    assert placed.status_code == 201, placed.text
    added = run_cli("jobs", "add", "orders", "--account", "shop", env=env)
    assert added.returncode == 0, added.stderr
    port = free_port()
    worker = start("worker", "--concurrency", "2", "--metrics-port", str(port))

    def done() -> list[Job]:
        return [j for j in jobs(engine) if j.state in (JobState.DONE, JobState.FAILED)]

    (job,) = wait_for("the queued job ran", done, worker)
    assert (job.kind, job.trigger, job.state) == (JobKind.ORDERS, JobTrigger.MANUAL, JobState.DONE)
    assert job.attempts == 1 and job.last_error is None
    assert job.counts["orders_new"] >= 2, job.counts
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0).text
    assert 'kaufland_sync_job_runs_total{kind="orders",outcome="done"} 1.0' in metrics
    assert not any(s.kind for s in _schedules(engine)), "a worker alone schedules nothing"

    said = stop(worker)
    queue = Path(env["KAUFLAND_SYNC_DATA_DIR"]) / "queue.db"
    assert f"worker: 2 job threads on queue sqlite:///{queue}" in " ".join(said.split())
    assert said.rstrip().endswith("worker stopped.")


def _schedules(engine: Engine) -> list[JobSchedule]:
    with Session(engine) as session:
        return list(session.scalars(select(JobSchedule)))


def test_scheduler_queues_due_jobs_without_running_them_and_stops_on_sigterm(
    env: dict[str, str], start: Callable[..., subprocess.Popen[str]], engine: Engine
) -> None:
    scheduler = start("scheduler")

    def queued() -> list[Job]:
        found = jobs(engine)
        return found if len(found) == len(JobKind) else []

    found = wait_for("a scheduled job of every kind", queued, scheduler)
    assert {j.kind for j in found} == set(JobKind), "a new account's schedules are due at once"
    assert {(j.trigger, j.state) for j in found} == {(JobTrigger.SCHEDULE, JobState.QUEUED)}
    assert {s.interval_minutes for s in _schedules(engine) if s.kind is JobKind.ORDERS} == {5}

    said = stop(scheduler)
    queue = Path(env["KAUFLAND_SYNC_DATA_DIR"]) / "queue.db"
    assert f"scheduler on queue sqlite:///{queue}" in " ".join(said.split())
    assert said.rstrip().endswith("scheduler stopped.")
    assert all(j.state is JobState.QUEUED for j in jobs(engine)), "the scheduler runs no job"


def test_run_serves_health_runs_scheduled_jobs_and_stops_on_sigterm(
    env: dict[str, str], start: Callable[..., subprocess.Popen[str]], engine: Engine
) -> None:
    # Only the orders schedule on: the run has one job to do and stops without waiting for
    # the others.
    with Session(engine) as session:
        shop = AccountRepository(session).get("shop").id
        for kind in JobKind:
            if kind is not JobKind.ORDERS:
                ledger.set_interval(session, shop, kind, 0, now=datetime.now(UTC))
        session.commit()
    port = free_port()
    service = start("run", "--port", str(port), "--concurrency", "2")

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=5.0).status_code == 200
        except httpx.TransportError:
            return False  # not listening yet

    wait_for("GET /health answers 200", healthy, service)

    def orders_done() -> list[Job]:
        return [j for j in jobs(engine) if j.kind is JobKind.ORDERS and j.state is JobState.DONE]

    (job,) = wait_for("the scheduled orders job ran", orders_done, service)
    assert job.trigger is JobTrigger.SCHEDULE
    assert {j.kind for j in jobs(engine)} == {JobKind.ORDERS}, "switched-off kinds do not run"

    said = stop(service)
    assert f"serving http://127.0.0.1:{port}" in said
    assert said.rstrip().endswith("stopped.")


@pytest.mark.parametrize("command", ["worker", "scheduler", "run"])
def test_an_unusable_queue_url_is_one_error_line_and_exit_1(
    command: str, env: dict[str, str]
) -> None:
    bad = env | {"KAUFLAND_SYNC_QUEUE_URL": "ftp://x"}
    if command == "worker":  # one real process: the message as the shell sees it
        result = run_process(command, env=bad)
        returncode, stdout, stderr = result.returncode, result.stdout, result.stderr
    else:
        ran = run_cli(command, env=bad)
        returncode, stdout, stderr = ran.returncode, ran.stdout, ran.stderr
    assert returncode == 1
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: queue URL 'ftp://x' is not supported")
    assert "sqlite:///path/queue.db" in lines[0] and "redis://" in lines[0]


def test_worker_help_lists_its_options() -> None:
    shown = run_cli("worker", "--help")
    assert shown.returncode == 0
    for option in ("--concurrency", "--with-scheduler", "--metrics-port", "--help"):
        assert option in shown.stdout, option
    assert "Run jobs from the queue until stopped" in " ".join(shown.stdout.split())
