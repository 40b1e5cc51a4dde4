"""Orders and stock end to end over loopback HTTP, on SQLite and PostgreSQL: one SKU sold on de
and cz; a buyer's order on de (playground endpoint) drops cz right after the import's push; a
cancellation on Kaufland's side gives the piece back; a shipped piece leaves the catalogue.

Every exchange is validated against Kaufland's spec by the recorder.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import KauflandClient
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import OrderLine, StockState
from kaufland_sync.sync.importers.orders import OrderImportSummary, import_orders
from kaufland_sync.sync.reservations import reserved_counts
from kaufland_sync.sync.stock_push import push_stock
from tests.conformance import SpecRecorder
from tests.e2e.conftest import Control, clock, make_account, open_client, publish_sku

SKU = "E2E-MUG"


def on_hand(factory: sessionmaker[Session]) -> int:
    return sum(level.quantity for level in BuiltinCatalog(factory).stock_levels([SKU])[SKU])


async def amounts(client: KauflandClient, units: dict[str, int]) -> dict[str, int | None]:
    return {sf: (await client.units.get(i, storefront=sf)).amount for sf, i in units.items()}


async def import_and_push(
    client: KauflandClient, factory: sessionmaker[Session], account: Account
) -> OrderImportSummary:
    summary = await import_orders(client, factory, account, ["de", "cz"], clock=clock)
    await push_stock(client, factory, account.id, summary.stock_changed)
    return summary


def line_states(factory: sessionmaker[Session]) -> dict[int, StockState]:
    with factory() as session:
        return {line.id_order_unit: line.stock_state for line in session.scalars(select(OrderLine))}


async def test_an_order_on_de_drops_cz_at_once_and_cancel_and_shipping_settle_it(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    store: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    account = make_account(store, sandbox, ["de", "cz"])
    with transaction(store) as session:
        repo = AccountRepository(session)
        found = repo.get("shop")
        repo.update_storefront(found, "de", {"handling_time": 2})
        repo.update_storefront(found, "cz", {"handling_time": 3, "currency_rate": "25"})
    async with open_client(sandbox, recorder) as client:
        published, units = await publish_sku(
            client, store, account, tmp_path, f"{SKU},{{ean}},Mug,9.99,EUR,5"
        )
        assert [(s.storefront, s.created) for s in published] == [("cz", 1), ("de", 1)]
        assert await amounts(client, units) == {"de": 5, "cz": 5}

        # A buyer orders one piece on de: Kaufland takes it off de, our push off cz.
        await client.playground.create_orders([(units["de"], 1)], storefront="de")
        first = await import_and_push(client, store, account)
        assert (first.reserved, first.stock_changed) == (1, {SKU})
        assert reserved_counts(store, account.id, [SKU]) == {SKU: 1}
        assert await amounts(client, units) == {"de": 4, "cz": 4}
        (cancelled_unit,) = line_states(store)

        # Cancelled on Kaufland's side: de gets its piece back by itself, cz through the push.
        await client.order_units.cancel(cancelled_unit, "BuyerCancelled")
        second = await import_and_push(client, store, account)
        assert (second.released, second.stock_changed) == (1, {SKU})
        assert line_states(store) == {cancelled_unit: StockState.RELEASED}
        assert await amounts(client, units) == {"de": 5, "cz": 5}
        assert on_hand(store) == 5

        # Another order, shipped: the piece leaves the catalogue; offered stock stays where the
        # reservation had put it.
        await client.playground.create_orders([(units["de"], 1)], storefront="de")
        await import_and_push(client, store, account)
        assert await amounts(client, units) == {"de": 4, "cz": 4}
        shipped_unit = next(i for i in line_states(store) if i != cancelled_unit)
        await client.order_units.send(
            shipped_unit, carrier_code="DHL", tracking_numbers="00340434161094042557"
        )
        third = await import_and_push(client, store, account)
        assert (third.consumed, third.stock_changed) == (1, {SKU})
        assert line_states(store)[shipped_unit] is StockState.CONSUMED
        assert on_hand(store) == 4
        assert reserved_counts(store, account.id, [SKU]) == {}
        assert await amounts(client, units) == {"de": 4, "cz": 4}

        # A rerun changes nothing: no second deduction, nothing to push.
        again = await import_and_push(client, store, account)
        assert again.stock_changed == set() and on_hand(store) == 4
    with store() as session:
        line = session.scalars(select(OrderLine).where(OrderLine.id_order_unit == shipped_unit))
        shipped = line.one()
        assert shipped.sent_at is not None and shipped.local_status == "Dispatched"
        assert shipped.order.payment_method == "Kaufland Marketplace"
