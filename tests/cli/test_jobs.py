"""``kaufland-sync jobs list|failed|retry|drop|add`` and ``schedules show|set`` in process.

No worker runs here: ``jobs add`` and ``jobs retry`` only put jobs in the ledger and their
messages on the (SQLite) queue in the data folder. A job on the failed list is made with the
ledger's own functions (enqueue, then claim and fail until the attempts are used up), as a
worker would leave it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.jobs import ledger
from kaufland_sync.jobs.queue import create_huey
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import create_db_engine, session_factory
from kaufland_sync.store.models.jobs import DEFAULT_INTERVALS, JobKind, JobState, JobTrigger
from tests.cli.runner import Ran, run_cli

#: The fields of one job in ``jobs list --json``.
JOB_FIELDS = {
    "id", "account", "kind", "trigger", "state", "attempts", "max_attempts", "enqueued_at",
    "not_before", "started_at", "finished_at", "duration_ms", "worker", "counts", "last_error",
}  # fmt: skip


def said(result: Ran) -> str:
    """What a command wrote to stderr, as one line: Rich's error panel borders and line breaks
    removed (a long message is wrapped inside the panel)."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stderr).split())


def ok(*args: str, env: dict[str, str]) -> Ran:
    result = run_cli(*args, env=env)
    assert result.returncode == 0, result.stderr
    return result


def listed(*args: str, env: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(ok(*args, "--json", env=env).stdout)
    return rows


@pytest.fixture
def store(env: dict[str, str]) -> Iterator[sessionmaker[Session]]:
    """Sessions on the data folder's store (migrated by ``accounts add``)."""
    engine = create_db_engine(f"sqlite:///{Path(env['KAUFLAND_SYNC_DATA_DIR'])}/kaufland-sync.db")
    yield session_factory(engine)
    engine.dispose()


def account_id(store: sessionmaker[Session], name: str = "shop") -> int:
    with store() as session:
        return AccountRepository(session).get(name).id


def make_failed(store: sessionmaker[Session], kind: JobKind, error: str) -> int:
    """A job of the account ``shop`` that failed on each of its two attempts."""
    now = datetime.now(UTC)
    with store() as session:
        job_id = ledger.enqueue(
            session,
            account_id=account_id(store),
            kind=kind,
            trigger=JobTrigger.SCHEDULE,
            now=now,
            max_attempts=2,
        ).job_id
        session.commit()
        state = JobState.QUEUED
        while state is not JobState.FAILED:
            # Each attempt after the previous one's backoff (capped at 15 minutes).
            now += timedelta(minutes=16)
            claimed = ledger.claim(session, job_id, worker="test", now=now, lease_seconds=60)
            assert claimed.claimed, claimed.reason
            state = ledger.fail(session, job_id, now=now, error=error, worker="test")
            session.commit()
    return job_id


def messages(env: dict[str, str]) -> int:
    """Messages waiting on the data folder's queue."""
    huey = create_huey(f"sqlite:///{Path(env['KAUFLAND_SYNC_DATA_DIR'])}/queue.db")
    try:
        return int(huey.pending_count()) + int(huey.scheduled_count())
    finally:
        huey.storage.close()


def test_add_queues_a_job_once_and_list_shows_it(env: dict[str, str]) -> None:
    assert listed("jobs", "list", env=env) == []

    first = ok("jobs", "add", "orders", "--account", "shop", env=env)
    assert re.search(r"queued job \d+: orders for shop", said(first)), first.stderr
    again = ok("jobs", "add", "ORDERS", "--account", "shop", env=env)
    assert re.search(r"already queued as job \d+: orders for shop", said(again)), again.stderr
    ok("jobs", "add", "stock", "--account", "shop", env=env)
    assert messages(env) == 2, "one message per new job, none for the repeat"

    rows = listed("jobs", "list", env=env)
    assert [(r["kind"], r["state"], r["trigger"]) for r in rows] == [
        ("stock", "queued", "manual"),
        ("orders", "queued", "manual"),
    ], "newest first, the repeated add did not queue a second orders job"
    orders = rows[1]
    assert set(orders) == JOB_FIELDS
    assert orders["account"] == "shop"
    assert (orders["attempts"], orders["max_attempts"]) == (0, 5)
    assert orders["counts"] == {} and orders["last_error"] is None
    assert orders["started_at"] is None and orders["finished_at"] is None
    assert datetime.fromisoformat(orders["not_before"]).tzinfo is not None

    only = listed("jobs", "list", "--kind", "stock", "--state", "queued", env=env)
    assert [r["kind"] for r in only] == ["stock"]
    assert listed("jobs", "list", "--state", "done", env=env) == []
    assert listed("jobs", "list", "--account", "shop", "--limit", "1", env=env) == rows[:1]

    table = ok("jobs", "list", env=env).stdout
    assert "orders" in table and "stock" in table and "queued" in table and "0/5" in table


def test_a_failed_job_is_listed_with_its_error_retried_and_dropped(
    env: dict[str, str], store: sessionmaker[Session]
) -> None:
    job_id = make_failed(store, JobKind.RETURNS, "Kaufland answered 503 for GET /returns")
    assert listed("jobs", "failed", env=env) == listed("jobs", "list", "--state", "failed", env=env)
    (failed,) = listed("jobs", "failed", env=env)
    assert (failed["id"], failed["kind"], failed["state"]) == (job_id, "returns", "failed")
    assert failed["attempts"] == failed["max_attempts"] == 2
    assert failed["last_error"] == "Kaufland answered 503 for GET /returns"
    table = ok("jobs", "failed", env=env).stdout
    assert f"#{job_id}: Kaufland answered 503 for GET /returns" in table

    retried = ok("jobs", "retry", str(job_id), env=env)
    assert f"job {job_id} queued again as job {job_id}" in said(retried)
    assert listed("jobs", "failed", env=env) == []
    (back,) = listed("jobs", "list", "--state", "queued", env=env)
    assert (back["id"], back["trigger"], back["attempts"]) == (job_id, "manual", 0)
    assert messages(env) == 1, "the retried job was sent to the queue"

    again = make_failed(store, JobKind.TICKETS, "boom")
    dropped = ok("jobs", "drop", str(again), env=env)
    assert f"job {again} dropped" in said(dropped)
    assert listed("jobs", "failed", env=env) == []
    assert [r["state"] for r in listed("jobs", "list", "--kind", "tickets", env=env)] == ["dropped"]
    # A queued job may be dropped too; a dropped one is history.
    ok("jobs", "drop", str(job_id), env=env)
    twice = run_cli("jobs", "drop", str(job_id), env=env)
    assert twice.returncode == 1
    assert f"job {job_id} is dropped; only failed, queued or retrying jobs can be dropped" in said(
        twice
    )


def test_errors_name_the_unknown_or_refused_thing(
    env: dict[str, str], store: sessionmaker[Session]
) -> None:
    missing = run_cli("jobs", "retry", "4242", env=env)
    assert missing.returncode == 1 and "job 4242 does not exist" in said(missing)
    assert "Traceback" not in missing.stderr
    missing_drop = run_cli("jobs", "drop", "4242", env=env)
    assert missing_drop.returncode == 1 and "job 4242 does not exist" in said(missing_drop)

    ok("jobs", "add", "offers", "--account", "shop", env=env)
    (queued,) = listed("jobs", "list", env=env)
    not_failed = run_cli("jobs", "retry", str(queued["id"]), env=env)
    assert not_failed.returncode == 1
    assert f"job {queued['id']} is queued; only failed jobs can be retried" in said(not_failed)

    kind = run_cli("jobs", "add", "invoices", "--account", "shop", env=env)
    assert kind.returncode == 2 and "unknown job kind 'invoices'" in said(kind)
    assert "orders, stock, offers" in said(kind)
    listed_kind = run_cli("jobs", "list", "--kind", "invoices", env=env)
    assert listed_kind.returncode == 2 and "unknown job kind 'invoices'" in said(listed_kind)
    state = run_cli("jobs", "list", "--state", "stuck", env=env)
    assert state.returncode == 2 and "unknown state 'stuck'" in said(state)
    assert "queued, running, retrying, done, failed, dropped" in said(state)

    for args in (
        ("jobs", "add", "orders", "--account", "nobody"),
        ("jobs", "list", "--account", "nobody"),
        ("jobs", "failed", "--account", "nobody"),
        ("schedules", "show", "--account", "nobody"),
        ("schedules", "set", "orders", "15", "--account", "nobody"),
    ):
        result = run_cli(*args, env=env)
        assert result.returncode == 1, args
        assert "no account named 'nobody'" in said(result), (args, result.stderr)
    assert len(listed("jobs", "list", env=env)) == 1, "nothing was queued by the refusals"


def test_schedules_show_the_defaults_and_set_changes_them(env: dict[str, str]) -> None:
    rows = listed("schedules", "show", env=env)
    assert [(r["account"], r["kind"], r["interval_minutes"]) for r in rows] == [
        ("shop", kind.value, DEFAULT_INTERVALS[kind]) for kind in JobKind
    ]
    assert {r["kind"]: r["interval_minutes"] for r in rows} == {
        "orders": 5, "stock": 15, "offers": 60, "outbox": 5, "returns": 15, "tickets": 60,
        "categories": 60, "performance": 60,
    }  # fmt: skip
    assert all(datetime.fromisoformat(r["next_due_at"]).tzinfo for r in rows)

    before = datetime.now(UTC)
    fifteen = ok("schedules", "set", "orders", "15", "--account", "shop", env=env)
    assert "shop: orders every 15 minutes" in said(fifteen)
    off = ok("schedules", "set", "performance", "off", "--account", "shop", env=env)
    assert "shop: performance switched off" in said(off)
    hourly_to_five = ok("schedules", "set", "tickets", "5min", "--account", "shop", env=env)
    assert "shop: tickets every 5 minutes" in said(hourly_to_five)

    shown = {r["kind"]: r for r in listed("schedules", "show", "--account", "shop", env=env)}
    assert shown["orders"]["interval_minutes"] == 15
    assert shown["performance"] == {
        "account": "shop",
        "kind": "performance",
        "interval_minutes": 0,
        "next_due_at": None,
    }
    # A shorter interval takes effect at once: the next run is due within 5 minutes.
    due = datetime.fromisoformat(shown["tickets"]["next_due_at"])
    assert due <= datetime.now(UTC) + timedelta(minutes=5)
    assert due >= before - timedelta(minutes=1)
    table = ok("schedules", "show", env=env).stdout
    assert "15 min" in table and "off" in table

    seven = run_cli("schedules", "set", "orders", "7", "--account", "shop", env=env)
    assert seven.returncode == 1
    assert "interval 7 minutes is not allowed; choose one of 0, 5, 15, 60" in said(seven)
    words = run_cli("schedules", "set", "orders", "hourly", "--account", "shop", env=env)
    assert words.returncode == 2 and "'hourly' is not an interval; use 5, 15, 60 or off" in said(
        words
    )
    kind = run_cli("schedules", "set", "invoices", "5", "--account", "shop", env=env)
    assert kind.returncode == 2 and "unknown job kind 'invoices'" in said(kind)
    still = {r["kind"]: r["interval_minutes"] for r in listed("schedules", "show", env=env)}
    assert still["orders"] == 15, "a refused change changes nothing"
