"""The job ledger: jobs, their schedules, leases (locks with an expiry) and push events.

The database, not the task queue, is the source of truth about work (docs/adr/0003-jobs.md):

* a :class:`Job` is one run of one kind of sync for one account, from being queued to being done,
  failed (the failed list) or dropped. The queue only carries "run job N" messages, so a message
  lost with a killed worker is found again here (its lease expired) and sent again;
* a partial unique index keeps at most one *pending* job (``queued`` or ``retrying``) per account
  and kind: the same job is never queued twice, and together with the per-account lease at most
  one runs at a time;
* a :class:`JobSchedule` says how often the scheduler queues each kind for an account;
* a :class:`Lease` is a named lock that expires on its own unless renewed: ``job:{kind}:{id}``
  per account and kind while a job runs, ``scheduler`` for the one scheduler that leads;
* a :class:`PushEvent` is one Kaufland push notification received, unique per account and
  ``id_message`` (Kaufland delivers at least once), with the job it caused.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kaufland_sync.store.base import Base
from kaufland_sync.store.types import StrEnumType, check_in

__all__ = [
    "ALLOWED_INTERVALS",
    "DEFAULT_INTERVALS",
    "PENDING_STATES",
    "Job",
    "JobKind",
    "JobSchedule",
    "JobState",
    "JobTrigger",
    "Lease",
    "PushEvent",
]


class JobKind(enum.StrEnum):
    """What a job does for its account (one engine of ``kaufland_sync.sync`` each)."""

    ORDERS = "orders"  # import order units
    STOCK = "stock"  # push changed offered amounts
    OFFERS = "offers"  # push offers (every unit field)
    OUTBOX = "outbox"  # send queued shipments, cancellations, refunds...
    RETURNS = "returns"  # import returns
    TICKETS = "tickets"  # import buyer tickets
    CATEGORIES = "categories"  # refresh the category cache
    PERFORMANCE = "performance"  # seller performance figures


class JobState(enum.StrEnum):
    """Where a job stands. ``queued`` and ``retrying`` are *pending* (waiting to run)."""

    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"  # a run failed or its worker was lost; runs again at ``not_before``
    DONE = "done"
    FAILED = "failed"  # gave up after ``max_attempts``: the failed list
    DROPPED = "dropped"  # taken off the failed list (or the queue) by hand


class JobTrigger(enum.StrEnum):
    """Why a job was queued."""

    SCHEDULE = "schedule"
    PUSH = "push"  # a Kaufland push notification
    CHANGE = "change"  # a back-office change (stock, price)
    MANUAL = "manual"  # a person (CLI, web)
    RECOVERY = "recovery"


#: States of a job waiting to run; at most one such job per account and kind.
PENDING_STATES: tuple[JobState, ...] = (JobState.QUEUED, JobState.RETRYING)

#: Schedule intervals one may choose, in minutes (0 = off).
ALLOWED_INTERVALS: tuple[int, ...] = (0, 5, 15, 60)

#: Interval in minutes of each kind for a new account.
DEFAULT_INTERVALS: dict[JobKind, int] = {
    JobKind.ORDERS: 5,
    JobKind.OUTBOX: 5,
    JobKind.STOCK: 15,
    JobKind.RETURNS: 15,
    JobKind.OFFERS: 60,
    JobKind.TICKETS: 60,
    JobKind.CATEGORIES: 60,
    JobKind.PERFORMANCE: 60,
}

# The partial index's condition, written out once for both dialects and the migration.
PENDING_WHERE = "state IN ('queued', 'retrying')"


class Job(Base):
    """One run of ``kind`` for one account, from queued to done, failed or dropped.

    ``attempts`` counts runs *started* (a claim); ``not_before`` is when it is due;
    ``lease_until`` mirrors the expiry of the per-account lease while it runs, so recovery can
    find jobs whose worker was lost without reading the lease table; ``worker`` names who runs
    (or last ran) it.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(check_in("kind", JobKind), name="kind"),
        CheckConstraint(check_in("state", JobState), name="state"),
        CheckConstraint(check_in("trigger", JobTrigger), name="trigger"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint("max_attempts >= 1", name="max_attempts"),
        # The same job is never queued twice: one pending job per account and kind.
        Index(
            "uq_jobs_pending_account_id_kind",
            "account_id",
            "kind",
            unique=True,
            sqlite_where=text(PENDING_WHERE),
            postgresql_where=text(PENDING_WHERE),
        ),
        # Recovery and the due list: jobs by state and due time / lease expiry.
        Index("ix_jobs_state_not_before", "state", "not_before"),
        # The job list per account, newest first, and the last success per kind.
        Index("ix_jobs_account_id_kind_state", "account_id", "kind", "state"),
        # Sync health, sync rate and the activity feed read jobs by finish time.
        Index("ix_jobs_finished_at_state", "finished_at", "state", "account_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[JobKind] = mapped_column(StrEnumType(JobKind, 16))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    trigger: Mapped[JobTrigger] = mapped_column(StrEnumType(JobTrigger, 16))
    state: Mapped[JobState] = mapped_column(StrEnumType(JobState, 16), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    enqueued_at: Mapped[datetime]
    not_before: Mapped[datetime]
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    # When a "run job N" message was last handed to the queue for this job (set by the ledger
    # calls whose caller must send one). Recovery re-sends a pending job that has been due for a
    # while only if this is old too, so a backlog is not sent again on every scheduler tick.
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    worker: Mapped[str | None] = mapped_column(String(255), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)

    @property
    def pending(self) -> bool:
        return self.state in PENDING_STATES

    def __repr__(self) -> str:
        return (
            f"Job(id={self.id!r}, kind={self.kind!r}, account_id={self.account_id!r}, "
            f"state={self.state!r}, attempts={self.attempts!r})"
        )


class JobSchedule(Base):
    """How often the scheduler queues ``kind`` for an account, and when next."""

    __tablename__ = "job_schedules"
    __table_args__ = (
        UniqueConstraint("account_id", "kind"),
        CheckConstraint(check_in("kind", JobKind), name="kind"),
        CheckConstraint(
            f"interval_minutes IN ({', '.join(str(m) for m in ALLOWED_INTERVALS)})",
            name="interval_minutes",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[JobKind] = mapped_column(StrEnumType(JobKind, 16))
    interval_minutes: Mapped[int] = mapped_column(Integer)  # 0 = off
    next_due_at: Mapped[datetime]

    def __repr__(self) -> str:
        return (
            f"JobSchedule(account_id={self.account_id!r}, kind={self.kind!r}, "
            f"interval_minutes={self.interval_minutes!r})"
        )


class Lease(Base):
    """A named lock held by ``owner`` until ``expires_at`` unless renewed. An expired lease is
    free: a crashed holder never blocks anyone for longer than its lease."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"Lease(name={self.name!r}, owner={self.owner!r}, expires_at={self.expires_at!r})"


class PushEvent(Base):
    """One push notification received from Kaufland for an account (deduplicated by
    ``id_message``: Kaufland retries deliveries it thinks failed)."""

    __tablename__ = "push_events"
    __table_args__ = (
        UniqueConstraint("account_id", "id_message"),
        Index("ix_push_events_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    id_message: Mapped[str] = mapped_column(String(255))
    event_name: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str | None] = mapped_column(String(500), default=None)
    # As Kaufland sent it (not validated: an unknown storefront is still worth recording).
    storefront: Mapped[str | None] = mapped_column(String(8), default=None)
    received_at: Mapped[datetime]
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), default=None
    )

    def __repr__(self) -> str:
        return (
            f"PushEvent(id={self.id!r}, account_id={self.account_id!r}, "
            f"event_name={self.event_name!r}, id_message={self.id_message!r})"
        )
