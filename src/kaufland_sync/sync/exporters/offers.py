"""Offers out: publish the back office's products as Kaufland units on one storefront.

One :class:`OfferExporter` run, for one account and storefront:

1. **Reconcile** bindings left in ``pending_create`` by an earlier run (killed, or a create
   whose outcome was unknown): look each unit up by ``id_offer`` and bind it, or mark it for
   creation again. A unit is therefore never created twice.
2. **Plan** batch by batch (``batch_size`` products streamed from the back office; their stock
   and bindings read with one query each): create (no unit), update (a hash differs, or
   ``full``), unchanged, hold / delete (inactive product, per ``on_deactivate``; a paused
   offer is always held), failed
   (mapping error, named), skipped (nothing to do). ``dry_run`` stops here.
3. **Execute**: creates are one ``POST /units`` each, concurrently (the client paces requests);
   the binding is committed as ``pending_create`` *before* the request. Updates and holds are
   collected across batches and sent through ``POST /units/bulk`` in chunks of 150; deletes are
   ``DELETE /units/{id}``. Outcomes are written back to the bindings in batches.

Only what changed is sent: a second run over an unchanged catalogue makes no write call.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Collection, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.protocol import BackOffice, ProductRecord, SkipRecordError
from kaufland_sync.iterables import chunked
from kaufland_sync.sellerapi import KauflandClient
from kaufland_sync.sellerapi.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    KauflandError,
    NotFoundError,
    OutcomeUnknownError,
)
from kaufland_sync.sellerapi.models import BulkUnitResult, UnitPatchRequest, WriteableUnitStatus
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import OnDeactivate, SyncDirection
from kaufland_sync.store.models.sync import BindingState, RunOutcome, SyncKind, SyncRun
from kaufland_sync.sync.binder import Binder, BindingChange, BindingView
from kaufland_sync.sync.mappers.offers import (
    MappingError,
    OfferPayload,
    OfferSettings,
    offer_payload,
)
from kaufland_sync.sync.reservations import reservation_source

__all__ = [
    "Action",
    "OfferExporter",
    "PlannedAction",
    "ReservationSource",
    "SyncSummary",
    "sync_account_offers",
]

BULK_CHUNK = 150
#: Changes kept in memory before they are written to the bindings.
_FLUSH_AT = 500
PLAN_SAMPLE = 1000

#: SKUs → pieces reserved by open orders (``kaufland_sync.sync.reservations.reservation_source``;
#: an exporter without one reserves nothing, ``sync_account_offers`` reads the store's).
ReservationSource = Callable[[Sequence[str]], Mapping[str, int]]


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    HOLD = "hold"
    DELETE = "delete"
    FAILED = "failed"
    SKIP = "skip"
    RECONCILE = "reconcile"


@dataclass(frozen=True, slots=True)
class PlannedAction:
    sku: str
    action: Action
    detail: str = ""


@dataclass
class SyncSummary:
    """What a run did (or, with ``dry_run``, would do) on one storefront."""

    kind: SyncKind
    storefront: str
    dry_run: bool = False
    full: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    held: int = 0
    deleted: int = 0
    skipped: int = 0
    reconciled: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: SKUs whose new unit Kaufland created as INCOMPLETE: it does not know the EAN yet and
    #: waits for product data (``kaufland-sync product-data push``).
    incomplete: list[str] = field(default_factory=list)
    write_calls: int = 0
    read_calls: int = 0
    #: Set when the run did nothing by configuration (direction off or from Kaufland).
    not_run_reason: str | None = None
    #: With ``dry_run``: the first ``PLAN_SAMPLE`` planned actions other than "unchanged".
    plan: list[PlannedAction] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "storefront": self.storefront,
            "dry_run": self.dry_run,
            "full": self.full,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "held": self.held,
            "deleted": self.deleted,
            "skipped": self.skipped,
            "reconciled": self.reconciled,
            "failed": [{"sku": sku, "reason": reason} for sku, reason in self.failed],
            "incomplete": list(self.incomplete),
            "write_calls": self.write_calls,
            "read_calls": self.read_calls,
            "not_run_reason": self.not_run_reason,
            "plan": [
                {"sku": p.sku, "action": p.action.value, "detail": p.detail} for p in self.plan
            ],
        }


@dataclass(slots=True)
class _Update:
    """One item of a bulk update and what to store when Kaufland accepts it."""

    binding_id: int
    sku: str
    id_unit: int
    patch: UnitPatchRequest
    payload: OfferPayload | None
    new_state: BindingState
    payload_hash: str | None
    stock_hash: str | None
    set_payload_hash: bool
    set_stock_hash: bool
    counts_as: Action | None  # which counter a success moves (None: a follow-up of a create)
    may_rebind: bool = True


_OUTWARD = (SyncDirection.TO_KAUFLAND, SyncDirection.BOTH)


def _describe(error: KauflandError) -> str:
    """An error as the seller should read it: status, message and the fields at fault."""
    if isinstance(error, ApiError) and error.field_errors:
        fields = "; ".join(str(e) for e in error.field_errors)
        return f"{error.message or 'refused'} ({fields})"
    if isinstance(error, ApiError) and error.message:
        return error.message
    return str(error)


def _bulk_reason(result: BulkUnitResult) -> str:
    fields = "; ".join(
        f"{e.field}: {e.message}" if e.field else (e.message or "") for e in result.errors or ()
    )
    text = result.message or f"status {result.status_code}"
    return f"{text} ({fields})" if fields else text


class OfferExporter:
    """One ``sync offers`` or ``sync stock`` run for one account on one storefront.

    ``client`` is used for this storefront only (passed on every call). ``after_create`` is
    called with the SKU after each successful create (progress, or a test simulating a kill).
    ``skus`` restricts the run to those products (and to reconciling their pending creates):
    the quick stock push after an order import; SKUs the back office does not know are ignored.
    """

    def __init__(
        self,
        *,
        factory: sessionmaker[Session],
        backoffice: BackOffice,
        client: KauflandClient,
        account_id: int,
        settings: OfferSettings,
        direction_offers: SyncDirection = SyncDirection.TO_KAUFLAND,
        kind: SyncKind = SyncKind.OFFERS,
        full: bool = False,
        dry_run: bool = False,
        batch_size: int = 500,
        concurrency: int = 32,
        reservations: ReservationSource | None = None,
        skus: Collection[str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        on_progress: Callable[[int], None] | None = None,
        after_create: Callable[[str], None] | None = None,
    ) -> None:
        if batch_size < 1 or concurrency < 1:
            raise ValueError("batch_size and concurrency must be at least 1")
        self._factory = factory
        self._backoffice = backoffice
        self._client = client
        self._account_id = account_id
        self._settings = settings
        self._direction_offers = direction_offers
        self._kind = kind
        self._full = full
        self._dry_run = dry_run
        self._batch_size = batch_size
        self._concurrency = concurrency
        self._reservations = reservations
        self._skus = None if skus is None else frozenset(skus)
        self._clock = clock
        self._on_progress = on_progress
        self._after_create = after_create
        self._sf = settings.storefront
        self._binder = Binder(factory, account_id, settings.storefront)
        self.summary = SyncSummary(kind, settings.storefront.value, dry_run=dry_run, full=full)
        self._tasks: set[asyncio.Task[None]] = set()
        self._errors: list[BaseException] = []
        self._bulk: list[_Update] = []
        self._changes: list[BindingChange] = []

    # ----------------------------------------------------------------- run

    def _not_run_reason(self) -> str | None:
        if self._kind is SyncKind.OFFERS and self._direction_offers not in _OUTWARD:
            return f"offers direction is {self._direction_offers.value} on {self._sf.value}"
        if self._kind is SyncKind.STOCK and not self._settings.send_stock:
            return f"stock direction does not go to Kaufland on {self._sf.value}"
        return None

    async def run(self) -> SyncSummary:
        """Plan and (unless ``dry_run``) execute; write one ``SyncRun`` row (not for dry runs).

        An ``Exception`` ends the run as ``failed`` after storing what was already done; a
        ``BaseException`` (a kill) leaves the ``running`` row and the ``pending_create``
        markers for the next run to reconcile."""
        summary = self.summary
        reason = self._not_run_reason()
        if reason is not None:
            summary.not_run_reason = reason
            if not self._dry_run:
                self._finish(self._start_run(), RunOutcome.SKIPPED, reason)
            return summary
        run_id = None if self._dry_run else self._start_run()
        try:
            await self._reconcile_pending()
            for batch in chunked(self._products(), self._batch_size):
                await self._process(batch)
                if self._on_progress is not None:
                    self._on_progress(len(batch))
            await self._drain()
        except Exception as error:
            await self._cancel_tasks()
            self._flush()
            if run_id is not None:
                self._finish(run_id, RunOutcome.FAILED, str(error))
            raise
        except BaseException:
            await self._cancel_tasks()
            raise
        self._flush()
        if run_id is not None:
            outcome = RunOutcome.PARTIAL if summary.failed else RunOutcome.OK
            errors = "; ".join(f"{sku}: {why}" for sku, why in summary.failed[:20]) or None
            self._finish(run_id, outcome, errors)
        return summary

    def _products(self) -> Iterator[ProductRecord]:
        """Every product, or only the ``skus`` the run is restricted to (in SKU order)."""
        if self._skus is None:
            yield from self._backoffice.iter_products(on_skip=self._skipped_record)
            return
        records = self._backoffice.get_products(self._skus)
        for sku in sorted(records):
            yield records[sku]

    def _skipped_record(self, error: SkipRecordError) -> None:
        self.summary.failed.append((error.record, f"unreadable in the back office: {error.reason}"))

    def _start_run(self) -> int:
        with transaction(self._factory) as session:
            row = SyncRun(
                kind=self._kind,
                account_id=self._account_id,
                storefront=self._sf,
                full=self._full,
                started_at=self._clock(),
                outcome=RunOutcome.RUNNING,
            )
            session.add(row)
            session.flush()
            return row.id

    def _finish(self, run_id: int, outcome: RunOutcome, error: str | None) -> None:
        s = self.summary
        with transaction(self._factory) as session:
            row = session.get(SyncRun, run_id)
            assert row is not None
            row.finished_at = self._clock()
            row.outcome = outcome
            row.created, row.updated, row.unchanged = s.created, s.updated, s.unchanged
            row.held, row.deleted, row.skipped = s.held, s.deleted, s.skipped
            row.failed = len(s.failed)
            row.calls = s.write_calls
            row.error_summary = error

    # ----------------------------------------------------------- tasks

    async def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Start ``coro`` once fewer than ``concurrency`` tasks run (back-pressure on the plan)."""
        while len(self._tasks) >= self._concurrency:
            await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
            self._raise_task_error()
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            assert error is not None
            self._errors.append(error)

    def _raise_task_error(self) -> None:
        if self._errors:
            raise self._errors[0]

    async def _drain(self) -> None:
        """Send what is buffered and wait until nothing is in flight."""
        while self._tasks or self._bulk:
            while self._bulk:
                chunk, self._bulk = self._bulk[:BULK_CHUNK], self._bulk[BULK_CHUNK:]
                await self._spawn(self._send_bulk(chunk))
            if self._tasks:
                await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
            self._raise_task_error()
        self._raise_task_error()

    async def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    def _change(self, change: BindingChange) -> None:
        self._changes.append(change)
        if len(self._changes) >= _FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        changes, self._changes = self._changes, []
        self._binder.apply(changes, self._clock())

    def _plan(self, sku: str, action: Action, detail: str = "") -> None:
        if (
            self._dry_run
            and action is not Action.UNCHANGED
            and len(self.summary.plan) < PLAN_SAMPLE
        ):
            self.summary.plan.append(PlannedAction(sku, action, detail))

    # ------------------------------------------------------- reconcile

    async def _reconcile_pending(self) -> None:
        pending = self._binder.in_state(BindingState.PENDING_CREATE)
        if self._skus is not None:
            pending = [view for view in pending if view.sku in self._skus]
        if self._dry_run:
            for view in pending:
                self._plan(view.sku, Action.RECONCILE, "create outcome unknown; look it up")
            return
        for view in pending:
            await self._spawn(self._reconcile_one(view))
        await self._drain()
        self._flush()

    async def _find_unit(self, sku: str) -> int | None:
        self.summary.read_calls += 1
        page = await self._client.units.list(id_offer=sku, storefront=self._sf, limit=1)
        return page.items[0].id_unit if page.items else None

    async def _reconcile_one(self, view: BindingView) -> None:
        id_unit = await self._find_unit(view.sku)
        if id_unit is not None:
            # Bound with unknown content (no hashes): this run's plan sends one update.
            self.summary.reconciled += 1
            self._change(BindingChange(view.id, BindingState.ACTIVE, id_unit))
        else:
            self._change(
                BindingChange(
                    view.id,
                    BindingState.FAILED,
                    None,
                    error="an earlier create did not complete; created again",
                )
            )

    # ------------------------------------------------------------ plan

    async def _process(self, batch: list[ProductRecord]) -> None:
        skus = [p.sku for p in batch]
        levels = self._backoffice.stock_levels(skus)
        reserved = self._reservations(skus) if self._reservations is not None else {}
        bindings = self._binder.load(skus)
        creates: list[tuple[str, OfferPayload]] = []
        deletes: list[BindingView] = []
        failures: list[tuple[str, str]] = []
        s = self.summary
        settings = self._settings
        stock_only = self._kind is SyncKind.STOCK
        for product in batch:
            sku = product.sku
            view = bindings.get(sku)
            has_unit = view is not None and view.id_unit is not None
            # A paused offer is held like an inactive product's, but never deleted: resuming
            # must bring the same unit back.
            paused = view is not None and view.paused
            if paused or not product.active:
                if stock_only or view is None or not has_unit:
                    s.skipped += 1
                    continue
                why = "paused" if paused else "product inactive"
                if not paused and settings.on_deactivate is OnDeactivate.DELETE:
                    self._plan(sku, Action.DELETE, why)
                    deletes.append(view)
                elif view.state is BindingState.ONHOLD:
                    s.unchanged += 1
                else:
                    self._plan(sku, Action.HOLD, why)
                    self._queue_hold(view)
                continue
            try:
                payload = offer_payload(
                    product, levels.get(sku, ()), reserved.get(sku, 0), settings
                )
            except MappingError as error:
                self._plan(sku, Action.FAILED, str(error))
                failures.append((sku, str(error)))
                continue
            stock_hash = payload.stock_hash()
            if stock_only:
                if view is None or view.id_unit is None or view.state is BindingState.ONHOLD:
                    s.skipped += 1  # not published (yet): ``sync offers`` creates it
                elif self._full or view.stock_hash != stock_hash:
                    self._plan(sku, Action.UPDATE, f"amount {payload.amount}")
                    self._queue_update(view, payload, offer=False, counts_as=Action.UPDATE)
                else:
                    s.unchanged += 1
                continue
            if view is None or view.id_unit is None:
                self._plan(sku, Action.CREATE, f"price {payload.listing_price}")
                creates.append((sku, payload))
                continue
            payload_hash = payload.payload_hash(prices=settings.send_prices)
            reactivate = view.state is BindingState.ONHOLD
            if (
                self._full
                or reactivate
                or view.state is BindingState.FAILED
                or view.payload_hash != payload_hash
                or (settings.send_stock and view.stock_hash != stock_hash)
            ):
                self._plan(sku, Action.UPDATE, "reactivate" if reactivate else "")
                self._queue_update(
                    view, payload, offer=True, counts_as=Action.UPDATE, reactivate=reactivate
                )
            else:
                s.unchanged += 1
        if self._dry_run:
            s.failed.extend(failures)
            s.created += len(creates)
            s.updated += sum(1 for u in self._bulk if u.counts_as is Action.UPDATE)
            s.held += sum(1 for u in self._bulk if u.counts_as is Action.HOLD)
            s.deleted += len(deletes)
            self._bulk = []
            return
        if failures:
            s.failed.extend(failures)
            self._binder.record_failures(failures, self._clock())
        if creates:
            ids = self._binder.mark_pending_create([sku for sku, _ in creates])
            for sku, payload in creates:
                await self._spawn(self._create(ids[sku], payload))
        for view in deletes:
            await self._spawn(self._delete(view))
        while len(self._bulk) >= BULK_CHUNK:
            chunk, self._bulk = self._bulk[:BULK_CHUNK], self._bulk[BULK_CHUNK:]
            await self._spawn(self._send_bulk(chunk))
        self._raise_task_error()

    def _queue_update(
        self,
        view: BindingView,
        payload: OfferPayload,
        *,
        offer: bool,
        counts_as: Action | None,
        reactivate: bool = False,
        may_rebind: bool = True,
    ) -> None:
        assert view.id_unit is not None
        settings = self._settings
        send_stock = settings.send_stock or not offer
        patch = payload.patch(offer=offer, prices=settings.send_prices, stock=send_stock)
        if reactivate:
            patch = patch.model_copy(update={"status": WriteableUnitStatus.AVAILABLE})
        self._bulk.append(
            _Update(
                binding_id=view.id,
                sku=view.sku,
                id_unit=view.id_unit,
                patch=patch,
                payload=payload,
                new_state=BindingState.ACTIVE,
                payload_hash=payload.payload_hash(prices=settings.send_prices) if offer else None,
                stock_hash=payload.stock_hash() if send_stock else None,
                set_payload_hash=offer,
                set_stock_hash=send_stock,
                counts_as=counts_as,
                may_rebind=may_rebind,
            )
        )

    def _queue_hold(self, view: BindingView) -> None:
        assert view.id_unit is not None
        self._bulk.append(
            _Update(
                binding_id=view.id,
                sku=view.sku,
                id_unit=view.id_unit,
                patch=UnitPatchRequest(status=WriteableUnitStatus.ONHOLD),
                payload=None,
                new_state=BindingState.ONHOLD,
                payload_hash=view.payload_hash,
                stock_hash=view.stock_hash,
                set_payload_hash=False,
                set_stock_hash=False,
                counts_as=Action.HOLD,
            )
        )

    # --------------------------------------------------------- execute

    def _fail(
        self, binding_id: int, sku: str, reason: str, state: BindingState, id_unit: int | None
    ) -> None:
        self.summary.failed.append((sku, reason))
        self._change(BindingChange(binding_id, state, id_unit, error=reason, set_stock_hash=True))

    async def _create(self, binding_id: int, payload: OfferPayload, *, retry: bool = True) -> None:
        sku = payload.id_offer
        self.summary.write_calls += 1
        try:
            unit = await self._client.units.create(payload.create_request(), storefront=self._sf)
        except AuthenticationError:
            raise  # the whole run is refused: nothing else would work either
        except (OutcomeUnknownError, ConflictError) as error:
            # Timed out / 5xx (may exist) or "id_offer already exists": find it, never resend.
            await self._adopt(
                binding_id, payload, retry=retry and not isinstance(error, ConflictError)
            )
            return
        except KauflandError as error:
            self._fail(binding_id, sku, _describe(error), BindingState.FAILED, None)
            return
        self.summary.created += 1
        if unit.status == "INCOMPLETE":
            self.summary.incomplete.append(sku)
        self._change(
            BindingChange(
                binding_id,
                BindingState.ACTIVE,
                unit.id_unit,
                payload_hash=payload.payload_hash(prices=self._settings.send_prices),
                stock_hash=payload.stock_hash(),
            )
        )
        if self._after_create is not None:
            self._after_create(sku)

    async def _adopt(self, binding_id: int, payload: OfferPayload, *, retry: bool) -> None:
        sku = payload.id_offer
        try:
            id_unit = await self._find_unit(sku)
        except AuthenticationError:
            raise
        except KauflandError as error:
            reason = f"create outcome unknown and the lookup failed: {_describe(error)}"
            self._fail(binding_id, sku, reason, BindingState.PENDING_CREATE, None)
            return
        if id_unit is None:
            if retry:
                # Not listed: most likely nothing was created. Kaufland may list a new unit only
                # minutes later; we expect it to refuse a second unit with the same id_offer on a
                # storefront (the sandbox does), and that refusal leaves the binding pending.
                await self._create(binding_id, payload, retry=False)
                return
            reason = "the unit exists but is not listed yet; the next run binds it"
            self._fail(binding_id, sku, reason, BindingState.PENDING_CREATE, None)
            return
        self.summary.created += 1
        self.summary.reconciled += 1
        self._change(BindingChange(binding_id, BindingState.ACTIVE, id_unit))
        # Its content is unknown (the create may have been an older payload): set it once.
        view = BindingView(binding_id, sku, id_unit, BindingState.ACTIVE, None, None, 0)
        self._queue_update(view, payload, offer=True, counts_as=None, may_rebind=False)

    async def _send_bulk(self, items: list[_Update]) -> None:
        self.summary.write_calls += 1
        try:
            results = await self._client.units.bulk_update(
                [(item.id_unit, item.patch) for item in items], storefront=self._sf
            )
        except AuthenticationError:
            raise
        except KauflandError as error:
            reason = _describe(error)
            for item in items:
                self._fail(item.binding_id, item.sku, reason, BindingState.FAILED, item.id_unit)
            return
        by_unit = {result.id_unit: result for result in results}
        for item in items:
            result = by_unit.get(item.id_unit)
            if result is None:
                reason = "Kaufland's bulk answer has no result for this unit"
                self._fail(item.binding_id, item.sku, reason, BindingState.FAILED, item.id_unit)
            elif result.ok:
                self._accepted(item)
            elif result.status_code == 404:
                await self._unit_gone(item)
            else:
                reason = _bulk_reason(result)
                self._fail(item.binding_id, item.sku, reason, BindingState.FAILED, item.id_unit)

    def _accepted(self, item: _Update) -> None:
        s = self.summary
        if item.counts_as is Action.UPDATE:
            s.updated += 1
        elif item.counts_as is Action.HOLD:
            s.held += 1
        self._change(
            BindingChange(
                item.binding_id,
                item.new_state,
                item.id_unit,
                payload_hash=item.payload_hash,
                stock_hash=item.stock_hash,
                set_payload_hash=item.set_payload_hash,
                set_stock_hash=item.set_stock_hash,
            )
        )

    async def _unit_gone(self, item: _Update) -> None:
        """The bound unit no longer exists (deleted on Kaufland's side): rebind by ``id_offer``
        or create it again."""
        if item.payload is None:  # a hold: nothing left to hold
            self.summary.held += 1
            self._change(BindingChange(item.binding_id, BindingState.DELETED, None))
            return
        id_unit = await self._find_unit(item.sku) if item.may_rebind else None
        if id_unit is not None and id_unit != item.id_unit:
            view = BindingView(
                item.binding_id, item.sku, id_unit, BindingState.ACTIVE, None, None, 0
            )
            self._queue_update(
                view, item.payload, offer=True, counts_as=item.counts_as, may_rebind=False
            )
            return
        if self._kind is SyncKind.STOCK:
            reason = "the unit is gone from Kaufland; run sync offers to publish it again"
            self._fail(item.binding_id, item.sku, reason, BindingState.FAILED, None)
            return
        self._flush()  # the binding must be stored as pending before the create is sent
        ids = self._binder.mark_pending_create([item.sku])
        await self._create(ids[item.sku], item.payload)

    async def _delete(self, view: BindingView) -> None:
        assert view.id_unit is not None
        self.summary.write_calls += 1
        try:
            await self._client.units.delete(view.id_unit, storefront=self._sf)
        except AuthenticationError:
            raise
        except NotFoundError:
            pass  # already gone: the goal is reached
        except KauflandError as error:
            self._fail(view.id, view.sku, _describe(error), view.state, view.id_unit)
            return
        self.summary.deleted += 1
        self._change(
            BindingChange(view.id, BindingState.DELETED, None, payload_hash=None, stock_hash=None)
        )


async def sync_account_offers(
    *,
    factory: sessionmaker[Session],
    backoffice: BackOffice,
    client: KauflandClient,
    account_id: int,
    storefronts: Sequence[tuple[OfferSettings, SyncDirection]],
    kind: SyncKind = SyncKind.OFFERS,
    full: bool = False,
    dry_run: bool = False,
    on_progress: Callable[[str, int], None] | None = None,
    **options: Any,
) -> list[SyncSummary]:
    """Run one exporter per storefront, one after the other (they share the client's rate
    limit, so running them in parallel would not be faster). ``storefronts`` pairs each
    storefront's settings with its offers direction. Unless ``options`` name other
    ``reservations``, the pieces reserved by the account's open orders are subtracted from the
    offered amounts (``kaufland_sync.sync.reservations``)."""
    if "reservations" not in options:
        options["reservations"] = reservation_source(factory, account_id)
    summaries: list[SyncSummary] = []
    for settings, direction in storefronts:
        code = settings.storefront.value

        def progress(done: int, code: str = code) -> None:
            if on_progress is not None:
                on_progress(code, done)

        exporter = OfferExporter(
            factory=factory,
            backoffice=backoffice,
            client=client,
            account_id=account_id,
            settings=settings,
            direction_offers=direction,
            kind=kind,
            full=full,
            dry_run=dry_run,
            on_progress=progress,
            **options,
        )
        summaries.append(await exporter.run())
    return summaries
