"""The stock push after an order import: the other storefronts drop at once.

An order on one storefront reserves a piece (:mod:`kaufland_sync.sync.reservations`); Kaufland
takes it off that storefront's unit by itself, but every other storefront selling the same SKU
still offers it until its amount is sent again. :func:`push_stock` runs the stock sync
(``OfferExporter`` with kind ``stock``) for only the SKUs whose reservation changed, on every
storefront of the account whose stock flows to Kaufland, with the open orders' reservations
subtracted. Only amounts that differ from what was last sent go out (one bulk call per
storefront for a handful of SKUs), so pushing the storefront the order came from costs nothing
extra unless its amount really differs.

If the push fails or is never run (a crash right after the import), nothing is lost for long:
the reservations are stored, and the next ``sync stock`` sends the same amounts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.backoffice.protocol import BackOffice
from kaufland_sync.sellerapi import KauflandClient
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.models.accounts import Account, SyncDirection
from kaufland_sync.store.models.sync import SyncKind
from kaufland_sync.sync.exporters.offers import OfferExporter, SyncSummary
from kaufland_sync.sync.mappers.offers import OfferSettings
from kaufland_sync.sync.reservations import reservation_source

__all__ = ["push_stock"]

_OUTWARD = (SyncDirection.TO_KAUFLAND, SyncDirection.BOTH)


async def push_stock(
    client: KauflandClient,
    factory: sessionmaker[Session],
    account_id: int,
    skus: Iterable[str],
    *,
    backoffice: BackOffice | None = None,
    storefronts: Iterable[Storefront | str] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> list[SyncSummary]:
    """Send the offered amount of ``skus`` to every storefront of ``account_id`` whose stock
    direction goes to Kaufland (``storefronts`` narrows that set), one storefront after the
    other; returns one summary per storefront pushed (each also logged as a ``stock``
    ``SyncRun``). No SKUs: nothing is read or sent. ``backoffice`` defaults to the built-in
    catalogue. ``client`` must be the account's; the storefront is passed on every call.

    Products the back office does not know, and units not published yet, are skipped (the
    exporter's rules). Errors from Kaufland that stop a run propagate (a refused SKU does not:
    it is listed in its summary's ``failed``)."""
    wanted = sorted(set(skus))
    if not wanted:
        return []
    only = None if storefronts is None else {Storefront.parse(str(s)) for s in storefronts}
    with factory() as session:
        account = session.scalars(select(Account).where(Account.id == account_id)).one()
        chosen = [
            OfferSettings.from_storefront(s, base_currency=account.base_currency)
            for s in account.storefronts
            if s.direction_stock in _OUTWARD and (only is None or s.storefront in only)
        ]
    source = backoffice if backoffice is not None else BuiltinCatalog(factory)
    reservations = reservation_source(factory, account_id)
    summaries: list[SyncSummary] = []
    for settings in chosen:
        exporter = OfferExporter(
            factory=factory,
            backoffice=source,
            client=client,
            account_id=account_id,
            settings=settings,
            kind=SyncKind.STOCK,
            reservations=reservations,
            skus=wanted,
            clock=clock,
        )
        summaries.append(await exporter.run())
    return summaries
