"""``sync_orders`` end to end over loopback HTTP: one pass sends queued actions, imports the
orders they changed, and pushes stock; a pass while Kaufland fails reports the failed steps,
loses nothing, and the next pass completes the work."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.backoffice.csv_import import import_csv
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import KauflandClient, RetryPolicy
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import Order, OrderLine, StockState
from kaufland_sync.store.models.outbox import OutboxMessage, OutboxState
from kaufland_sync.sync.exporters.offers import sync_account_offers
from kaufland_sync.sync.fulfilment import ship
from kaufland_sync.sync.mappers.offers import OfferSettings
from kaufland_sync.sync.orders_sync import sync_orders
from tests.conformance import SpecRecorder
from tests.e2e.conftest import Control, make_account, open_client

SKU = "E2E-SYNC-KETTLE"
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


def clock() -> datetime:
    return datetime.now(UTC)


async def publish(
    client: KauflandClient, factory: sessionmaker[Session], account: Account, tmp_path: Path
) -> dict[str, int]:
    """Put SKU (5 on hand) on de and cz; return its unit id per storefront."""
    with transaction(factory) as session:
        repo = AccountRepository(session)
        found = repo.get(account.name)
        repo.update_storefront(found, "de", {"handling_time": 2})
        repo.update_storefront(found, "cz", {"handling_time": 2, "currency_rate": "25"})
    page = await client.units.list(storefront="de", embedded="products", limit=30)
    ean = next(u.product.eans[0] for u in page.items if u.product is not None and u.product.eans)
    csv = tmp_path / "catalogue.csv"
    csv.write_text(
        f"sku,ean,title,price,currency,stock\n{SKU},{ean},Kettle,29.99,EUR,5\n", encoding="utf-8"
    )
    assert not import_csv(csv, factory).errors
    with factory() as session:
        settings = [
            (OfferSettings.from_storefront(s), s.direction_offers)
            for s in session.scalars(select(Account)).one().storefronts
        ]
    await sync_account_offers(
        factory=factory,
        backoffice=BuiltinCatalog(factory),
        client=client,
        account_id=account.id,
        storefronts=settings,
    )
    return {
        sf: (await client.units.list(storefront=sf, id_offer=SKU)).items[0].id_unit
        for sf in ("de", "cz")
    }


async def test_one_pass_ships_imports_and_pushes_and_a_failed_pass_loses_nothing(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    account = make_account(factory, sandbox, ["de", "cz"])
    async with open_client(sandbox, recorder, retry=FAST_RETRY) as client:
        units = await publish(client, factory, account, tmp_path)
        await client.playground.create_orders([(units["de"], 1)], storefront="de")

        first = await sync_orders(client, factory, account, ["de", "cz"], clock=clock)
        assert first.ok, first.errors
        assert first.outbox is not None and first.outbox.processed == []
        assert first.orders is not None and first.orders.reserved == 1
        assert first.stock_skus == [SKU]
        assert (await client.units.get(units["cz"], storefront="cz")).amount == 4

        # The seller ships; the next pass sends it first, then imports the unit as sent.
        with factory() as session:
            id_order = session.scalars(select(Order.id_order)).one()
        with transaction(factory) as session:
            queued = ship(
                session,
                account.id,
                id_order,
                carrier="DHL",
                tracking_numbers=["00340434161094042557"],
                carriers=[c.name for c in await client.carriers.list()],
            )
        assert len(queued) == 1
        second = await sync_orders(client, factory, account, ["de", "cz"], clock=clock)
        assert second.ok, second.errors
        assert second.outbox is not None and second.outbox.sent == 1
        assert second.orders is not None and second.orders.consumed == 1
        with factory() as session:
            line = session.scalars(select(OrderLine)).one()
            assert (line.status, line.stock_state) == ("sent", StockState.CONSUMED)
        on_hand = BuiltinCatalog(factory).stock_levels([SKU])[SKU]
        assert sum(level.quantity for level in on_hand) == 4

        # Kaufland fails every request: the pass reports the failed steps and queues stay.
        await client.playground.create_orders([(units["de"], 1)], storefront="de")
        control.faults(error_rate=1.0)
        try:
            failed = await sync_orders(client, factory, account, ["de", "cz"], clock=clock)
        finally:
            control.faults(error_rate=0.0)
        assert not failed.ok
        assert {"orders", "returns", "tickets"} <= set(failed.errors)
        with factory() as session:
            assert session.scalar(select(OutboxMessage.state)) is OutboxState.DONE
            assert len(session.scalars(select(Order)).all()) == 1

        third = await sync_orders(client, factory, account, ["de", "cz"], clock=clock)
        assert third.ok, third.errors
        assert third.orders is not None and third.orders.orders_new == 1
        assert (await client.units.get(units["cz"], storefront="cz")).amount == 3
