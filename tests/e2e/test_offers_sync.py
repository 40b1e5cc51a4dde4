"""Offers out, end to end over loopback HTTP: CSV catalogue → ``sync offers`` → units on the
sandbox, on SQLite and PostgreSQL.

Checks the issue's "done means": converted, rounded prices and buffered stock on two
storefronts; a second run sends nothing; a 1 % price change sends only those offers (bulk); a
run killed after some creates, resumed, leaves exactly one unit per SKU.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.backoffice.csv_import import import_csv
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import KauflandClient
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.sync import BindingState, OfferBinding, RunOutcome, SyncRun
from kaufland_sync.sync.exporters.offers import SyncSummary, sync_account_offers
from tests.builders import new_account, offer_settings
from tests.conformance import SpecRecorder
from tests.e2e.conftest import MAIN_KEY, Control, open_client

PRODUCTS = 100
WRITES = ("POST ", "PATCH ", "DELETE ", "PUT ")


def ean13(n: int) -> str:
    body = f"40{n:010d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def price_of(n: int) -> str:
    return f"{10 + n}.{(n * 37) % 100:02d}"


def write_csv(
    path: Path, numbers: range, *, bad_rows: bool = False, bump: frozenset[int] = frozenset()
) -> None:
    lines = ["sku,ean,title,price,currency,stock"]
    for n in numbers:
        price = Decimal(price_of(n)) + (1 if n in bump else 0)
        lines.append(f"SKU-{n:04d},{ean13(n)},Product {n},{price},EUR,{n % 7}")
    if bad_rows:
        lines.append("BAD-EAN,4000000000000,Broken check digit,9.99,EUR,1")
        lines.append("BAD-PRICE,4006381333931,No price,,EUR,1")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_shop(factory: sessionmaker[Session], sandbox: RunningSandbox) -> int:
    """The account ``shop`` on de and cz (converted at 25.2, whole crowns, 2 pieces held back)."""
    with transaction(factory) as session:
        repo = AccountRepository(session)
        account = new_account(
            session, client_key=MAIN_KEY, base_url=sandbox.base_url, storefronts=("de", "cz")
        )
        repo.update_storefront(account, "de", {"handling_time": 2})
        repo.update_storefront(
            account,
            "cz",
            {"handling_time": 3, "currency_rate": "25.2", "rounding": "1", "buffer_stock": 2},
        )
        return account.id


async def sync(
    factory: sessionmaker[Session], client: KauflandClient, account_id: int, **options: Any
) -> list[SyncSummary]:
    return await sync_account_offers(
        factory=factory,
        backoffice=BuiltinCatalog(factory),
        client=client,
        account_id=account_id,
        storefronts=offer_settings(factory),
        **options,
    )


def write_requests(control: Control) -> Counter[str]:
    counts: Counter[str] = Counter()
    for endpoint, by_status in control.state()["requests"].items():
        if endpoint.startswith(WRITES):
            counts[endpoint] += sum(by_status.values())
    return counts


async def units_by_sku(client: KauflandClient, storefront: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    async for unit in client.units.iter_all(storefront=storefront):
        found.setdefault(unit.id_offer or "", []).append(unit)
    return found


class Killed(BaseException):
    """Stands for the process being killed: not an Exception, so nothing handles it."""


async def test_offers_sync_end_to_end(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    store: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    control.reset("empty")
    csv_path = tmp_path / "catalog.csv"
    write_csv(csv_path, range(1, PRODUCTS + 1), bad_rows=True)
    report = import_csv(csv_path, store)
    assert len(report.errors) == 2  # the bad rows are reported, the good ones imported
    account_id = make_shop(store, sandbox)

    async with open_client(sandbox, recorder) as client:
        # First publication: every product on both storefronts.
        first = await sync(store, client, account_id)
        by_code = {s.storefront: s for s in first}
        assert by_code["de"].created == PRODUCTS and by_code["cz"].created == PRODUCTS
        # The EANs are new to Kaufland: every unit waits as INCOMPLETE, and the summary says so.
        assert len(by_code["de"].incomplete) == PRODUCTS
        assert all(s.ok for s in first), [s.failed[:3] for s in first]
        de = await units_by_sku(client, "de")
        cz = await units_by_sku(client, "cz")
        assert len(de) == PRODUCTS and len(cz) == PRODUCTS
        unit_de, unit_cz = de["SKU-0042"][0], cz["SKU-0042"][0]
        assert unit_de.listing_price == 5254 and unit_de.amount == 0  # 52.54 EUR, 42 % 7 = 0
        # 52.54 EUR x 25.2 = 1324.008 CZK, rounded to whole crowns.
        assert unit_cz.listing_price == 132400 and unit_cz.handling_time == 3
        unit_de, unit_cz = de["SKU-0006"][0], cz["SKU-0006"][0]
        assert unit_de.amount == 6 and unit_cz.amount == 4  # buffer stock 2 on cz only
        assert unit_cz.listing_price % 100 == 0

        # Second run: nothing changed, nothing sent.
        before = write_requests(control)
        second = await sync(store, client, account_id)
        assert write_requests(control) == before
        assert [s.unchanged for s in second] == [PRODUCTS, PRODUCTS]
        assert all(s.write_calls == 0 for s in second)

        # 1 % of the products change price: only those, through the bulk endpoint.
        write_csv(csv_path, range(1, PRODUCTS + 1), bump={7})
        import_csv(csv_path, store)
        before = write_requests(control)
        third = await sync(store, client, account_id)
        sent = write_requests(control) - before
        assert sent == Counter({"POST /v2/units/bulk": 2})
        assert [(s.updated, s.unchanged) for s in third] == [(1, PRODUCTS - 1)] * 2
        assert (
            await client.units.get(de["SKU-0007"][0].id_unit, storefront="de")
        ).listing_price == 1859

        # A run killed after a few creates: the rerun binds what was created, no duplicates.
        write_csv(csv_path, range(1, PRODUCTS + 21), bump={7})
        import_csv(csv_path, store)
        created: list[str] = []

        def kill_after_five(sku: str) -> None:
            created.append(sku)
            if len(created) == 5:
                raise Killed

        with pytest.raises(Killed):
            await sync(store, client, account_id, after_create=kill_after_five)
        with store() as session:
            pending = session.scalars(
                select(OfferBinding).where(OfferBinding.state == BindingState.PENDING_CREATE)
            ).all()
        assert pending  # markers committed before the creates were sent
        resumed = await sync(store, client, account_id)
        assert all(s.ok for s in resumed), [s.failed[:3] for s in resumed]
        for code in ("de", "cz"):
            units = await units_by_sku(client, code)
            assert len(units) == PRODUCTS + 20
            assert all(len(found) == 1 for found in units.values())
        assert sum(s.reconciled for s in resumed) >= 1

        # And after all that, once more: nothing to send.
        before = write_requests(control)
        await sync(store, client, account_id)
        assert write_requests(control) == before

    with store() as session:
        runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        bindings = session.scalars(select(OfferBinding)).all()
    assert [r.outcome for r in runs[:2]] == [RunOutcome.OK, RunOutcome.OK]
    assert runs[0].created == PRODUCTS and runs[0].calls == PRODUCTS
    assert RunOutcome.RUNNING in {r.outcome for r in runs}  # the killed run's row
    assert len(bindings) == 2 * (PRODUCTS + 20)
    assert {b.state for b in bindings} == {BindingState.ACTIVE}
