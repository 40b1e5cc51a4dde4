"""``import_orders`` against the sandbox over loopback: exactly once, under faults, and hidden
addresses filled in once the sandbox releases them.

The store is a SQLite file per test (the tables are tested on both backends in tests/store);
every exchange is validated against Kaufland's spec by the recorder.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sandbox.world import ALL_STOREFRONTS, SandboxConfig, SellerCredentials
from kaufland_sync.sellerapi import KauflandClient, RateLimiter, RetryPolicy
from kaufland_sync.sellerapi.errors import KauflandError
from kaufland_sync.store.models.orders import Customer, Order, OrderLine, SyncCursor
from kaufland_sync.sync.importers.orders import OrderImportSummary, import_orders
from tests.conformance import SpecRecorder
from tests.e2e.conftest import MAIN_KEY, MAIN_SECRET, Control, clock, make_account, open_client

FAST_RETRY = RetryPolicy(max_attempts=10, base_delay=0.02, max_delay=0.3)


async def kaufland_units(client: KauflandClient) -> dict[int, str]:
    """id_order_unit → id_order of every order unit on ``de``."""
    return {u.id_order_unit: u.id_order async for u in client.order_units.iter_all(storefront="de")}


def local_units(factory: sessionmaker[Session]) -> dict[int, str]:
    with factory() as session:
        rows = session.execute(
            select(OrderLine.id_order_unit, Order.id_order).join(Order, OrderLine.order)
        )
        return {id_ou: id_order for id_ou, id_order in rows}


def assert_exactly_once(factory: sessionmaker[Session], expected: dict[int, str]) -> None:
    assert local_units(factory) == expected
    with factory() as session:
        orders = session.scalars(select(Order.id_order)).all()
        assert sorted(orders) == sorted(set(expected.values()))
        assert session.scalar(select(func.count()).select_from(OrderLine)) == len(expected)


async def test_orders_are_imported_once_and_a_rerun_changes_nothing(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    factory: sessionmaker[Session],
) -> None:
    account = make_account(factory, sandbox)
    control.orders(5)
    async with open_client(sandbox, recorder) as client:
        expected = await kaufland_units(client)
        first = await import_orders(client, factory, account, ["de"], clock=clock)
        second = await import_orders(client, factory, account, ["de"], clock=clock)

    assert expected
    assert first.orders_new == len(set(expected.values()))
    assert first.lines_new == len(expected)
    assert second == OrderImportSummary(unchanged=len(expected))
    assert_exactly_once(factory, expected)
    with factory() as session:
        line = session.scalars(select(OrderLine)).first()
        assert line is not None
        assert line.raw["id_order_unit"] == line.id_order_unit
        assert line.status == "need_to_be_sent" and line.addresses_hidden is False
        assert line.price is not None and line.delivery_time_expires_iso is not None
        order = line.order
        assert order.currency == "EUR" and order.shipping_address is not None
        assert order.customer_id is not None
        customers = session.scalar(select(func.count()).select_from(Customer))
        assert customers is not None and 1 <= customers <= len(set(expected.values()))
        cursor = session.scalars(select(SyncCursor)).one()
        assert cursor.kind == "order_units"


async def test_faults_and_reruns_still_give_exactly_one_order_per_kaufland_order(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    factory: sessionmaker[Session],
) -> None:
    account = make_account(factory, sandbox)
    control.orders(8)
    async with open_client(sandbox, recorder, retry=FAST_RETRY, http_timeout=0.5) as client:
        expected = await kaufland_units(client)
        control.faults(error_rate=0.1, timeout_rate=0.05, timeout_seconds=1.0)
        try:
            for _ in range(3):  # a run may give up on a fault; whatever it wrote must hold
                try:
                    await import_orders(client, factory, account, ["de"], clock=clock)
                except KauflandError:
                    continue
        finally:
            control.faults(error_rate=0, timeout_rate=0)
        await import_orders(client, factory, account, ["de"], clock=clock)
    assert_exactly_once(factory, expected)


async def test_since_and_until_bound_a_history_import_and_the_cursor_never_moves_back(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    factory: sessionmaker[Session],
) -> None:
    account = make_account(factory, sandbox)
    control.orders(2)
    async with open_client(sandbox, recorder) as client:
        expected = await kaufland_units(client)
        long_ago = datetime(2020, 1, 1, tzinfo=UTC)
        early = await import_orders(client, factory, account, ["de"], until=long_ago, clock=clock)
        assert early == OrderImportSummary()
        await import_orders(client, factory, account, ["de"], clock=clock)
        with factory() as session:
            position = session.scalars(select(SyncCursor.position)).one()
        await import_orders(
            client, factory, account, ["de"], since=long_ago, until=long_ago, clock=clock
        )
    assert_exactly_once(factory, expected)
    with factory() as session:
        assert session.scalars(select(SyncCursor.position)).one() == position


@pytest.fixture(scope="module")
def slow_sandbox() -> Iterator[RunningSandbox]:
    """A sandbox whose new order units stay ``open`` (addresses hidden) for ten minutes. The
    timestamp tolerance is wide so moving its clock does not fail our signatures."""
    config = SandboxConfig(
        sellers=[SellerCredentials(MAIN_KEY, MAIN_SECRET, ALL_STOREFRONTS)],
        seed="demo",
        open_delay=600.0,
        timestamp_tolerance=100_000,
        random_seed=99,
    )
    with RunningSandbox(config) as running:
        yield running


async def test_addresses_hidden_while_open_are_filled_in_once_released(
    slow_sandbox: RunningSandbox, factory: sessionmaker[Session]
) -> None:
    # No spec recorder here: the spec declares the addresses non-nullable, yet Kaufland (and the
    # sandbox) send null while a unit is ``open`` — exactly the case under test.
    control = Control(slow_sandbox.root_url)
    control.reset("demo")
    RateLimiter.clear_registry()
    try:
        account = make_account(factory, slow_sandbox)
        control.orders(2)
        async with open_client(slow_sandbox, None) as client:
            expected = await kaufland_units(client)
            await import_orders(client, factory, account, ["de"], clock=clock)
            with factory() as session:
                lines = session.scalars(select(OrderLine)).all()
                assert lines and all(line.addresses_hidden for line in lines)
                assert {line.status for line in lines} == {"open"}
                assert all(o.shipping_address is None for o in session.scalars(select(Order)))

            control.clock(700)  # past open_delay: the sandbox shows the addresses
            summary = await import_orders(client, factory, account, ["de"], clock=clock)
            again = await import_orders(client, factory, account, ["de"], clock=clock)
    finally:
        control.clock(0)
        control.close()

    assert summary.lines_updated == len(expected)
    assert again.addresses_released == 0 and again.lines_new == 0
    assert_exactly_once(factory, expected)
    with factory() as session:
        assert not any(line.addresses_hidden for line in session.scalars(select(OrderLine)))
        for order in session.scalars(select(Order)):
            assert order.shipping_address is not None and order.billing_address is not None
            assert order.status == "need_to_be_sent"
        emails = session.scalars(select(Customer.email)).all()
        assert emails and all(emails)
