"""The scheduler: decides *when* jobs are queued; workers decide nothing but how to run them.

Each :meth:`Scheduler.tick` (about once a second, from :meth:`Scheduler.run` or a worker's
scheduler thread):

1. takes or renews the ``scheduler`` lease. Any number of schedulers may run (one per machine,
   or one in each ``kaufland-sync run``); only the lease holder does anything, and when it dies
   another takes over once the lease expires;
2. creates missing schedules for new accounts (``DEFAULT_INTERVALS``, due at once) and, for
   each schedule that is due and on, queues its job (trigger ``schedule``) and moves
   ``next_due_at`` past *now* by whole intervals: after downtime a schedule runs once, not once
   per missed interval;
3. watches the built-in catalogue for back-office changes (``products.updated_at``,
   ``stock_levels.updated_at``, both indexed) past a per-account watermark kept in
   ``sync_cursors`` (kind ``catalog_change``). Changes are debounced: once they have been quiet
   for ``debounce_seconds``, or the oldest unpushed one is ``max_delay_seconds`` old (a
   catalogue that never stops changing is still pushed), an ``offers`` job (trigger ``change``)
   is queued for every account and the watermark moves to the newest change;
4. runs :func:`~kaufland_sync.jobs.ledger.recover` and re-sends what it returns.

Every transaction is committed before its jobs are sent, because a worker may start a job the
moment its message arrives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.jobs import ledger
from kaufland_sync.logging import get_logger
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import Product, StockLevel
from kaufland_sync.store.models.jobs import JobKind, JobSchedule, JobTrigger
from kaufland_sync.store.models.orders import SyncCursor

__all__ = ["CHANGE_CURSOR", "Scheduler", "Send", "TickReport"]

log = get_logger(__name__)

#: ``sync_cursors.kind`` of the per-account watermark of back-office changes already queued.
CHANGE_CURSOR = "catalog_change"
# The watermark covers the whole catalogue, every storefront alike; ``sync_cursors`` wants a
# storefront in its key, so this one stands for all of them.
_CURSOR_STOREFRONT = Storefront.DE

#: ``send(job_id, eta)``: hand "run job N" to the queue, at ``eta`` (None: now).
Send = Callable[[int, datetime | None], None]


@dataclass
class TickReport:
    """What one tick did: whether this scheduler leads, and the ids of jobs it sent."""

    leader: bool
    #: Jobs queued by due schedules.
    enqueued: list[int] = field(default_factory=list)
    #: Pending jobs re-sent by recovery (lost workers and lost messages).
    recovered: list[int] = field(default_factory=list)
    #: ``offers`` jobs queued for back-office changes.
    changes: list[int] = field(default_factory=list)

    @property
    def resent(self) -> list[int]:
        """Another name for :attr:`recovered`."""
        return self.recovered


class Scheduler:
    """Queues scheduled, changed and recovered work; see the module docstring.

    ``owner`` names this scheduler in the ``scheduler`` lease (unique per process);
    ``clock`` returns aware UTC times; ``send`` hands a job to the queue.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        send: Send,
        *,
        owner: str,
        clock: Callable[[], datetime],
        lease_seconds: float = 30.0,
        debounce_seconds: float = 3.0,
        max_delay_seconds: float = 30.0,
    ) -> None:
        self.factory = factory
        self.send = send
        self.owner = owner
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.debounce = timedelta(seconds=debounce_seconds)
        self.max_delay = timedelta(seconds=max_delay_seconds)
        # Per account: when the oldest change not yet pushed was made (see ``_ripe``).
        self._unpushed_since: dict[int, datetime] = {}

    # --- one tick ----------------------------------------------------------------------------

    def tick(self) -> TickReport:
        """Do one round of the scheduler's work if this scheduler holds the lead."""
        now = self.clock()
        with self.factory() as session:
            leader = ledger.acquire_lease(
                session, ledger.SCHEDULER_LEASE, self.owner, now=now, seconds=self.lease_seconds
            )
            session.commit()
            report = TickReport(leader=leader)
            if not leader:
                self._unpushed_since.clear()  # the leader keeps count now
                return report
            report.enqueued = self._sent(session, self._due_schedules(session, now))
            report.changes = self._sent(session, self._catalogue_changes(session, now))
            recovered = ledger.recover(session, now=now)
            report.recovered = self._sent(session, [(job_id, None) for job_id in recovered])
        return report

    def _sent(self, session: Session, jobs: list[tuple[int, datetime | None]]) -> list[int]:
        """Commit, then send each job; returns their ids."""
        session.commit()
        for job_id, eta in jobs:
            self.send(job_id, eta)
        return [job_id for job_id, _ in jobs]

    def _due_schedules(self, session: Session, now: datetime) -> list[tuple[int, datetime | None]]:
        self._ensure_schedules(session, now)
        due = session.scalars(
            select(JobSchedule)
            .where(JobSchedule.interval_minutes > 0, JobSchedule.next_due_at <= now)
            .order_by(JobSchedule.next_due_at, JobSchedule.id)
        ).all()
        created: list[tuple[int, datetime | None]] = []
        for schedule in due:
            queued = ledger.enqueue(
                session,
                account_id=schedule.account_id,
                kind=schedule.kind,
                trigger=JobTrigger.SCHEDULE,
                now=now,
            )
            if queued.created:
                created.append((queued.job_id, None))
            interval = timedelta(minutes=schedule.interval_minutes)
            missed = (now - schedule.next_due_at) // interval
            schedule.next_due_at += interval * (missed + 1)
        return created

    def _ensure_schedules(self, session: Session, now: datetime) -> None:
        """Create the missing schedules of every account (new accounts, new kinds) with one query
        when there are none to create."""
        complete = (
            select(JobSchedule.account_id)
            .group_by(JobSchedule.account_id)
            .having(func.count() >= len(JobKind))
        )
        for account_id in session.scalars(select(Account.id).where(Account.id.not_in(complete))):
            ledger.ensure_schedules(session, account_id, now=now)

    # --- back-office changes -----------------------------------------------------------------

    def _catalogue_changes(
        self, session: Session, now: datetime
    ) -> list[tuple[int, datetime | None]]:
        newest = _latest(
            session.scalar(select(func.max(Product.updated_at))),
            session.scalar(select(func.max(StockLevel.updated_at))),
        )
        if newest is None:
            return []  # an empty catalogue
        cursors = {
            cursor.account_id: cursor
            for cursor in session.scalars(
                select(SyncCursor).where(SyncCursor.kind == CHANGE_CURSOR)
            )
        }
        created: list[tuple[int, datetime | None]] = []
        for account_id in session.scalars(select(Account.id).order_by(Account.id)):
            cursor = cursors.get(account_id)
            if cursor is None:
                # A new account: its first scheduled offers job pushes the whole catalogue.
                session.add(
                    SyncCursor(
                        account_id=account_id,
                        storefront=_CURSOR_STOREFRONT,
                        kind=CHANGE_CURSOR,
                        position=newest,
                    )
                )
                continue
            if newest <= cursor.position:
                self._unpushed_since.pop(account_id, None)
                continue
            if not self._ripe(session, account_id, cursor.position, newest, now):
                continue
            self._unpushed_since.pop(account_id, None)
            queued = ledger.enqueue(
                session,
                account_id=account_id,
                kind=JobKind.OFFERS,
                trigger=JobTrigger.CHANGE,
                now=now,
            )
            if queued.created:
                created.append((queued.job_id, None))
            cursor.position = newest
        return created

    def _ripe(
        self,
        session: Session,
        account_id: int,
        watermark: datetime,
        newest: datetime,
        now: datetime,
    ) -> bool:
        """Push now? When the changes have been quiet long enough, or waited too long.

        How long they waited cannot be read from the catalogue alone: a product edited every
        second keeps moving its ``updated_at``. So the oldest unpushed change is remembered when
        first seen, in memory: a new leader starts counting afresh, which at worst delays a
        push by one more ``max_delay``."""
        if now - newest >= self.debounce:
            return True
        since = self._unpushed_since.get(account_id)
        if since is None:
            since = _earliest(
                session.scalar(
                    select(func.min(Product.updated_at)).where(Product.updated_at > watermark)
                ),
                session.scalar(
                    select(func.min(StockLevel.updated_at)).where(StockLevel.updated_at > watermark)
                ),
            )
            since = newest if since is None else since
            self._unpushed_since[account_id] = since
        return now - since >= self.max_delay

    # --- the loop ----------------------------------------------------------------------------

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Tick every ``interval`` seconds until ``stop`` is set, then give up the lead so another
        scheduler takes over at once. A failing tick is logged and the next one tried: all of a
        tick's work is idempotent."""
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except Exception as exc:
                    log.error(
                        "scheduler.tick_failed", error=str(exc) or type(exc).__name__, exc_info=exc
                    )
                stop.wait(interval)
        finally:
            self.resign()

    def resign(self) -> None:
        """Give up the ``scheduler`` lease if this scheduler holds it."""
        with self.factory() as session:
            ledger.release_lease(session, ledger.SCHEDULER_LEASE, self.owner)
            session.commit()


def _latest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _earliest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None
