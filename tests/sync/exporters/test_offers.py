"""The offers exporter against a fake ``units`` resource, on SQLite and PostgreSQL: plans,
dry runs, deactivation, ambiguous creates and vanished units."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.protocol import Currency, ProductRecord, StockLevel
from kaufland_sync.sellerapi.errors import OutcomeUnknownError
from kaufland_sync.sellerapi.models import BulkUnitResult, Page, Unit
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account, Environment, OnDeactivate, SyncDirection
from kaufland_sync.store.models.sync import BindingState, OfferBinding, RunOutcome, SyncRun
from kaufland_sync.sync.exporters.offers import OfferExporter, SyncSummary
from kaufland_sync.sync.mappers.offers import OfferSettings


class FakeUnits:
    """Units kept in a dict; ``ambiguous`` SKUs are created but answered with a timeout."""

    def __init__(self) -> None:
        self.units: dict[int, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.ambiguous: set[str] = set()
        self._next = 1

    async def create(self, request: Any, *, storefront: Any) -> Unit:
        self.calls.append("create")
        body = request.to_body()
        self.units[self._next] = body
        unit = Unit(id_unit=self._next, **{k: body[k] for k in ("id_offer", "listing_price")})
        self._next += 1
        if body["id_offer"] in self.ambiguous:
            raise OutcomeUnknownError("POST", "/units", httpx.ReadTimeout("slow"))
        return unit

    async def list(self, *, id_offer: str, storefront: Any, limit: int) -> Page[Unit]:
        self.calls.append("list")
        found = [Unit(id_unit=i) for i, u in self.units.items() if u["id_offer"] == id_offer]
        return Page(items=found[:limit], pagination=None)

    async def bulk_update(self, items: list[Any], *, storefront: Any) -> list[BulkUnitResult]:
        self.calls.append("bulk")
        results = []
        for id_unit, patch in items:
            if id_unit not in self.units:
                results.append(BulkUnitResult(id_unit=id_unit, status_code=404))
                continue
            self.units[id_unit].update(patch.to_body())
            results.append(BulkUnitResult(id_unit=id_unit, status_code=200))
        return results

    async def delete(self, id_unit: int, *, storefront: Any) -> None:
        self.calls.append("delete")
        del self.units[id_unit]


class FakeClient:
    def __init__(self) -> None:
        self.units = FakeUnits()


class FakeBackOffice:
    def __init__(self, products: list[ProductRecord]) -> None:
        self.products = {p.sku: p for p in products}

    def iter_products(self, changed_since: Any = None, *, on_skip: Any = None) -> Iterator[Any]:
        return iter(sorted(self.products.values(), key=lambda p: p.sku))

    def stock_levels(self, skus: Any) -> dict[str, list[StockLevel]]:
        return {sku: [StockLevel(sku, "default", 4)] for sku in skus}


def products(n: int) -> list[ProductRecord]:
    return [
        ProductRecord(f"SKU-{i}", "4006381333931", f"P{i}", 1000 + i, Currency.EUR)
        for i in range(n)
    ]


@pytest.fixture
def factory(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The shared migrated store (tests/conftest.py) with the account ``shop`` (id 1)."""
    with transaction(factory) as session:
        session.add(
            Account(
                name="shop",
                client_key="k",
                secret_key_encrypted="x",
                environment=Environment.PLAYGROUND,
            )
        )
    return factory


async def run(
    factory: sessionmaker[Session], office: FakeBackOffice, client: FakeClient, **kw: Any
) -> SyncSummary:
    settings = OfferSettings(
        storefront=Storefront.DE,
        handling_time=1,
        on_deactivate=kw.pop("on_deactivate", OnDeactivate.ONHOLD),
    )
    exporter = OfferExporter(
        factory=factory,
        backoffice=office,  # type: ignore[arg-type]
        client=client,  # type: ignore[arg-type]
        account_id=1,
        settings=settings,
        batch_size=3,
        **kw,
    )
    return await exporter.run()


def bindings(factory: sessionmaker[Session]) -> dict[str, OfferBinding]:
    with factory() as session:
        return {b.sku: b for b in session.scalars(select(OfferBinding))}


async def test_dry_run_plans_and_sends_nothing(factory: sessionmaker[Session]) -> None:
    client = FakeClient()
    summary = await run(factory, FakeBackOffice(products(5)), client, dry_run=True)
    assert summary.created == 5 and [p.action.value for p in summary.plan] == ["create"] * 5
    assert client.units.calls == [] and bindings(factory) == {}
    with factory() as session:
        assert session.scalars(select(SyncRun)).all() == []


async def test_create_then_unchanged_then_hold_and_reactivate(
    factory: sessionmaker[Session],
) -> None:
    client, office = FakeClient(), FakeBackOffice(products(7))
    first = await run(factory, office, client)
    assert first.created == 7 and client.units.calls == ["create"] * 7
    assert {b.state for b in bindings(factory).values()} == {BindingState.ACTIVE}
    client.units.calls.clear()
    second = await run(factory, office, client)
    assert second.unchanged == 7 and client.units.calls == []
    old = office.products["SKU-2"]
    office.products["SKU-2"] = ProductRecord(
        old.sku, old.ean, old.title, 5, old.currency, active=False
    )
    held = await run(factory, office, client)
    assert held.held == 1 and client.units.calls == ["bulk"]
    assert bindings(factory)["SKU-2"].state is BindingState.ONHOLD
    assert client.units.units[3]["status"] == "ONHOLD"
    office.products["SKU-2"] = old
    back = await run(factory, office, client)
    assert back.updated == 1 and client.units.units[3]["status"] == "AVAILABLE"
    with factory() as session:
        runs = session.scalars(select(SyncRun)).all()
    assert [r.outcome for r in runs] == [RunOutcome.OK] * 4


async def test_delete_on_deactivate(factory: sessionmaker[Session]) -> None:
    client, office = FakeClient(), FakeBackOffice(products(2))
    await run(factory, office, client)
    old = office.products["SKU-0"]
    office.products["SKU-0"] = ProductRecord(
        old.sku, old.ean, old.title, 1, old.currency, active=False
    )
    summary = await run(factory, office, client, on_deactivate=OnDeactivate.DELETE)
    assert summary.deleted == 1 and 1 not in client.units.units
    assert bindings(factory)["SKU-0"].state is BindingState.DELETED


async def test_ambiguous_create_is_adopted_not_repeated(factory: sessionmaker[Session]) -> None:
    client, office = FakeClient(), FakeBackOffice(products(3))
    client.units.ambiguous = {"SKU-1"}
    summary = await run(factory, office, client)
    assert summary.created == 3 and summary.reconciled == 1 and summary.ok
    assert sorted(u["id_offer"] for u in client.units.units.values()) == ["SKU-0", "SKU-1", "SKU-2"]
    assert bindings(factory)["SKU-1"].id_unit == 2


async def test_vanished_unit_is_created_again(factory: sessionmaker[Session]) -> None:
    client, office = FakeClient(), FakeBackOffice(products(2))
    await run(factory, office, client)
    del client.units.units[1]
    summary = await run(factory, office, client, full=True)
    assert summary.ok and bindings(factory)["SKU-0"].id_unit == 3
    assert sorted(u["id_offer"] for u in client.units.units.values()) == ["SKU-0", "SKU-1"]


async def test_direction_off_does_nothing_and_says_so(factory: sessionmaker[Session]) -> None:
    client = FakeClient()
    summary = await run(
        factory, FakeBackOffice(products(2)), client, direction_offers=SyncDirection.OFF
    )
    assert summary.not_run_reason and "off" in summary.not_run_reason
    assert client.units.calls == []
    with factory() as session:
        assert session.scalars(select(SyncRun)).one().outcome is RunOutcome.SKIPPED
