"""``sync_orders`` end to end over loopback HTTP: one pass sends queued actions, imports the
orders they changed, and pushes stock; a pass while Kaufland fails reports the failed steps,
loses nothing, and the next pass completes the work."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import KauflandClient, RetryPolicy
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import Order, OrderLine, StockState
from kaufland_sync.store.models.outbox import OutboxMessage, OutboxState
from kaufland_sync.sync.fulfilment import ship
from kaufland_sync.sync.orders_sync import sync_orders
from tests.conformance import SpecRecorder
from tests.e2e.conftest import Control, clock, make_account, open_client, publish_sku

SKU = "E2E-SYNC-KETTLE"
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


async def publish(
    client: KauflandClient, factory: sessionmaker[Session], account: Account, tmp_path: Path
) -> dict[str, int]:
    """Put SKU (5 on hand) on de and cz; return its unit id per storefront."""
    with transaction(factory) as session:
        repo = AccountRepository(session)
        found = repo.get(account.name)
        repo.update_storefront(found, "de", {"handling_time": 2})
        repo.update_storefront(found, "cz", {"handling_time": 2, "currency_rate": "25"})
    _, units = await publish_sku(
        client, factory, account, tmp_path, f"{SKU},{{ean}},Kettle,29.99,EUR,5"
    )
    return units


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
