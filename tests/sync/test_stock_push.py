"""``push_stock`` and reservations in the offers exporter, with a fake Kaufland and a real store
(SQLite and PostgreSQL): only the given SKUs, only storefronts whose stock goes to Kaufland,
amounts net of reservations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.sellerapi import KauflandClient
from kaufland_sync.sellerapi.models import BulkUnitResult, Page, Unit
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import StockLevel
from kaufland_sync.store.models.sync import SyncKind, SyncRun
from kaufland_sync.sync.exporters.offers import sync_account_offers
from kaufland_sync.sync.importers.orders import import_orders
from kaufland_sync.sync.stock_push import push_stock
from tests.builders import import_catalogue, new_account, offer_settings
from tests.sync.importers.test_orders import FakeResource, unit

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
CATALOGUE = """sku,ean,title,price,currency,stock
MUG,4006381333931,Mug,9.99,EUR,5
CUP,4000000000013,Cup,4.99,EUR,3
"""


class Units:
    """Units per storefront; records every bulk call as (storefront, {sku: amount})."""

    def __init__(self) -> None:
        self.units: dict[int, dict[str, Any]] = {}
        self.bulk: list[tuple[str, dict[str, int]]] = []

    async def create(self, request: Any, *, storefront: Any) -> Unit:
        body = request.to_body() | {"storefront": str(storefront)}
        id_unit = len(self.units) + 1
        self.units[id_unit] = body
        return Unit(id_unit=id_unit, id_offer=body["id_offer"])

    async def list(self, *, id_offer: str, storefront: Any, limit: int) -> Page[Unit]:
        return Page(items=[], pagination=None)

    async def bulk_update(self, items: list[Any], *, storefront: Any) -> list[BulkUnitResult]:
        sent: dict[str, int] = {}
        for id_unit, patch in items:
            self.units[id_unit].update(patch.to_body())
            sent[self.units[id_unit]["id_offer"]] = patch.amount
        self.bulk.append((str(storefront), sent))
        return [BulkUnitResult(id_unit=id_unit, status_code=200) for id_unit, _ in items]

    def amounts(self, sku: str) -> dict[str, int]:
        return {u["storefront"]: u["amount"] for u in self.units.values() if u["id_offer"] == sku}


class Client:
    def __init__(self) -> None:
        self.units = Units()
        self.order_units = FakeResource([], None)


@pytest.fixture
def factory(factory: sessionmaker[Session], tmp_path: Path) -> sessionmaker[Session]:
    """The shared migrated store (tests/conftest.py) with ``CATALOGUE`` imported."""
    import_catalogue(factory, CATALOGUE, tmp_path)
    return factory


@pytest.fixture
def account(factory: sessionmaker[Session]) -> Account:
    with transaction(factory) as session:
        repo = AccountRepository(session)
        made = new_account(session, storefronts=("de", "cz", "sk"))
        for code in ("de", "cz", "sk"):
            repo.update_storefront(made, code, {"handling_time": 1})
        repo.update_storefront(made, "cz", {"currency_rate": "25", "buffer_stock": 1})
        repo.update_storefront(made, "sk", {"direction_stock": "off"})
        return made


def publish(factory: sessionmaker[Session], client: Client, account: Account) -> None:
    summaries = asyncio.run(
        sync_account_offers(
            factory=factory,
            backoffice=BuiltinCatalog(factory),
            client=cast(KauflandClient, client),
            account_id=account.id,
            storefronts=offer_settings(factory),
        )
    )
    assert all(s.ok for s in summaries), [s.failed for s in summaries]


def order(factory: sessionmaker[Session], client: Client, account: Account, *units: Any) -> Any:
    client.order_units.units = list(units)
    return asyncio.run(
        import_orders(cast(KauflandClient, client), factory, account, ["de"], clock=lambda: T0)
    )


def test_an_order_drops_the_sku_on_every_outward_storefront_and_a_cancel_restores_it(
    factory: sessionmaker[Session], account: Account
) -> None:
    client = Client()
    publish(factory, client, account)
    assert client.units.amounts("MUG") == {"de": 5, "cz": 4, "sk": 5}

    # CUP's stock changes in the catalogue meanwhile: a push for MUG must not send it.
    with transaction(factory) as session:
        session.execute(update(StockLevel).values(quantity=StockLevel.quantity + 10))
    summary = order(factory, client, account, unit(1, "A", id_offer="MUG"))
    assert summary.stock_changed == {"MUG"}
    api = cast(KauflandClient, client)
    pushed = asyncio.run(push_stock(api, factory, account.id, summary.stock_changed))
    # sk's stock stays with Kaufland (direction off): not pushed at all.
    assert [(s.storefront, s.updated) for s in pushed] == [("cz", 1), ("de", 1)]
    assert client.units.bulk == [("cz", {"MUG": 13}), ("de", {"MUG": 14})]
    assert client.units.amounts("MUG") == {"de": 14, "cz": 13, "sk": 5}
    assert client.units.amounts("CUP") == {"de": 3, "cz": 2, "sk": 3}

    summary = order(factory, client, account, unit(1, "A", id_offer="MUG", status="cancelled"))
    asyncio.run(push_stock(api, factory, account.id, summary.stock_changed))
    assert client.units.amounts("MUG") == {"de": 15, "cz": 14, "sk": 5}
    with factory() as session:
        kinds = [r.kind for r in session.scalars(select(SyncRun).order_by(SyncRun.id))]
    assert kinds.count(SyncKind.STOCK) == 4 and kinds.count(SyncKind.ORDERS) == 2


def test_a_push_without_skus_does_nothing_and_storefronts_can_be_narrowed(
    factory: sessionmaker[Session], account: Account
) -> None:
    client = Client()
    api = cast(KauflandClient, client)
    assert asyncio.run(push_stock(api, factory, account.id, [])) == []
    publish(factory, client, account)
    order(factory, client, account, unit(1, "A", id_offer="CUP"), unit(2, "A", id_offer="CUP"))
    pushed = asyncio.run(push_stock(api, factory, account.id, ["CUP", "NOPE"], storefronts=["de"]))
    assert [(s.storefront, s.updated, s.failed) for s in pushed] == [("de", 1, [])]
    assert client.units.amounts("CUP") == {"de": 1, "cz": 2, "sk": 3}


def test_sync_offers_subtracts_reservations_by_default(
    factory: sessionmaker[Session], account: Account
) -> None:
    client = Client()
    order(factory, client, account, unit(1, "A", id_offer="MUG"))
    publish(factory, client, account)  # the first publication already holds the piece back
    # (a new unit is created with an amount even where stock is not otherwise sent)
    assert client.units.amounts("MUG") == {"de": 4, "cz": 3, "sk": 4}
