"""The scheduler on SQLite and PostgreSQL, with a clock that moves only when told: schedules,
one leader among several schedulers, debounced back-office changes, recovery."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.jobs import ledger
from kaufland_sync.jobs.scheduler import CHANGE_CURSOR, Scheduler, TickReport
from kaufland_sync.store.models.catalog import Currency, Product, StockLevel, Warehouse
from kaufland_sync.store.models.jobs import DEFAULT_INTERVALS, Job, JobKind, JobState, JobTrigger
from kaufland_sync.store.models.orders import SyncCursor
from tests.builders import add_account
from tests.jobs.conftest import START, FakeClock


class Sent:
    """A ``send`` that records what it was given and checks the job was committed first (a
    worker may run it at once, from another connection)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.calls: list[tuple[int, datetime | None]] = []

    def __call__(self, job_id: int, eta: datetime | None) -> None:
        with self.factory() as session:
            job = session.get(Job, job_id)
            assert job is not None and job.pending, f"job {job_id} sent before it was committed"
        self.calls.append((job_id, eta))


def make(
    factory: sessionmaker[Session], clock: FakeClock, owner: str = "scheduler-1"
) -> tuple[Scheduler, Sent]:
    sent = Sent(factory)
    return Scheduler(factory, sent, owner=owner, clock=clock), sent


def jobs(factory: sessionmaker[Session], **where: object) -> list[Job]:
    with factory() as session:
        query = select(Job).filter_by(**where).order_by(Job.id)
        return list(session.scalars(query))


def finish_all(factory: sessionmaker[Session], clock: FakeClock) -> None:
    """Run every pending job to completion (what workers would do)."""
    with factory() as session:
        pending = ledger.list_jobs(session, states=[JobState.QUEUED, JobState.RETRYING])
    for job in pending:
        with factory() as session:
            assert ledger.claim(session, job.id, worker="w", now=clock(), lease_seconds=30).claimed
            ledger.complete(session, job.id, now=clock(), counts={})
            session.commit()


def schedules_off(factory: sessionmaker[Session], account_id: int, clock: FakeClock) -> None:
    with factory() as session:
        for kind in JobKind:
            ledger.set_interval(session, account_id, kind, 0, now=clock())
        session.commit()


# --- schedules -------------------------------------------------------------------------------


def test_due_schedules_queue_one_job_each_and_move_on(
    factory: sessionmaker[Session], clock: FakeClock
) -> None:
    account = add_account(factory).id
    scheduler, sent = make(factory, clock)
    report = scheduler.tick()
    # A new account gets its schedules, due at once: one job of every kind.
    assert report.leader
    assert sorted(j.kind for j in jobs(factory)) == sorted(JobKind)
    assert {j.trigger for j in jobs(factory)} == {JobTrigger.SCHEDULE}
    assert sent.calls == [(job_id, None) for job_id in report.enqueued]
    assert len(report.enqueued) == len(JobKind)
    # Not due again within the interval.
    finish_all(factory, clock)
    clock.advance(4 * 60)
    assert scheduler.tick().enqueued == []
    clock.advance(60)
    five_minutes = {k for k, minutes in DEFAULT_INTERVALS.items() if minutes == 5}
    report = scheduler.tick()
    assert {j.kind for j in jobs(factory, state=JobState.QUEUED)} == five_minutes
    assert len(report.enqueued) == len(five_minutes)
    with factory() as session:
        schedules = ledger.ensure_schedules(session, account, now=clock())
    assert {s.next_due_at for s in schedules if s.kind in five_minutes} == {
        START + timedelta(minutes=10)
    }


def test_a_due_schedule_with_its_job_still_pending_adds_nothing(
    factory: sessionmaker[Session], clock: FakeClock
) -> None:
    add_account(factory)
    scheduler, _ = make(factory, clock)
    scheduler.tick()
    clock.advance(5 * 60)
    report = scheduler.tick()
    assert report.enqueued == []  # the orders job queued 5 minutes ago has not run yet
    assert len(jobs(factory)) == len(JobKind)


def test_after_downtime_a_schedule_runs_once_not_once_per_missed_interval(
    factory: sessionmaker[Session], clock: FakeClock
) -> None:
    account = add_account(factory).id
    scheduler, _ = make(factory, clock)
    scheduler.tick()
    finish_all(factory, clock)
    clock.advance(3 * 3600 + 7 * 60)  # three hours and seven minutes down
    report = scheduler.tick()
    assert len(report.enqueued) == len(JobKind)
    with factory() as session:
        due = {
            s.kind: s.next_due_at for s in ledger.ensure_schedules(session, account, now=clock())
        }
    # The next run keeps the schedule's rhythm, in the future.
    assert due[JobKind.ORDERS] == START + timedelta(hours=3, minutes=10)
    assert due[JobKind.OFFERS] == START + timedelta(hours=4)
    finish_all(factory, clock)
    assert scheduler.tick().enqueued == []


def test_interval_changes_and_switching_off(
    factory: sessionmaker[Session], clock: FakeClock
) -> None:
    account = add_account(factory).id
    schedules_off(factory, account, clock)
    scheduler, sent = make(factory, clock)
    clock.advance(24 * 3600)
    assert scheduler.tick().enqueued == []
    assert jobs(factory) == [] and sent.calls == []
    with factory() as session:
        ledger.set_interval(session, account, JobKind.STOCK, 15, now=clock())
        session.commit()
    # Switched on: due at once (it was due long ago), then every 15 minutes.
    report = scheduler.tick()
    assert [j.kind for j in jobs(factory)] == [JobKind.STOCK] and len(report.enqueued) == 1
    finish_all(factory, clock)
    clock.advance(14 * 60)
    assert scheduler.tick().enqueued == []
    clock.advance(60)
    assert len(scheduler.tick().enqueued) == 1


# --- one leader ------------------------------------------------------------------------------


def test_only_the_scheduler_holding_the_lease_does_anything(
    factory: sessionmaker[Session], clock: FakeClock
) -> None:
    add_account(factory)
    first, first_sent = make(factory, clock, "first")
    second, second_sent = make(factory, clock, "second")
    assert first.tick().leader
    assert second.tick() == TickReport(leader=False)
    assert second_sent.calls == [] and len(first_sent.calls) == len(JobKind)
    assert len(jobs(factory)) == len(JobKind)
    # The leader keeps its lead by ticking...
    clock.advance(20)
    assert first.tick().leader
    clock.advance(20)
    assert not second.tick().leader
    # ...and loses it once it stops ticking for longer than the lease.
    clock.advance(31)
    assert second.tick().leader
    assert not first.tick().leader
    # A scheduler that stops resigns: the other one takes over at once.
    second.resign()
    assert first.tick().leader


def test_run_ticks_until_stopped_and_then_resigns(
    factory: sessionmaker[Session], clock: FakeClock
) -> None:
    import threading

    add_account(factory)
    stop = threading.Event()
    ticks: list[TickReport] = []
    scheduler, _ = make(factory, clock)
    original = scheduler.tick

    def tick() -> TickReport:
        ticks.append(original())
        if len(ticks) == 2:
            stop.set()
        return ticks[-1]

    scheduler.tick = tick  # type: ignore[method-assign]
    scheduler.run(stop, interval=0)
    assert [t.leader for t in ticks] == [True, True]
    other, _ = make(factory, clock, "other")
    assert other.tick().leader


# --- back-office changes ---------------------------------------------------------------------


def _product(session: Session, sku: str, at: datetime) -> Product:
    product = Product(
        sku=sku,
        ean="4006381333931",
        title=sku,
        price_minor=999,
        currency=Currency.EUR,
        content_hash=sku,
        created_at=at,
        updated_at=at,
    )
    session.add(product)
    session.flush()
    return product


def _change(factory: sessionmaker[Session], sku: str, at: datetime) -> None:
    """A back-office change at ``at``: a product edited (or created), and its stock."""
    with factory() as session:
        product = session.scalars(select(Product).where(Product.sku == sku)).one_or_none()
        if product is None:
            product = _product(session, sku, at)
        product.updated_at = at
        warehouse = session.scalars(select(Warehouse)).one()
        level = session.scalars(
            select(StockLevel).where(StockLevel.product_id == product.id)
        ).one_or_none()
        if level is None:
            session.add(
                StockLevel(
                    product_id=product.id, warehouse_id=warehouse.id, quantity=1, updated_at=at
                )
            )
        else:
            level.quantity += 1
            level.updated_at = at
        session.commit()


@pytest.fixture
def catalogue(factory: sessionmaker[Session]) -> None:
    """A catalogue last changed an hour before the clocks start."""
    with factory() as session:
        session.add(Warehouse(code="default", name="default"))
        _product(session, "OLD-1", START - timedelta(hours=1))
        session.commit()


@pytest.mark.usefixtures("catalogue")
def test_a_burst_of_changes_is_pushed_once_after_a_quiet_moment(
    factory: sessionmaker[Session], clock: FakeClock
) -> None:
    accounts = [add_account(factory, "one").id, add_account(factory, "two").id]
    for account in accounts:
        schedules_off(factory, account, clock)
    scheduler, sent = make(factory, clock)
    # The first tick sets the watermarks: what existed before is the schedules' business.
    assert scheduler.tick().changes == []
    for second in range(5):  # a change every second, in the same window
        clock.advance(1)
        _change(factory, f"SKU-{second % 2}", clock())
        assert scheduler.tick().changes == []
    clock.advance(2.9)
    assert scheduler.tick().changes == []  # 2.9 s quiet: not yet
    clock.advance(0.1)
    report = scheduler.tick()
    assert len(report.changes) == 2  # one offers job per account
    made = jobs(factory)
    assert [(j.account_id, j.kind, j.trigger) for j in made] == [
        (account, JobKind.OFFERS, JobTrigger.CHANGE) for account in accounts
    ]
    assert sent.calls == [(j.id, None) for j in made]
    # Pushed: nothing more until the next change.
    clock.advance(60)
    assert scheduler.tick().changes == []
    with factory() as session:
        positions = session.scalars(
            select(SyncCursor.position).where(SyncCursor.kind == CHANGE_CURSOR)
        ).all()
    assert positions == [START + timedelta(seconds=5)] * 2


@pytest.mark.usefixtures("catalogue")
def test_a_catalogue_that_never_rests_is_still_pushed_every_max_delay(
    factory: sessionmaker[Session], clock: FakeClock
) -> None:
    account = add_account(factory).id
    schedules_off(factory, account, clock)
    scheduler, _ = make(factory, clock)
    scheduler.tick()
    pushed_at: list[float] = []
    for second in range(1, 71):
        clock.advance(1)
        _change(factory, "BUSY", clock())
        if scheduler.tick().changes:
            pushed_at.append(second)
            finish_all(factory, clock)
    # The first change at 1 s: pushed at 31 s (30 s old), then again 30 s after the next one.
    assert pushed_at == [31, 62]


@pytest.mark.usefixtures("catalogue")
def test_a_change_while_an_offers_job_waits_joins_that_job(
    factory: sessionmaker[Session], clock: FakeClock
) -> None:
    add_account(factory)
    scheduler, _ = make(factory, clock)
    scheduler.tick()  # queues the scheduled offers job (among others)
    clock.advance(1)
    _change(factory, "SKU", clock())
    clock.advance(5)
    assert scheduler.tick().changes == []
    assert len(jobs(factory, kind=JobKind.OFFERS)) == 1


# --- recovery --------------------------------------------------------------------------------


def test_jobs_of_a_killed_worker_are_sent_again(
    factory: sessionmaker[Session], clock: FakeClock
) -> None:
    account = add_account(factory).id
    schedules_off(factory, account, clock)
    with factory() as session:
        queued = ledger.enqueue(
            session, account_id=account, kind="orders", trigger="push", now=clock()
        )
        session.commit()
        assert ledger.claim(session, queued.job_id, worker="killed", now=clock(), lease_seconds=30)
    scheduler, sent = make(factory, clock)
    assert scheduler.tick().recovered == []
    clock.advance(31)
    report = scheduler.tick()
    assert report.recovered == report.resent == [queued.job_id]
    assert sent.calls == [(queued.job_id, None)]
    assert jobs(factory)[0].state is JobState.RETRYING
    clock.advance(1)
    assert scheduler.tick().recovered == []
