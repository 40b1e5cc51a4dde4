"""``sync orders``: one pass of everything order-related for an account, in the order that
keeps each step's input fresh:

1. **outbox** — send the queued actions (shipments, cancellations, invoices, refunds, return
   decisions), so the import below already sees their effect on Kaufland;
2. **orders** — import order units changed since the cursor (reserves, consumes and releases
   stock, maps statuses);
3. **returns** — import returns and return units (links them to the order lines imported in 2;
   restocks accepted pieces when the account says so);
4. **tickets** — import buyer tickets (seller performance);
5. **stock** — push the stock of every SKU whose reservation or on-hand stock changed in 2 or 3
   to every storefront whose stock flows to Kaufland.

A step that fails (Kaufland unreachable after the client's retries, a refusal) is recorded in
the report and the following steps still run: each is exactly-once on its own and resumes from
its own cursor next time. Nothing a failed step would have done is lost: queued actions stay
queued, cursors do not move, and reservations are stored for the next stock sync.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.logging import get_logger
from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.errors import KauflandError
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.sync.exporters.offers import SyncSummary
from kaufland_sync.sync.importers.orders import OrderImportSummary, import_orders
from kaufland_sync.sync.importers.returns import ReturnImportSummary, import_returns
from kaufland_sync.sync.importers.tickets import TicketImportSummary, import_tickets
from kaufland_sync.sync.outbox import OutboxRunSummary, run_outbox
from kaufland_sync.sync.stock_push import push_stock

__all__ = ["STEPS", "OrdersSyncReport", "sync_orders"]

log = get_logger(__name__)

STEPS = ("outbox", "orders", "returns", "tickets", "stock")


@dataclass
class OrdersSyncReport:
    """What one :func:`sync_orders` pass did; ``errors`` maps a failed step to its reason."""

    outbox: OutboxRunSummary | None = None
    orders: OrderImportSummary | None = None
    returns: ReturnImportSummary | None = None
    tickets: TicketImportSummary | None = None
    stock: list[SyncSummary] = field(default_factory=list)
    stock_skus: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every step ran and no pushed SKU was refused."""
        return not self.errors and not any(s.failed for s in self.stock)

    def as_dict(self) -> dict[str, Any]:
        return {
            "outbox": None if self.outbox is None else self.outbox.as_dict(),
            "orders": None if self.orders is None else self.orders.as_dict(),
            "returns": None if self.returns is None else self.returns.as_dict(),
            "tickets": None if self.tickets is None else self.tickets.as_dict(),
            "stock": [s.as_dict() for s in self.stock],
            "stock_skus": list(self.stock_skus),
            "errors": dict(self.errors),
            "ok": self.ok,
        }


async def sync_orders(
    client: KauflandClient,
    factory: sessionmaker[Session],
    account: Account,
    storefronts: Iterable[Storefront | str],
    *,
    clock: Callable[[], datetime],
    steps: Iterable[str] = STEPS,
) -> OrdersSyncReport:
    """Run ``steps`` (default: all, see the module docstring) for ``account`` on
    ``storefronts`` with one client (one pacer for the whole pass). Kaufland errors are caught
    per step and reported; anything else (a store failure, a bug) propagates."""
    wanted = set(steps)
    unknown = wanted - set(STEPS)
    if unknown:
        raise ValueError(f"unknown sync steps: {', '.join(sorted(unknown))}")
    sfs = [Storefront(s) for s in storefronts]
    report = OrdersSyncReport()

    async def step(name: str, work: Callable[[], Any]) -> Any:
        if name not in wanted:
            return None
        try:
            return await work()
        except KauflandError as exc:
            report.errors[name] = str(exc)
            log.warning("sync_orders.step_failed", account=account.name, step=name, error=str(exc))
            return None

    report.outbox = await step(
        "outbox", lambda: run_outbox(client, factory, account.id, clock=clock)
    )
    report.orders = await step(
        "orders", lambda: import_orders(client, factory, account, sfs, clock=clock)
    )
    report.returns = await step(
        "returns", lambda: import_returns(client, factory, account, sfs, clock=clock)
    )
    report.tickets = await step(
        "tickets", lambda: import_tickets(client, factory, account, sfs, clock=clock)
    )
    changed: set[str] = set()
    if report.orders is not None:
        changed |= report.orders.stock_changed
    if report.returns is not None:
        changed |= set(report.returns.restocked_skus)
    report.stock_skus = sorted(changed)
    if changed:
        pushed = await step(
            "stock", lambda: push_stock(client, factory, account.id, changed, clock=clock)
        )
        report.stock = list(pushed or [])
    return report
