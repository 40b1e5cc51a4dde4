"""What the sync engine remembers between runs: offer bindings and the sync log.

An :class:`OfferBinding` ties one product (by SKU) of an account to its Kaufland unit on one
storefront. It keeps the hashes of the last payload Kaufland *accepted*, split in two field
groups (see :mod:`kaufland_sync.sync.mappers.offers`):

* ``payload_hash`` — every field ``sync offers`` sends except the offered amount (price,
  handling time, condition, VAT, shipping group, warehouse, EAN);
* ``stock_hash`` — the offered amount, which ``sync stock`` sends on its own.

A run compares freshly computed hashes with these and sends only what differs, so a run with
nothing changed makes no write call. Products are referenced by SKU, not by a foreign key: the
back office may be the built-in catalogue, Odoo or a feed, and the SKU is the one identity they
share (it is also Kaufland's ``id_offer``).

A :class:`SyncRun` is one row per run and storefront: what was asked, what happened, counts.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.base import Base, Timestamped
from kaufland_sync.store.types import StrEnumType, check_in

__all__ = ["BindingState", "OfferBinding", "RunOutcome", "SyncKind", "SyncRun"]


class BindingState(enum.StrEnum):
    """Where an offer stands on Kaufland, as far as we know."""

    #: A ``POST /units`` was (or is about to be) sent and its outcome is unknown. Committed
    #: *before* the request, so a run killed mid-flight leaves a marker the next run reconciles
    #: (looks the unit up by ``id_offer``) instead of creating a second unit.
    PENDING_CREATE = "pending_create"
    ACTIVE = "active"  # the unit exists and carries the hashed payload
    ONHOLD = "onhold"  # the product is inactive or the offer paused; the unit is on hold
    DELETED = "deleted"  # the product is inactive; the unit was deleted
    FAILED = "failed"  # the last attempt was refused; ``last_error`` says why


class SyncKind(enum.StrEnum):
    """What a sync run sends."""

    OFFERS = "offers"  # every unit field
    STOCK = "stock"  # the offered amount only
    ORDERS = "orders"  # order units imported from Kaufland
    RETURNS = "returns"  # returns and return units imported from Kaufland
    TICKETS = "tickets"  # buyer tickets imported from Kaufland (seller performance)
    OUTBOX = "outbox"  # queued actions sent to Kaufland


class RunOutcome(enum.StrEnum):
    RUNNING = "running"  # started, not finished (or killed)
    OK = "ok"  # everything planned was done
    PARTIAL = "partial"  # some products failed; the others were synced
    FAILED = "failed"  # the run stopped on an error (``error_summary``)
    SKIPPED = "skipped"  # nothing to do by configuration (direction off / from Kaufland)


class OfferBinding(Timestamped, Base):
    """One product of an account on one storefront ↔ its Kaufland unit."""

    __tablename__ = "offer_bindings"
    __table_args__ = (
        UniqueConstraint("account_id", "storefront", "sku"),
        CheckConstraint(check_in("state", BindingState), name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        # "What needs work": pending creates to reconcile, failed offers to retry.
        Index("ix_offer_bindings_work", "account_id", "storefront", "state"),
        # Live and out-of-stock offers on the dashboard.
        Index("ix_offer_bindings_state_sku", "state", "sku", "created_at"),
        # One product's bindings across accounts and storefronts (the products pages read a
        # page of SKUs at once, whatever the account).
        Index("ix_offer_bindings_sku", "sku", "account_id", "storefront"),
        # The few paused offers, without reading every binding.
        Index("ix_offer_bindings_paused_sku", "paused", "sku"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    storefront: Mapped[Storefront] = mapped_column(StrEnumType(Storefront, 2))
    sku: Mapped[str] = mapped_column(String(255))  # Kaufland's id_offer
    id_unit: Mapped[int | None] = mapped_column(BigInteger, default=None)
    state: Mapped[BindingState] = mapped_column(
        StrEnumType(BindingState, 16), default=BindingState.PENDING_CREATE
    )
    payload_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    stock_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    synced_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # Consecutive failed attempts (reset on success); lets a scheduler back off a bad product.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set by a person: the offer is not pushed and is held on Kaufland (like an inactive
    # product) until resumed. The exporter holds it on its next run; resuming sends it again.
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def __repr__(self) -> str:
        return (
            f"OfferBinding(account_id={self.account_id!r}, storefront={self.storefront!r}, "
            f"sku={self.sku!r}, id_unit={self.id_unit!r}, state={self.state!r})"
        )


class SyncRun(Base):
    """One sync run for one account and storefront (the sync log)."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        CheckConstraint(check_in("kind", SyncKind), name="kind"),
        CheckConstraint(check_in("outcome", RunOutcome), name="outcome"),
        Index("ix_sync_runs_account_id_started_at", "account_id", "started_at"),
        # The activity feed across accounts.
        Index("ix_sync_runs_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[SyncKind] = mapped_column(StrEnumType(SyncKind, 16))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    storefront: Mapped[Storefront] = mapped_column(StrEnumType(Storefront, 2))
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[RunOutcome] = mapped_column(
        StrEnumType(RunOutcome, 16), default=RunOutcome.RUNNING
    )
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)  # write requests sent to Kaufland
    error_summary: Mapped[str | None] = mapped_column(Text, default=None)

    def __repr__(self) -> str:
        return (
            f"SyncRun(id={self.id!r}, kind={self.kind!r}, account_id={self.account_id!r}, "
            f"storefront={self.storefront!r}, outcome={self.outcome!r})"
        )
