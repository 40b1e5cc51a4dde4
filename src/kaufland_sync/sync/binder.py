"""The binder: finds, creates and updates offer bindings (product SKU ↔ Kaufland unit).

All work is batched: bindings of a batch of SKUs are read with one ``IN`` query per 1,000 SKUs,
and results are written with one executemany ``UPDATE`` per flush, so a run over 100,000
products issues a few hundred statements, never one per product. Every method opens its own
short session and commits before returning: what the binder says is stored is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.iterables import chunked
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.sync import BindingState, OfferBinding

__all__ = ["Binder", "BindingChange", "BindingView"]

# Well below SQLite's bound-parameter limit, and a sensible round trip on PostgreSQL.
_IN_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class BindingView:
    """A binding as read at the start of a batch (a plain value, no session attached)."""

    id: int
    sku: str
    id_unit: int | None
    state: BindingState
    payload_hash: str | None
    stock_hash: str | None
    attempts: int
    #: A person paused this offer: the exporter holds it and sends nothing else.
    paused: bool = False


@dataclass(slots=True)
class BindingChange:
    """What to write to one binding after Kaufland answered. ``None`` hash fields are written
    as given only when ``set_hashes`` is True (a stock-only update keeps the payload hash)."""

    binding_id: int
    state: BindingState
    id_unit: int | None
    payload_hash: str | None = None
    stock_hash: str | None = None
    set_payload_hash: bool = True
    set_stock_hash: bool = True
    error: str | None = None
    synced_at: datetime | None = None


class Binder:
    """Bindings of one account on one storefront."""

    def __init__(
        self, factory: sessionmaker[Session], account_id: int, storefront: Storefront
    ) -> None:
        self._factory = factory
        self.account_id = account_id
        self.storefront = storefront

    def _scope(self) -> list[Any]:
        return [
            OfferBinding.account_id == self.account_id,
            OfferBinding.storefront == self.storefront,
        ]

    @staticmethod
    def _view(row: OfferBinding) -> BindingView:
        return BindingView(
            row.id,
            row.sku,
            row.id_unit,
            row.state,
            row.payload_hash,
            row.stock_hash,
            row.attempts,
            row.paused,
        )

    def load(self, skus: Iterable[str]) -> dict[str, BindingView]:
        """The existing bindings of these SKUs, keyed by SKU."""
        wanted = list(dict.fromkeys(skus))
        found: dict[str, BindingView] = {}
        with self._factory() as session:
            for chunk in chunked(wanted, _IN_CHUNK):
                query = select(OfferBinding).where(*self._scope(), OfferBinding.sku.in_(chunk))
                for row in session.scalars(query):
                    found[row.sku] = self._view(row)
        return found

    def in_state(self, state: BindingState) -> list[BindingView]:
        """Every binding in ``state`` (uses the ``(account, storefront, state)`` index)."""
        with self._factory() as session:
            query = (
                select(OfferBinding)
                .where(*self._scope(), OfferBinding.state == state)
                .order_by(OfferBinding.sku)
            )
            return [self._view(row) for row in session.scalars(query)]

    def mark_pending_create(self, skus: Sequence[str]) -> dict[str, int]:
        """Record, and commit, that a unit is about to be created for each SKU: existing
        bindings move to ``pending_create`` (their ``id_unit`` cleared), missing ones are
        inserted. Returns the binding id per SKU. Called *before* ``POST /units`` is sent, so
        a run killed in flight leaves markers the next run reconciles."""
        ids: dict[str, int] = {}
        if not skus:
            return ids
        with transaction(self._factory) as session:
            existing: dict[str, OfferBinding] = {}
            for chunk in chunked(list(skus), _IN_CHUNK):
                query = select(OfferBinding).where(*self._scope(), OfferBinding.sku.in_(chunk))
                existing.update((row.sku, row) for row in session.scalars(query))
            for sku in skus:
                row = existing.get(sku)
                if row is None:
                    row = OfferBinding(
                        account_id=self.account_id,
                        storefront=self.storefront,
                        sku=sku,
                        state=BindingState.PENDING_CREATE,
                        attempts=0,
                    )
                    session.add(row)
                    existing[sku] = row
                else:
                    row.state = BindingState.PENDING_CREATE
                    row.id_unit = None
                    row.payload_hash = None
                    row.stock_hash = None
            session.flush()
            ids = {sku: existing[sku].id for sku in skus}
        return ids

    def record_failures(self, failures: Sequence[tuple[str, str]], now: datetime) -> None:
        """Mapping failures (no request was sent): store the reason on the binding, creating a
        ``failed`` binding for a product never published, so "what needs work" lists it."""
        if not failures:
            return
        reasons = dict(failures)
        with transaction(self._factory) as session:
            existing: dict[str, OfferBinding] = {}
            for chunk in chunked(list(reasons), _IN_CHUNK):
                query = select(OfferBinding).where(*self._scope(), OfferBinding.sku.in_(chunk))
                existing.update((row.sku, row) for row in session.scalars(query))
            for sku, reason in reasons.items():
                row = existing.get(sku)
                if row is None:
                    session.add(
                        OfferBinding(
                            account_id=self.account_id,
                            storefront=self.storefront,
                            sku=sku,
                            state=BindingState.FAILED,
                            last_error=reason,
                            attempts=1,
                        )
                    )
                    continue
                row.last_error = reason
                row.attempts = row.attempts + 1
                if row.id_unit is None and row.state != BindingState.PENDING_CREATE:
                    row.state = BindingState.FAILED

    def apply(self, changes: Sequence[BindingChange], now: datetime) -> None:
        """Write the outcome of Kaufland's answers, one executemany per call. Success resets
        ``attempts`` and ``last_error``; a failure increments ``attempts``."""
        if not changes:
            return
        ok_rows: list[dict[str, Any]] = []
        failed_ids: dict[int, BindingChange] = {}
        for change in changes:
            if change.error is not None:
                failed_ids[change.binding_id] = change
                continue
            row: dict[str, Any] = {
                "id": change.binding_id,
                "state": change.state,
                "id_unit": change.id_unit,
                "synced_at": change.synced_at or now,
                "last_error": None,
                "attempts": 0,
                "updated_at": now,
            }
            if change.set_payload_hash:
                row["payload_hash"] = change.payload_hash
            if change.set_stock_hash:
                row["stock_hash"] = change.stock_hash
            ok_rows.append(row)
        with transaction(self._factory) as session:
            # executemany needs the same keys in every row: group by key set.
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in ok_rows:
                groups.setdefault(tuple(sorted(row)), []).append(row)
            for rows in groups.values():
                session.execute(update(OfferBinding), rows)
            if failed_ids:
                self._apply_failures(session, failed_ids, now)

    def _apply_failures(
        self, session: Session, failed: dict[int, BindingChange], now: datetime
    ) -> None:
        ids = list(failed)
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            for row in session.scalars(select(OfferBinding).where(OfferBinding.id.in_(chunk))):
                change = failed[row.id]
                row.state = change.state
                row.id_unit = change.id_unit
                row.last_error = change.error
                row.attempts = row.attempts + 1
                row.updated_at = now
                if change.set_payload_hash:
                    row.payload_hash = change.payload_hash
                if change.set_stock_hash:
                    row.stock_hash = change.stock_hash
