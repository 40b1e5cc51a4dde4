"""The daily job rollup against the raw jobs, on SQLite and PostgreSQL.

The property: whatever the real job ledger does — enqueue, claim, complete, fail (with retries
and supersession), retry a failed job, drop, recover lost workers — across several days and
however the work is split into transactions, (1) the rollup the sessions maintained is row for
row what a rebuild from ``jobs`` gives, and (2) the dashboard's sync health from the rollup
equals the one counted over the raw jobs, for every period and account filter. Plus: the
migration's backfill and a rolled-back transaction.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.jobs import ledger
from kaufland_sync.reports.dashboard import Period, dashboard
from kaufland_sync.store.db import create_db_engine, session_factory, transaction
from kaufland_sync.store.migrate import upgrade
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.job_rollup import JobStatsDaily, rebuild_job_stats
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from tests.builders import at, new_account

START = at("2026-03-07", "22:00")
LEASE = 600.0
KINDS = (JobKind.ORDERS, JobKind.OFFERS)
PERIODS = (
    Period("today"),
    Period("7d"),
    Period.custom(date(2026, 3, 7), date(2026, 3, 8)),
    Period.custom(date(2026, 3, 9), date(2026, 3, 9)),
)

steps = st.one_of(
    st.tuples(st.just("enqueue"), st.integers(0, 1), st.sampled_from(KINDS), st.integers(1, 2)),
    # Moves one job a step along its life: pending → claimed; running → done or failed
    # (retrying, failed or dropped, as the ledger decides); failed → retried or dropped.
    st.tuples(st.just("advance"), st.integers(0, 30), st.booleans()),
    st.tuples(st.just("advance"), st.integers(0, 30), st.booleans()),
    st.tuples(st.just("advance"), st.integers(0, 30), st.booleans()),
    st.tuples(st.just("drop"), st.integers(0, 30)),
    st.tuples(
        st.just("recover"),
    ),
    st.tuples(st.just("wait"), st.sampled_from((60, 3 * 3600, 26 * 3600))),
    st.tuples(
        st.just("commit"),
    ),
    st.tuples(st.just("wait"), st.sampled_from((60, 3 * 3600, 26 * 3600))),
    st.tuples(
        st.just("commit"),
    ),
)
scripts = st.lists(steps, min_size=1, max_size=30)


def rollup_rows(session: Session) -> list[tuple[Any, ...]]:
    stats = JobStatsDaily
    return sorted(
        tuple(row)
        for row in session.execute(select(stats.day, stats.account_id, stats.state, stats.jobs))
    )


def rebuilt_rows(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    """What a rebuild from ``jobs`` gives (rolled back: the store keeps its own rollup)."""
    with factory() as session:
        rebuild_job_stats(session)
        rows = rollup_rows(session)
        session.rollback()
    return rows


def stored_rows(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with factory() as session:
        return rollup_rows(session)


def assert_same_health(session: Session, accounts: list[Account], now: datetime) -> None:
    for period in PERIODS:
        for account_id in (None, accounts[0].id):
            fast = dashboard(session, period=period, now=now, account_id=account_id)
            slow = dashboard(
                session, period=period, now=now, account_id=account_id, use_rollup=False
            )
            assert fast.kpi("sync_health").as_dict() == slow.kpi("sync_health").as_dict(), (
                period,
                account_id,
            )


@pytest.fixture
def accounts(factory: sessionmaker[Session]) -> list[Account]:
    with transaction(factory) as session:
        return [new_account(session, "shop"), new_account(session, "other")]


class Ledger:
    """Plays a generated script through the real ledger functions, on one session, with a
    clock that only moves forward."""

    def __init__(self, session: Session, accounts: list[Account]) -> None:
        self.session = session
        self.accounts = accounts
        self.now = START

    def job(self, n: int, *states: JobState) -> int | None:
        query = select(Job.id).order_by(Job.id)
        if states:
            query = query.where(Job.state.in_(states))
        ids = list(self.session.scalars(query))
        return ids[n % len(ids)] if ids else None

    def play(self, step: tuple[Any, ...]) -> None:
        session, now = self.session, self.now
        kind = step[0]
        if kind == "enqueue":
            ledger.enqueue(
                session,
                account_id=self.accounts[step[1]].id,
                kind=step[2],
                trigger=JobTrigger.SCHEDULE,
                now=now,
                max_attempts=step[3],
            )
        elif kind == "advance" and (job_id := self.job(step[1])) is not None:
            self.advance(job_id, step[2])
        elif kind == "drop" and (
            job_id := self.job(step[1], JobState.FAILED, JobState.QUEUED, JobState.RETRYING)
        ):
            ledger.drop(session, job_id, now=now)
        elif kind == "recover":
            ledger.recover(session, now=now)
        elif kind == "wait":
            self.now = now + timedelta(seconds=step[1])
        elif kind == "commit":
            session.commit()

    def advance(self, job_id: int, good: bool) -> None:
        session, now = self.session, self.now
        state = session.get(Job, job_id, populate_existing=True)
        assert state is not None
        if state.state in (JobState.QUEUED, JobState.RETRYING):
            session.commit()  # a claim wants a session without other pending work
            ledger.claim(session, job_id, worker="w", now=now, lease_seconds=LEASE)
        elif state.state is JobState.RUNNING and good:
            ledger.complete(session, job_id, now=now, counts={"orders": 1})
        elif state.state is JobState.RUNNING:
            ledger.fail(session, job_id, now=now, error="boom", jitter=lambda: 0.0)
        elif state.state is JobState.FAILED and good:
            ledger.retry(session, job_id, now=now)
        elif state.state is JobState.FAILED:
            ledger.drop(session, job_id, now=now)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=scripts)
def test_the_job_rollup_is_always_what_the_jobs_say(
    factory: sessionmaker[Session], accounts: list[Account], script: list[tuple[Any, ...]]
) -> None:
    with transaction(factory) as session:  # every example starts without jobs
        session.execute(delete(Job))
        session.execute(delete(JobStatsDaily))
    with factory() as session:
        player = Ledger(session, accounts)
        for step in script:
            player.play(step)
        # Uncommitted changes: the dashboard settles the session's job rollup before reading.
        assert_same_health(session, accounts, player.now)
        session.commit()
    assert stored_rows(factory) == rebuilt_rows(factory)
    with factory() as session:
        assert_same_health(session, accounts, player.now)


def test_a_finished_lifecycle_is_counted_on_its_finish_days(
    factory: sessionmaker[Session], accounts: list[Account]
) -> None:
    """A job that fails for good on one day and, retried, succeeds the next: the failed count
    leaves the first day when the retry clears its finish time."""
    account_id = accounts[0].id
    day_one, day_two = at("2026-03-08", "23:00"), at("2026-03-09", "01:00")
    with factory() as session:
        job_id = ledger.enqueue(
            session,
            account_id=account_id,
            kind=JobKind.ORDERS,
            trigger=JobTrigger.MANUAL,
            now=day_one,
            max_attempts=1,
        ).job_id
        session.commit()
        ledger.claim(session, job_id, worker="w", now=day_one, lease_seconds=LEASE)
        assert ledger.fail(session, job_id, now=day_one, error="boom") is JobState.FAILED
        session.commit()
        assert rollup_rows(session) == [(date(2026, 3, 8), account_id, JobState.FAILED, 1)]
        ledger.retry(session, job_id, now=day_two)
        session.commit()
        assert rollup_rows(session) == []
        ledger.claim(session, job_id, worker="w", now=day_two, lease_seconds=LEASE)
        ledger.complete(session, job_id, now=day_two, counts={})
        session.commit()
        assert rollup_rows(session) == [(date(2026, 3, 9), account_id, JobState.DONE, 1)]


def test_a_rolled_back_transaction_leaves_the_job_rollup_as_it_was(
    factory: sessionmaker[Session], accounts: list[Account]
) -> None:
    moment = at("2026-03-08", "10:00")
    with factory() as session:
        job_id = ledger.enqueue(
            session,
            account_id=accounts[0].id,
            kind=JobKind.ORDERS,
            trigger=JobTrigger.MANUAL,
            now=moment,
        ).job_id
        session.commit()
        ledger.claim(session, job_id, worker="w", now=moment, lease_seconds=LEASE)
        ledger.complete(session, job_id, now=moment, counts={})
        session.rollback()
    assert stored_rows(factory) == [] == rebuilt_rows(factory)


def test_the_migration_backfills_the_jobs_already_stored(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        upgrade(engine, "0011_dashboard_rollup")
        factory = session_factory(engine)
        with transaction(factory) as session:
            first, second = new_account(session, "shop"), new_account(session, "other")
            rows = [
                (first.id, JobState.DONE, at("2026-03-08", "00:00")),
                (first.id, JobState.DONE, at("2026-03-08", "23:59")),
                (first.id, JobState.FAILED, at("2026-03-09", "00:00")),
                (second.id, JobState.DROPPED, at("2026-03-08", "12:00")),
                (second.id, JobState.QUEUED, None),
            ]
            # Statements on a plain connection: what a store held before the rollup existed.
            session.connection().execute(
                insert(Job),
                [
                    {
                        "kind": JobKind.ORDERS,
                        "account_id": account_id,
                        "trigger": JobTrigger.SCHEDULE,
                        "state": state,
                        "attempts": 1,
                        "max_attempts": 5,
                        "enqueued_at": at("2026-03-07"),
                        "not_before": at("2026-03-07"),
                        "finished_at": finished,
                        "counts": {},
                    }
                    for account_id, state, finished in rows
                ],
            )
        upgrade(engine, "head")
        with factory() as session:
            backfilled = rollup_rows(session)
        assert backfilled == rebuilt_rows(factory)
        assert backfilled == sorted(
            [
                (date(2026, 3, 8), first.id, JobState.DONE, 2),
                (date(2026, 3, 9), first.id, JobState.FAILED, 1),
                (date(2026, 3, 8), second.id, JobState.DROPPED, 1),
            ]
        )
    finally:
        engine.dispose()
