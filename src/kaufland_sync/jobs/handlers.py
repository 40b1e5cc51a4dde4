"""One handler per job kind: the existing engines of ``kaufland_sync.sync`` (and the performance
report), called the way the CLI calls them but without printing, returning counts.

Contract of a handler (``async def handler(ctx) -> dict[str, int]``):

* it does one pass of its kind for ``ctx.account_id`` and returns what it did as flat integer
  counts (stored on the job, logged, shown in the job list);
* the engines are idempotent and resume from their cursors and the outbox, so running a handler
  again after a crash, or twice, repeats nothing (exactly-once comes from them, not from here);
* it raises on failure and the runner records the error on the job (retry with backoff, then
  the failed list). An engine that reports a *partial* failure (a step Kaufland refused, SKUs
  it rejected) has already committed what succeeded; the handler then raises
  :class:`JobFailed` with a summary and the counts of what was done.

Polling is the backstop of push notifications: a scheduled ``orders`` or ``returns`` job of an
account with push notifications on (``Account.push_callback_url``) counts what it found new as
``recovered`` (what the push missed) and adds it to the ``POLL_RECOVERED`` metric.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.jobs import JobKind, JobTrigger

if TYPE_CHECKING:
    from kaufland_sync.store.models.sync import SyncKind
    from kaufland_sync.sync.orders_sync import OrdersSyncReport

__all__ = [
    "HANDLERS",
    "PERFORMANCE_DAYS",
    "ClientFactory",
    "Handler",
    "JobContext",
    "JobFailed",
    "run_handler",
]

#: The performance job measures this many days, today included.
PERFORMANCE_DAYS = 30
#: Failure reasons quoted in a ``JobFailed`` message; the rest are counted.
_REASONS_SHOWN = 5

#: Builds the account's client: ``(account, storefront) -> KauflandClient`` (tests inject one).
ClientFactory = Callable[[Account, Storefront | None], KauflandClient]


class JobFailed(Exception):
    """A handler's engine finished with a partial failure: what succeeded is committed,
    ``counts`` says what was done, the message says what failed."""

    def __init__(self, message: str, counts: Mapping[str, int] | None = None) -> None:
        super().__init__(message)
        self.counts: dict[str, int] = dict(counts or {})


@dataclass
class JobContext:
    """What a handler needs: the store, the settings, the job's account and trigger, a clock
    (aware UTC) and a way to build the account's Kaufland client.

    ``client()`` decrypts the account's secret key with the master key of ``settings`` and
    builds the client through ``kaufland_sync.clients.client_for_account`` (shared pacing per
    client key, metrics); ``client_factory`` replaces that (tests).
    """

    factory: sessionmaker[Session]
    settings: Settings
    account_id: int
    trigger: JobTrigger
    clock: Callable[[], datetime] = utc_now
    client_factory: ClientFactory | None = None
    _account: Account | None = field(default=None, init=False, repr=False)

    def account(self) -> Account:
        """The job's account with its storefront settings loaded (read once per job, then
        detached). Raises ``JobFailed`` when the account no longer exists."""
        if self._account is None:
            with self.factory() as session:
                found = session.get(Account, self.account_id)
                if found is None:
                    raise JobFailed(f"account {self.account_id} no longer exists")
                # Loaded before the session closes: the handlers read them detached.
                _ = [s.warehouses for s in found.storefronts]
                session.expunge(found)
            self._account = found
        return self._account

    def client(self, storefront: Storefront | None = None) -> KauflandClient:
        """A new client for the account (use it as ``async with``), optionally bound to one
        storefront. The secret key is decrypted here and lives only in the client."""
        account = self.account()
        if self.client_factory is not None:
            return self.client_factory(account, storefront)
        from kaufland_sync.clients import client_for_account
        from kaufland_sync.secrets import secret_box

        secret = secret_box(self.settings).decrypt(
            account.secret_key_encrypted, account=account.name
        )
        return client_for_account(self.settings, account, secret, storefront=storefront)

    @property
    def push_on(self) -> bool:
        """Kaufland pushes this account's events to us (``webhooks subscribe`` was run)."""
        return bool(self.account().push_callback_url)


Handler = Callable[[JobContext], Awaitable[dict[str, int]]]


# -- counts -------------------------------------------------------------------------------------


def _ints(values: Mapping[str, Any], prefix: str = "") -> dict[str, int]:
    """The integer entries of ``values`` (booleans, lists and None left out)."""
    return {
        f"{prefix}{name}": value
        for name, value in values.items()
        if isinstance(value, int) and not isinstance(value, bool)
    }


def _reasons(failures: Iterable[tuple[str, str]], total: int) -> str:
    shown = [f"{sku}: {reason}" for sku, reason in list(failures)[:_REASONS_SHOWN]]
    more = f"; and {total - len(shown)} more" if total > len(shown) else ""
    return "; ".join(shown) + more


def _recovered(ctx: JobContext, kind: JobKind, found: int, counts: dict[str, int]) -> None:
    """Count what a scheduled poll found that push notifications should have brought."""
    if ctx.trigger is not JobTrigger.SCHEDULE or not ctx.push_on:
        return
    counts["recovered"] = found
    if found:
        from kaufland_sync.metrics import POLL_RECOVERED

        POLL_RECOVERED.labels(kind=kind.value).inc(found)


# -- order work (sync_orders steps) ------------------------------------------------------------


async def _sync_orders_steps(
    ctx: JobContext, steps: tuple[str, ...]
) -> tuple[OrdersSyncReport, dict[str, int]]:
    """Run ``sync_orders`` with ``steps`` on every storefront of the account (as ``sync
    orders`` does); returns the report and its counts. Raises ``JobFailed`` (after the
    counts are known) when a step failed or Kaufland refused a pushed SKU."""
    from kaufland_sync.sync.orders_sync import sync_orders

    account = ctx.account()
    storefronts = list(dict.fromkeys(s.storefront for s in account.storefronts))
    async with ctx.client() as client:
        report = await sync_orders(
            client, ctx.factory, account, storefronts, clock=ctx.clock, steps=steps
        )
    counts: dict[str, int] = {}
    if report.outbox is not None:
        counts |= _ints(report.outbox.as_dict())
    if report.orders is not None:
        counts |= _ints(report.orders.as_dict())
    if report.returns is not None:
        counts |= _ints(report.returns.as_dict())
        counts["restocked"] = len(report.returns.restocked_skus)
    if report.tickets is not None:
        counts |= _ints(report.tickets.as_dict(), "tickets_")
    if "stock" in steps:
        counts["stock_skus"] = len(report.stock_skus)
        counts["stock_updated"] = sum(s.updated for s in report.stock)
        counts["stock_refused"] = sum(len(s.failed) for s in report.stock)
    return report, counts


def _raise_partial(report: OrdersSyncReport, counts: dict[str, int]) -> None:
    if report.ok:
        return
    problems = [f"{step} failed: {reason}" for step, reason in report.errors.items()]
    refused = [(sku, reason) for s in report.stock for sku, reason in s.failed]
    if refused:
        problems.append(
            f"Kaufland refused the stock of {len(refused)} SKU(s): "
            + _reasons(refused, len(refused))
        )
    raise JobFailed("; ".join(problems), counts)


async def orders_handler(ctx: JobContext) -> dict[str, int]:
    """Import orders changed since the cursor, then push the stock they changed."""
    report, counts = await _sync_orders_steps(ctx, ("orders", "stock"))
    if report.orders is not None:
        _recovered(ctx, JobKind.ORDERS, report.orders.orders_new, counts)
    _raise_partial(report, counts)
    return counts


async def outbox_handler(ctx: JobContext) -> dict[str, int]:
    """Send the queued shipments, cancellations, refunds and return decisions (then push any
    stock they changed). When something was sent, import the order units changed since the
    cursor right after, so a shipped or cancelled unit shows Kaufland's new status at once
    rather than at the next scheduled import (one listing call)."""
    report, counts = await _sync_orders_steps(ctx, ("outbox", "stock"))
    _raise_partial(report, counts)
    if report.outbox is not None and report.outbox.sent:
        after, after_counts = await _sync_orders_steps(ctx, ("orders", "stock"))
        counts |= {f"import_{name}": value for name, value in after_counts.items()}
        _raise_partial(after, counts)
    return counts


async def returns_handler(ctx: JobContext) -> dict[str, int]:
    """Import returns changed since the cursor, then push the stock of restocked pieces."""
    report, counts = await _sync_orders_steps(ctx, ("returns", "stock"))
    if report.returns is not None:
        _recovered(ctx, JobKind.RETURNS, report.returns.returns_new, counts)
    _raise_partial(report, counts)
    return counts


async def tickets_handler(ctx: JobContext) -> dict[str, int]:
    """Import buyer tickets changed since the cursor."""
    report, counts = await _sync_orders_steps(ctx, ("tickets",))
    _raise_partial(report, counts)
    return counts


# -- offers out ---------------------------------------------------------------------------------


async def _offers(ctx: JobContext, kind: SyncKind) -> dict[str, int]:
    """The offers exporter on every storefront of the account, only what changed (as
    ``sync offers`` / ``sync stock`` without ``--full``)."""
    from kaufland_sync.backoffice.catalog import BuiltinCatalog
    from kaufland_sync.sync.exporters.offers import sync_account_offers
    from kaufland_sync.sync.mappers.offers import OfferSettings

    account = ctx.account()
    pairs = [
        (OfferSettings.from_storefront(s, base_currency=account.base_currency), s.direction_offers)
        for s in account.storefronts
    ]
    async with ctx.client() as client:
        summaries = await sync_account_offers(
            factory=ctx.factory,
            backoffice=BuiltinCatalog(ctx.factory),
            client=client,
            account_id=account.id,
            storefronts=pairs,
            kind=kind,
        )
    names = ("created", "updated", "unchanged", "held", "deleted", "skipped", "reconciled")
    counts = {name: sum(getattr(s, name) for s in summaries) for name in names}
    counts["failed"] = sum(len(s.failed) for s in summaries)
    counts["incomplete"] = sum(len(s.incomplete) for s in summaries)
    counts["write_calls"] = sum(s.write_calls for s in summaries)
    counts["read_calls"] = sum(s.read_calls for s in summaries)
    counts["storefronts"] = sum(1 for s in summaries if s.not_run_reason is None)
    if counts["failed"]:
        failures = [
            (f"{s.storefront}", why if why.startswith(sku) else f"{sku}: {why}")
            for s in summaries
            for sku, why in s.failed
        ]
        raise JobFailed(
            f"{counts['failed']} offer(s) failed: {_reasons(failures, len(failures))}", counts
        )
    return counts


async def stock_handler(ctx: JobContext) -> dict[str, int]:
    """Send the offered amounts that changed (units that exist already)."""
    from kaufland_sync.store.models.sync import SyncKind

    return await _offers(ctx, SyncKind.STOCK)


async def offers_handler(ctx: JobContext) -> dict[str, int]:
    """Create, update, hold or delete units so Kaufland shows the catalogue (changes only)."""
    from kaufland_sync.store.models.sync import SyncKind

    return await _offers(ctx, SyncKind.OFFERS)


# -- reference data and figures -------------------------------------------------------------------


async def categories_handler(ctx: JobContext) -> dict[str, int]:
    """Refresh the cached category tree of every storefront of the account."""
    from kaufland_sync.sync.categories import CategoryService

    service = CategoryService(ctx.factory, clock=ctx.clock)
    counts: dict[str, int] = {}
    for settings in ctx.account().storefronts:
        code = settings.storefront
        async with ctx.client(code) as client:
            counts[f"categories_{code.value}"] = await service.refresh_tree(client, code)
    counts["categories"] = sum(counts.values())
    return counts


async def performance_handler(ctx: JobContext) -> dict[str, int]:
    """Seller-performance figures of the last ``PERFORMANCE_DAYS`` days per storefront, from
    the store: every rate's numerator and denominator as ``{storefront}_{figure}``."""
    from kaufland_sync.reports._period import DateRange
    from kaufland_sync.reports.performance import performance_report

    now = ctx.clock()
    today = now.date()
    span = DateRange(first=today - timedelta(days=PERFORMANCE_DAYS - 1), last=today)
    with ctx.factory() as session:
        # The account is detached with its storefronts loaded: the report only reads it.
        report = performance_report(session, ctx.account(), now=now, span=span)
    counts: dict[str, int] = {}
    for row in report.totals:
        code = "all" if row.storefront is None else row.storefront.value
        figures = {f.name: getattr(row.figures, f.name) for f in dataclasses.fields(row.figures)}
        counts |= _ints(figures, f"{code}_")
    return counts


HANDLERS: Mapping[JobKind, Handler] = {
    JobKind.ORDERS: orders_handler,
    JobKind.OUTBOX: outbox_handler,
    JobKind.RETURNS: returns_handler,
    JobKind.TICKETS: tickets_handler,
    JobKind.STOCK: stock_handler,
    JobKind.OFFERS: offers_handler,
    JobKind.CATEGORIES: categories_handler,
    JobKind.PERFORMANCE: performance_handler,
}


async def run_handler(
    kind: JobKind, ctx: JobContext, handlers: Mapping[JobKind, Handler] | None = None
) -> dict[str, int]:
    """Run the handler of ``kind`` (from ``handlers``, default :data:`HANDLERS`) and return
    its counts; its exceptions propagate."""
    table = HANDLERS if handlers is None else handlers
    handler = table.get(kind)
    if handler is None:
        raise JobFailed(f"no handler for job kind {kind!r}")
    return await handler(ctx)
