"""Stock reservations through ``import_orders`` (fake client, real store, SQLite and
PostgreSQL): reserve, consume with one deduction, release, never twice, and the warehouse a
shipped piece comes off."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.sellerapi.models import OrderUnit
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import OrderLine, StockState
from kaufland_sync.sync.importers.orders import OrderImportSummary, import_orders
from kaufland_sync.sync.reservations import (
    StockKeeper,
    Transition,
    reservation_source,
    reserved_counts,
)
from tests.builders import import_catalogue, new_account
from tests.sync.importers.test_orders import FakeClient, as_client, unit

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
SENT_AT = "2026-03-02T08:30:00Z"

CATALOGUE = """sku,ean,title,price,currency,stock,warehouse
MUG,4006381333931,Mug,9.99,EUR,5,default
MUG,4006381333931,Mug,9.99,EUR,7,prague
MUG,4006381333931,Mug,9.99,EUR,2,berlin
CUP,4000000000013,Cup,4.99,EUR,3,default
"""


@pytest.fixture
def factory(factory: sessionmaker[Session], tmp_path: Path) -> sessionmaker[Session]:
    """The shared migrated store (tests/conftest.py) with ``CATALOGUE`` imported."""
    import_catalogue(factory, CATALOGUE, tmp_path)
    return factory


@pytest.fixture
def account(factory: sessionmaker[Session]) -> Account:
    with transaction(factory) as session:
        repo = AccountRepository(session)
        made = new_account(session, storefronts=("de", "cz"))
        # de offers only what lies in default and berlin; cz maps nothing (every warehouse).
        repo.map_warehouse(made, "de", "default", 11)
        repo.map_warehouse(made, "de", "berlin", 12)
        return made


def line_unit(id_ou: int, status: str, sku: str = "MUG", **extra: Any) -> OrderUnit:
    return unit(id_ou, f"O{id_ou}", status=status, id_offer=sku, **extra)


def run(factory: sessionmaker[Session], account: Account, *units: OrderUnit) -> OrderImportSummary:
    return asyncio.run(
        import_orders(
            as_client(FakeClient(list(units))), factory, account, ["de"], clock=lambda: T0
        )
    )


def on_hand(factory: sessionmaker[Session], sku: str = "MUG") -> dict[str, int]:
    return {
        level.warehouse: level.quantity
        for level in BuiltinCatalog(factory).stock_levels([sku])[sku]
    }


def states(factory: sessionmaker[Session]) -> dict[int, StockState]:
    with factory() as session:
        return {line.id_order_unit: line.stock_state for line in session.scalars(select(OrderLine))}


def test_a_new_unshipped_line_reserves_and_shipping_consumes_once(
    factory: sessionmaker[Session], account: Account
) -> None:
    first = run(factory, account, line_unit(1, "open"), line_unit(2, "need_to_be_sent"))
    assert (first.reserved, first.stock_changed) == (2, {"MUG"})
    assert states(factory) == {1: StockState.RESERVED, 2: StockState.RESERVED}
    assert reserved_counts(factory, account.id, ["MUG", "CUP", "NONE"]) == {"MUG": 2}
    before = on_hand(factory)

    shipped = run(factory, account, line_unit(1, "sent", ts_updated_iso=SENT_AT))
    assert (shipped.consumed, shipped.reserved, shipped.stock_changed) == (1, 0, {"MUG"})
    assert states(factory)[1] is StockState.CONSUMED
    # de counts default (5) and berlin (2): the piece comes off default, which holds the most
    # of the mapped ones, not off prague (7) which de does not offer from.
    assert on_hand(factory) == before | {"default": 4}
    with factory() as session:
        line = session.scalars(select(OrderLine).where(OrderLine.id_order_unit == 1)).one()
        assert line.sent_at == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert reserved_counts(factory, account.id, ["MUG"]) == {"MUG": 1}

    # Further changes of a consumed line (delivered, returned) deduct nothing more.
    later = run(factory, account, line_unit(1, "received"), line_unit(1, "returned"))
    assert (later.consumed, later.stock_changed) == (0, set())
    assert on_hand(factory) == before | {"default": 4}


def test_a_cancellation_releases_without_deducting(
    factory: sessionmaker[Session], account: Account
) -> None:
    run(factory, account, line_unit(1, "need_to_be_sent"))
    before = on_hand(factory)
    summary = run(factory, account, line_unit(1, "cancelled", cancel_reason="BuyerCancelled"))
    assert (summary.released, summary.stock_changed) == (1, {"MUG"})
    assert states(factory) == {1: StockState.RELEASED}
    assert on_hand(factory) == before
    assert reserved_counts(factory, account.id, ["MUG"]) == {}
    with factory() as session:
        line = session.scalars(select(OrderLine)).one()
        assert (line.cancel_reason, line.local_status) == ("BuyerCancelled", "Cancelled")


def test_lines_imported_shipped_cancelled_or_fulfilled_by_kaufland_reserve_nothing(
    factory: sessionmaker[Session], account: Account
) -> None:
    before = on_hand(factory)
    summary = run(
        factory,
        account,
        line_unit(1, "sent", ts_updated_iso=SENT_AT),
        line_unit(2, "cancelled"),
        line_unit(3, "received"),
        line_unit(4, "need_to_be_sent", fulfillment_type="fulfilled_by_kaufland"),
        unit(5, "O5", status="need_to_be_sent"),  # no id_offer: nothing to reserve
    )
    assert summary.stock_changed == set() and summary.reserved == 0
    assert set(states(factory).values()) == {StockState.NONE}
    assert on_hand(factory) == before
    with factory() as session:
        sent = {line.id_order_unit: line.sent_at for line in session.scalars(select(OrderLine))}
    assert sent[1] is not None and sent[3] is None  # first seen past "sent": unknown

    # Later changes never turn them into reservations or deductions.
    again = run(factory, account, line_unit(4, "sent"), line_unit(1, "received"))
    assert again.stock_changed == set() and on_hand(factory) == before


def test_a_shipped_sku_missing_from_the_catalogue_is_skipped(
    factory: sessionmaker[Session], account: Account
) -> None:
    run(factory, account, line_unit(1, "need_to_be_sent", sku="GHOST"))
    summary = run(factory, account, line_unit(1, "sent", sku="GHOST"))
    assert (summary.consumed, summary.stock_changed) == (1, {"GHOST"})
    assert states(factory) == {1: StockState.CONSUMED}


def test_without_mapped_warehouses_the_fullest_warehouse_gives_the_piece(
    factory: sessionmaker[Session], account: Account
) -> None:
    with transaction(factory) as session:
        keeper = StockKeeper(session, account.id, now=lambda: T0)
        assert keeper.deduct("MUG", Storefront.CZ) == "prague"
        assert keeper.deduct("CUP", Storefront.DE) == "default"
    with transaction(factory) as session:
        for _ in range(3):
            StockKeeper(session, account.id, now=lambda: T0).deduct("CUP", Storefront.DE)
    assert on_hand(factory, "CUP") == {"default": 0}  # never below zero


def test_two_runs_racing_on_one_reserved_line_deduct_once(
    factory: sessionmaker[Session], account: Account
) -> None:
    run(factory, account, line_unit(1, "need_to_be_sent"))
    before = on_hand(factory)
    query = select(OrderLine).where(OrderLine.id_order_unit == 1)
    # Both sessions read the line while it is still reserved; the first commits its move, the
    # second's conditional update then finds nothing to move.
    with factory() as first, factory() as second:
        mine, theirs = first.scalars(query).one(), second.scalars(query).one()
        assert mine.stock_state is theirs.stock_state is StockState.RESERVED
        mine.status = theirs.status = "sent"
        moved = StockKeeper(first, account.id, now=lambda: T0).on_line(
            mine, new=False, storefront=Storefront.DE, fulfillment_type=None
        )
        first.commit()
        again = StockKeeper(second, account.id, now=lambda: T0).on_line(
            theirs, new=False, storefront=Storefront.DE, fulfillment_type=None
        )
        second.commit()
    assert (moved, again) == (Transition.CONSUMED, None)
    assert on_hand(factory) == before | {"default": before["default"] - 1}


def test_reservations_are_per_account_and_feed_the_exporter(
    factory: sessionmaker[Session], account: Account
) -> None:
    run(factory, account, line_unit(1, "open"), line_unit(2, "open", sku="CUP"))
    source = reservation_source(factory, account.id)
    assert source(["MUG", "CUP"]) == {"MUG": 1, "CUP": 1}
    assert reservation_source(factory, account.id + 1)(["MUG"]) == {}
    with factory() as session:
        assert reserved_counts(session, account.id, []) == {}
        assert reserved_counts(session, account.id, ["CUP"]) == {"CUP": 1}
