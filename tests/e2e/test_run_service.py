"""``kaufland-sync run`` alone keeps accounts in step: a real process against the sandbox.

The service (web app, worker threads and scheduler in one process, on the default SQLite store
and SQLite queue in its data folder) serves two accounts of two sellers:

* ``shop`` subscribes to push notifications (``webhooks subscribe``): an order a buyer places
  reaches the store within seconds, imported by a job with trigger ``push``;
* ``quiet`` does not: its order is not imported by a push, but by the scheduled ``orders`` job
  (every 5 minutes). The interval elapsing is simulated by moving the schedule's
  ``next_due_at`` to now in the database; the running scheduler then queues the job.

Every wait polls with a deadline; reaching a deadline is a failure, never the plan.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import SandboxConfig, SellerCredentials
from kaufland_sync.store.db import create_db_engine
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.jobs import (
    Job,
    JobKind,
    JobSchedule,
    JobState,
    JobTrigger,
    PushEvent,
)
from kaufland_sync.store.models.orders import Order
from tests.cli.runner import clean_env, run_cli
from tests.e2e.conftest import Control

PUSH_KEY = "e2e_run_push_client_key_00000001"
PUSH_SECRET = "e2e_run_push_secret_" + "c" * 44
POLL_KEY = "e2e_run_poll_client_key_00000002"
POLL_SECRET = "e2e_run_poll_secret_" + "d" * 44
#: Upper bound for anything the test waits for (a deadline, not a timing assertion).
DEADLINE = 20.0

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], *, deadline: float = DEADLINE) -> T:
    """Poll ``probe`` until it returns something other than None (or False); fail at the
    deadline naming ``what``."""
    end = time.monotonic() + deadline
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > end:
            pytest.fail(f"{what}: not within {deadline} s")
        time.sleep(0.05)  # polling interval, not a timing assumption


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def run_sandbox() -> Iterator[RunningSandbox]:
    """A sandbox of its own with the two sellers (push notifications are per seller)."""
    config = SandboxConfig(
        sellers=[
            SellerCredentials(PUSH_KEY, PUSH_SECRET, ("de",)),
            SellerCredentials(POLL_KEY, POLL_SECRET, ("de",)),
        ],
        seed="demo",
        open_delay=0.0,
        review_delay=0.0,
        random_seed=505,
    )
    with RunningSandbox(config) as running:
        yield running


class Service:
    """``python -m kaufland_sync run`` as a child process, stopped (killed at worst) on close."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "kaufland_sync", "run", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(env),
        )
        self.http = httpx.Client(base_url=self.url, timeout=5.0)

    def healthy(self) -> bool:
        if self.process.poll() is not None:
            out, err = self.process.communicate()
            pytest.fail(f"`run` ended early with {self.process.returncode}:\n{out}\n{err}")
        try:
            return self.http.get("/health").status_code == 200
        except httpx.TransportError:
            return False  # not listening yet

    def close(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


def order_of(engine: Engine, account: str, id_order: str) -> bool:
    with Session(engine) as session:
        found = session.scalar(
            select(Order.id)
            .join(Account, Account.id == Order.account_id)
            .where(Account.name == account, Order.id_order == id_order)
        )
    return found is not None


def jobs_of(engine: Engine, account: str) -> list[Job]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Job)
                .join(Account, Account.id == Job.account_id)
                .where(Account.name == account, Job.kind == JobKind.ORDERS)
                .order_by(Job.id)
            )
        )


def finished_orders_job(engine: Engine, account: str, trigger: JobTrigger) -> Job | None:
    """The newest ``orders`` job of the account with ``trigger`` that has ended (done, or
    failed for good), if any."""
    ended = [
        j
        for j in jobs_of(engine, account)
        if j.trigger is trigger and j.state in (JobState.DONE, JobState.FAILED)
    ]
    return ended[-1] if ended else None


def importing_job(engine: Engine, account: str, trigger: JobTrigger, since: datetime) -> Job | None:
    """The account's first ``orders`` job with ``trigger`` started at ``since`` or later that
    is done and imported new orders."""
    return next(
        (
            j
            for j in jobs_of(engine, account)
            if j.trigger is trigger
            and j.started_at is not None
            and j.started_at >= since
            and j.state is JobState.DONE
            and j.counts.get("orders_new", 0) > 0
        ),
        None,
    )


def test_run_imports_pushed_orders_within_seconds_and_polled_ones_on_schedule(
    run_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    env = {"KAUFLAND_SYNC_DATA_DIR": str(data)}
    for name, key, secret in (("shop", PUSH_KEY, PUSH_SECRET), ("quiet", POLL_KEY, POLL_SECRET)):
        added = run_cli(
            "accounts", "add", name, "--client-key", key, "--base-url", run_sandbox.base_url,
            "--storefront", "de", env=env | {"KAUFLAND_SYNC_SECRET_KEY": secret},
        )  # fmt: skip
        assert added.returncode == 0, added.stderr

    control = Control(run_sandbox.root_url)
    engine = create_db_engine(f"sqlite:///{data / 'kaufland-sync.db'}")
    service = Service(env, free_port())
    try:
        wait_for("GET /health answers 200", service.healthy)
        # A new account's schedules are due at once: the first scheduled orders job of each
        # account runs now. Orders placed after it are new to both.
        for name in ("shop", "quiet"):
            first = wait_for(
                f"the first scheduled orders job of {name}",
                partial(finished_orders_job, engine, name, JobTrigger.SCHEDULE),
            )
            assert first.state is JobState.DONE, first.last_error

        subscribed = run_cli(
            "webhooks", "subscribe", "--account", "shop", "--public-url", service.url,
            "--email", "ops@example.com", env=env,
        )  # fmt: skip
        assert subscribed.returncode == 0, subscribed.stderr

        # -- push on: the order arrives within seconds, through a push-triggered job ---------
        ordered_at = datetime.now(UTC)
        (quiet_order,) = control.orders(1, client_key=POLL_KEY)["ids_order"]
        placed = time.monotonic()
        (shop_order,) = control.orders(1, client_key=PUSH_KEY)["ids_order"]
        wait_for("the pushed order in the store", lambda: order_of(engine, "shop", shop_order))
        print(f"push on: order {shop_order} imported {time.monotonic() - placed:.2f} s after")
        pushed = wait_for(
            "the push-triggered orders job that imported it",
            partial(importing_job, engine, "shop", JobTrigger.PUSH, ordered_at),
        )
        assert pushed.counts["orders_new"] == 1, pushed.counts
        with Session(engine) as session:
            events = session.scalars(select(PushEvent).order_by(PushEvent.id)).all()
            accounts = {
                name: id_ for name, id_ in session.execute(select(Account.name, Account.id))
            }
        assert events, "no push notification was received"
        assert {e.account_id for e in events} == {accounts["shop"]}
        assert pushed.id in {e.job_id for e in events}

        # -- push off: nothing pushed, so the order waits for the 5-minute poll --------------
        assert not order_of(engine, "quiet", quiet_order), "imported without a poll"
        assert all(j.trigger is JobTrigger.SCHEDULE for j in jobs_of(engine, "quiet"))
        now = datetime.now(UTC)
        with Session(engine) as session:
            schedule = session.scalars(
                select(JobSchedule).where(
                    JobSchedule.account_id == accounts["quiet"],
                    JobSchedule.kind == JobKind.ORDERS,
                )
            ).one()
            assert schedule.interval_minutes == 5
            assert schedule.next_due_at > now + timedelta(minutes=4), "next poll in 5 minutes"
            # The interval elapses (simulated): the running scheduler sees the schedule due.
            schedule.next_due_at = now
            session.commit()
        due = time.monotonic()
        wait_for("the polled order in the store", lambda: order_of(engine, "quiet", quiet_order))
        print(f"push off: order {quiet_order} imported {time.monotonic() - due:.2f} s after due")
        polled = wait_for(
            "the scheduled orders job that imported it",
            partial(importing_job, engine, "quiet", JobTrigger.SCHEDULE, now),
        )
        assert polled.counts["orders_new"] == 1, polled.counts
        assert not [j for j in jobs_of(engine, "quiet") if j.trigger is JobTrigger.PUSH]

        # -- metrics: job states and Seller API requests ------------------------------------
        metrics = service.http.get("/metrics")
        assert metrics.status_code == 200
        lines = metrics.text.splitlines()
        assert any(line.startswith('kaufland_sync_jobs{state="done"} ') for line in lines)
        assert any(
            line.startswith("kaufland_sync_api_requests_total{")
            and 'endpoint="/order-units"' in line
            and 'status="200"' in line
            for line in lines
        ), "no counted Seller API request:\n" + metrics.text

        # -- SIGTERM: a graceful stop, exit 0 ------------------------------------------------
        service.process.send_signal(signal.SIGTERM)
        try:
            out, err = service.process.communicate(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail("`run` did not stop within the deadline after SIGTERM")
        assert service.process.returncode == 0, (out, err)
        assert "Traceback" not in err, err
        assert err.rstrip().endswith("stopped."), err
    finally:
        service.close()
        control.close()
        engine.dispose()
